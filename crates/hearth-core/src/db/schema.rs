//! The tables, shared by both backends; the SQL lives in `migrations/{sqlite,postgres}`.

diesel::table! {
    members (id) {
        id -> BigInt,
        username -> Text,
        username_lower -> Text,
        display_name -> Text,
        pronouns -> Text,
        bio -> Text,
        bio_html -> Text,
        time_zone -> Text,
        password_hash -> Text,
        site_role -> Text,
        status -> Text,
        suspended_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        post_count -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        member_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        device_hint -> Text,
        last_seen_at -> Nullable<Timestamp>,
        flash -> Nullable<Text>,
    }
}

diesel::table! {
    setup_tokens (token_hash) {
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    boards (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Text,
        ground_rules -> Text,
        ground_rules_html -> Text,
        ground_rules_version -> Integer,
        visibility -> Text,
        position -> Integer,
        thread_count -> BigInt,
        post_count -> BigInt,
        last_activity_at -> Nullable<Timestamp>,
        last_thread_id -> Nullable<BigInt>,
        created_by -> BigInt,
        created_at -> Timestamp,
        premod_first_posts -> Integer,
        category_id -> Nullable<BigInt>,
        tags -> Text,
        language -> Text,
        meeting_format -> Text,
        city -> Text,
        country -> Text,
        time_zone -> Text,
        member_count -> BigInt,
        search_text -> Text,
        place_text -> Text,
    }
}

diesel::table! {
    threads (id) {
        id -> BigInt,
        board_id -> BigInt,
        author_id -> BigInt,
        title -> Text,
        slug -> Text,
        pinned -> Bool,
        locked -> Bool,
        state -> Text,
        reply_count -> BigInt,
        last_position -> Integer,
        created_at -> Timestamp,
        last_activity_at -> Timestamp,
        last_poster_id -> Nullable<BigInt>,
        moderation -> Text,
        slow_mode_seconds -> Integer,
        lock_reason -> Nullable<Text>,
    }
}

diesel::table! {
    posts (id) {
        id -> BigInt,
        thread_id -> BigInt,
        author_id -> BigInt,
        position -> Integer,
        source -> Text,
        html -> Text,
        render_version -> Integer,
        state -> Text,
        submission_key -> Text,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        moderation -> Text,
        hidden_reason -> Text,
        excerpt -> Nullable<Text>,
    }
}

diesel::table! {
    post_revisions (id) {
        id -> BigInt,
        post_id -> BigInt,
        editor_id -> BigInt,
        source -> Text,
        html -> Text,
        render_version -> Integer,
        replaced_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> members (member_id));
diesel::joinable!(threads -> boards (board_id));
diesel::joinable!(boards -> categories (category_id));
diesel::joinable!(posts -> threads (thread_id));
diesel::joinable!(posts -> members (author_id));
diesel::joinable!(post_revisions -> posts (post_id));
diesel::joinable!(thread_reads -> threads (thread_id));

diesel::allow_tables_to_appear_in_same_query!(
    members,
    sessions,
    setup_tokens,
    boards,
    threads,
    posts,
    post_revisions,
    mutes,
    board_facilitators,
    board_bans,
    review_items,
    moderation_log,
    notifications,
    notification_jobs,
    thread_subscriptions,
    board_subscriptions,
    notification_preferences,
    meeting_reminders,
    watched_words,
    sign_in_failures,
    categories,
    memberships,
    ground_rules_versions,
    rules_acceptances,
    group_proposals,
    meetings,
    meeting_exceptions,
    meeting_rsvps,
    calendar_feeds,
    thread_reads,
    conversations,
    conversation_messages,
    conversation_reads,
);

diesel::table! {
    mutes (member_id, muted_id) {
        member_id -> BigInt,
        muted_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    board_facilitators (board_id, member_id) {
        board_id -> BigInt,
        member_id -> BigInt,
        added_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    board_bans (board_id, member_id) {
        board_id -> BigInt,
        member_id -> BigInt,
        until -> Nullable<Timestamp>,
        reason -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    review_items (id) {
        id -> BigInt,
        board_id -> BigInt,
        post_id -> Nullable<BigInt>,
        conversation_id -> Nullable<BigInt>,
        message_id -> Nullable<BigInt>,
        kind -> Text,
        reason -> Text,
        note -> Text,
        reporter_id -> Nullable<BigInt>,
        priority -> Integer,
        state -> Text,
        created_at -> Timestamp,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Timestamp>,
        resolution -> Text,
        resolution_note -> Text,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> BigInt,
        board_id -> Nullable<BigInt>,
        actor_id -> BigInt,
        action -> Text,
        post_id -> Nullable<BigInt>,
        thread_id -> Nullable<BigInt>,
        member_id -> Nullable<BigInt>,
        reason -> Text,
        excerpt -> Text,
        at_risk -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        member_id -> BigInt,
        kind -> Text,
        open_key -> Nullable<BigInt>,
        board_id -> Nullable<BigInt>,
        thread_id -> Nullable<BigInt>,
        post_id -> Nullable<BigInt>,
        first_position -> Nullable<Integer>,
        last_position -> Nullable<Integer>,
        conversation_id -> Nullable<BigInt>,
        meeting_id -> Nullable<BigInt>,
        actor_id -> Nullable<BigInt>,
        count -> Integer,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        mail_pending_since -> Nullable<Timestamp>,
        mailed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_jobs (id) {
        id -> BigInt,
        post_id -> BigInt,
        mentions -> Text,
        replies_to -> Text,
        shown_before -> Bool,
        done_through -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    thread_subscriptions (thread_id, member_id) {
        member_id -> BigInt,
        thread_id -> BigInt,
        level -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    board_subscriptions (board_id, member_id) {
        member_id -> BigInt,
        board_id -> BigInt,
        level -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_preferences (member_id) {
        member_id -> BigInt,
        started_level -> Text,
        replied_level -> Text,
        updated_at -> Timestamp,
        reminder_minutes -> Integer,
        email_mode -> Text,
        digest_hour -> Integer,
        digest_weekday -> Integer,
        quiet_from -> Nullable<Integer>,
        quiet_to -> Nullable<Integer>,
        private_words -> Bool,
    }
}

diesel::table! {
    meeting_reminders (meeting_id, occurrence_local, member_id) {
        meeting_id -> BigInt,
        occurrence_local -> Timestamp,
        member_id -> BigInt,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    watched_words (id) {
        id -> BigInt,
        phrase -> Text,
        phrase_lower -> Text,
        action -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        key_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    categories (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        position -> Integer,
    }
}

diesel::table! {
    memberships (board_id, member_id) {
        board_id -> BigInt,
        member_id -> BigInt,
        state -> Text,
        message -> Text,
        created_at -> Timestamp,
        joined_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ground_rules_versions (board_id, version) {
        board_id -> BigInt,
        version -> Integer,
        rules -> Text,
        rules_html -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rules_acceptances (board_id, member_id, version) {
        board_id -> BigInt,
        member_id -> BigInt,
        version -> Integer,
        accepted_at -> Timestamp,
    }
}

diesel::table! {
    group_proposals (id) {
        id -> BigInt,
        proposer_id -> BigInt,
        name -> Text,
        slug -> Text,
        description -> Text,
        ground_rules -> Text,
        category_id -> Nullable<BigInt>,
        meeting_format -> Text,
        city -> Text,
        country -> Text,
        language -> Text,
        time_zone -> Text,
        visibility -> Text,
        why -> Text,
        state -> Text,
        mentor_id -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Text,
        board_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> BigInt,
        board_id -> BigInt,
        title -> Text,
        agenda -> Text,
        agenda_html -> Text,
        starts_local -> Timestamp,
        time_zone -> Text,
        duration_minutes -> Integer,
        repeat -> Text,
        interval_weeks -> Integer,
        month_week -> Nullable<Integer>,
        until_date -> Nullable<Date>,
        occurrence_count -> Nullable<Integer>,
        online_url -> Text,
        place -> Text,
        capacity -> Nullable<Integer>,
        state -> Text,
        series_ends_at -> Nullable<Timestamp>,
        sequence -> Integer,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meeting_exceptions (meeting_id, original_local) {
        meeting_id -> BigInt,
        original_local -> Timestamp,
        cancelled -> Bool,
        moved_to_local -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meeting_rsvps (meeting_id, occurrence_local, member_id) {
        meeting_id -> BigInt,
        occurrence_local -> Timestamp,
        member_id -> BigInt,
        response -> Text,
        responded_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (member_id) {
        member_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    site_secrets (name) {
        name -> Text,
        secret -> Text,
    }
}

diesel::table! {
    recent_registrations (id) {
        id -> BigInt,
        key_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// How far a member has read a thread (`forum::reads`).
    thread_reads (member_id, thread_id) {
        member_id -> BigInt,
        thread_id -> BigInt,
        last_read_position -> Integer,
        read_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        board_id -> BigInt,
        kind -> Text,
        started_by -> BigInt,
        member_id -> BigInt,
        subject -> Text,
        post_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_activity_at -> Timestamp,
        last_message_id -> BigInt,
        message_count -> Integer,
    }
}

diesel::table! {
    conversation_messages (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        author_id -> BigInt,
        source -> Text,
        html -> Text,
        render_version -> Integer,
        created_at -> Timestamp,
        moderation -> Text,
        hidden_reason -> Text,
        submission_key -> Nullable<Text>,
    }
}

diesel::table! {
    conversation_reads (conversation_id, member_id) {
        conversation_id -> BigInt,
        member_id -> BigInt,
        last_read_message_id -> BigInt,
    }
}

diesel::joinable!(conversation_messages -> conversations (conversation_id));
diesel::joinable!(conversations -> boards (board_id));
diesel::joinable!(conversation_messages -> members (author_id));

diesel::table! {
    email_addresses (member_id) {
        member_id -> BigInt,
        address -> Text,
        address_lower -> Text,
        verified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        member_id -> Nullable<BigInt>,
        to_address -> Text,
        kind -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        unsubscribe_url -> Nullable<Text>,
        message_token -> Text,
        created_at -> Timestamp,
        send_after -> Timestamp,
        attempts -> Integer,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(email_addresses -> members (member_id));
diesel::allow_tables_to_appear_in_same_query!(email_addresses, members, outbox);

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        member_id -> BigInt,
        code_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// A member who asked to leave, until the worker carries it out (`accounts::leaving`).
    account_departures (member_id) {
        member_id -> BigInt,
        mode -> Text,
        requested_at -> Timestamp,
        due_at -> Timestamp,
    }
}

diesel::table! {
    retired_usernames (username_lower) {
        username_lower -> Text,
        retired_at -> Timestamp,
        held_until -> Timestamp,
    }
}

diesel::table! {
    data_exports (id) {
        id -> BigInt,
        member_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notification_mails (member_id, period) {
        member_id -> BigInt,
        period -> Text,
        digest -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_links (id) {
        id -> BigInt,
        member_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        address_lower -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    mail_requests (id) {
        id -> BigInt,
        key_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(recovery_codes -> members (member_id));
diesel::allow_tables_to_appear_in_same_query!(recovery_codes, members);
diesel::joinable!(mail_links -> members (member_id));
diesel::allow_tables_to_appear_in_same_query!(mail_links, members);

diesel::allow_tables_to_appear_in_same_query!(email_addresses, notification_preferences);
diesel::allow_tables_to_appear_in_same_query!(email_addresses, notifications);
diesel::allow_tables_to_appear_in_same_query!(notification_mails, email_addresses);
diesel::allow_tables_to_appear_in_same_query!(notification_mails, members);
diesel::allow_tables_to_appear_in_same_query!(notification_mails, notification_preferences);
diesel::allow_tables_to_appear_in_same_query!(notification_mails, notifications);

diesel::allow_tables_to_appear_in_same_query!(account_departures, members);

diesel::table! {
    reactions (post_id, member_id, kind) {
        post_id -> BigInt,
        member_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
        taken_back_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(reactions -> posts (post_id));
diesel::allow_tables_to_appear_in_same_query!(reactions, posts);
diesel::allow_tables_to_appear_in_same_query!(reactions, members);

diesel::table! {
    /// How often a subject did something limited, per window (`db::counters`).
    action_counts (subject, window_start) {
        subject -> Text,
        window_start -> Timestamp,
        n -> Integer,
    }
}
