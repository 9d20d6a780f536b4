//! A member leaving: asking to delete or anonymise their account (`request`), a cooling-off
//! period in which signing in offers to `cancel`, then the worker in `hearth serve` carrying it
//! out (`carry_out_due`), one transaction per member. And the purge of deleted posts' text
//! once their retention period is over (`purge_deleted_text`).
//!
//! What stays of a member who left is their `members` row, as a tombstone: every post,
//! thread, log line and conversation that names them by id keeps pointing at something, and is
//! shown as "a former member". Its username becomes [`TOMBSTONE_PREFIX`] and the id (a name no
//! registration can take, as `~` is not allowed in usernames), its display name, pronouns, bio
//! and password hash are emptied, its status is `deleted`. The old username is held in
//! `retired_usernames` for `username_hold_days`, so nobody registers it soon after to pass as
//! them; after that it is free again.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Deserialize;

use crate::accounts::credentials::Confirmation;
use crate::db::schema::{
    account_departures, board_bans, board_facilitators, board_subscriptions, calendar_feeds,
    conversation_messages, conversation_reads, conversations, email_addresses, group_proposals,
    mail_links, meeting_reminders, meeting_rsvps, members, memberships, moderation_log, mutes,
    notification_mails, notification_preferences, notifications, outbox, post_revisions, posts,
    recovery_codes, retired_usernames, review_items, rules_acceptances, sessions, thread_reads,
    thread_subscriptions, threads,
};
use crate::db::{lock_name, write_tx, DbConn};
use crate::error::{Error, Result};
use crate::forum::posts::{recount_board, recount_thread};
use crate::groups::memberships as groups_memberships;
use crate::ids::{BoardId, MemberId, PostId, ThreadId};
use crate::mail::MailKind;
use crate::model::{MemberStatus, Moderation, Publication, SiteRole, Thread};
use crate::policy::MemberActor;
use crate::text_enum::text_enum;

pub use crate::model::TOMBSTONE_PREFIX;

/// How many members one run of [`carry_out_due`] handles (the rest wait for the next run).
const DUE_PER_RUN: i64 = 50;
/// How many posts one run of [`purge_deleted_text`] empties.
const PURGED_PER_RUN: i64 = 1_000;

text_enum! {
    /// What happens to a leaving member's words.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum LeavingMode ("way of leaving") {
        /// Their posts' and messages' text goes (and every revision); each post keeps its
        /// place in its thread with "A post by a former member was removed".
        Delete = "delete",
        /// Their words stay, shown under "a former member".
        Anonymise = "anonymise",
    }
}

/// The operator's settings for leaving (`[leaving]`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeavingRules {
    /// Days between asking and the account going, in which signing in offers to cancel.
    pub cooling_off_days: u32,
    /// Days a deleted post's text (and its revisions) is kept before it is purged: for the
    /// moderators, should the post have been reported.
    pub deleted_text_days: u32,
    /// Days the username of a member who left cannot be registered by anyone.
    pub username_hold_days: u32,
    /// How many times a day a member may download their data.
    pub exports_per_day: u32,
}

impl Default for LeavingRules {
    fn default() -> Self {
        LeavingRules {
            cooling_off_days: 7,
            deleted_text_days: 30,
            username_hold_days: 365,
            exports_per_day: 3,
        }
    }
}

/// A request to leave, waiting for its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub mode: LeavingMode,
    pub requested_at: NaiveDateTime,
    /// When the worker carries it out.
    pub due_at: NaiveDateTime,
}

fn days(n: u32) -> TimeDelta {
    TimeDelta::days(i64::from(n))
}

/// The member's request to leave, if one waits.
pub fn pending(conn: &mut DbConn, member_id: MemberId) -> Result<Option<Departure>> {
    let found: Option<(String, NaiveDateTime, NaiveDateTime)> = account_departures::table
        .find(member_id)
        .select((
            account_departures::mode,
            account_departures::requested_at,
            account_departures::due_at,
        ))
        .get_result(conn)
        .optional()?;
    found
        .map(|(mode, requested_at, due_at)| {
            Ok(Departure {
                mode: LeavingMode::try_from(mode).map_err(Error::Internal)?,
                requested_at,
                due_at,
            })
        })
        .transpose()
}

fn last_admin_error() -> Error {
    Error::invalid(
        "mode",
        "you are this site's only administrator, so your account cannot be deleted yet: \
         another administrator must exist first (the operator can make one with \
         `hearth admin create`)",
    )
}

/// Whether `member_id` is an admin and no other admin would be left: admins who asked to
/// leave themselves do not count.
pub(crate) fn is_last_admin(conn: &mut DbConn, member_id: MemberId) -> Result<bool> {
    let role: String = members::table
        .find(member_id)
        .select(members::site_role)
        .get_result(conn)?;
    if role != SiteRole::Admin.as_str() {
        return Ok(false);
    }
    let leaving = account_departures::table.select(account_departures::member_id);
    let others: i64 = members::table
        .filter(members::site_role.eq(SiteRole::Admin.as_str()))
        .filter(members::status.ne(MemberStatus::Deleted.as_str()))
        .filter(members::id.ne(member_id))
        .filter(diesel::dsl::not(members::id.eq_any(leaving)))
        .count()
        .get_result(conn)?;
    Ok(others == 0)
}

/// The member asks to leave, with their password (counted like a sign-in: see
/// [`Confirmation`]; a wrong one is an error on the field `password`): the request is stored with its date
/// (`cooling_off_days` from now) and every session of theirs ends, this one too. Asking again
/// replaces the earlier request. The site's last administrator is refused.
pub fn request(
    conn: &mut DbConn,
    member: &MemberActor,
    mode: LeavingMode,
    password: Confirmation<'_>,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<Departure> {
    password.check(conn, &member.member, "password")?;
    let departure = Departure {
        mode,
        requested_at: now,
        due_at: now + days(rules.cooling_off_days),
    };
    write_tx(conn, |conn| record(conn, member.id, &departure))?;
    tracing::info!(member = member.id.0, "a member asked to leave");
    Ok(departure)
}

/// Inside a write transaction: stores the request (replacing an earlier one), ends every
/// session of the member and retires every mailed link of theirs (a reset link must not sign
/// anyone back in); refused for the last admin. Under the `site-admins` lock (see
/// [`lock_admins`]): two admins asking at once take turns, so the second sees the first's
/// request and both cannot pass.
fn record(conn: &mut DbConn, member_id: MemberId, departure: &Departure) -> Result<()> {
    lock_admins(conn)?;
    if is_last_admin(conn, member_id)? {
        return Err(last_admin_error());
    }
    diesel::delete(account_departures::table.find(member_id)).execute(conn)?;
    diesel::insert_into(account_departures::table)
        .values((
            account_departures::member_id.eq(member_id),
            account_departures::mode.eq(departure.mode.as_str()),
            account_departures::requested_at.eq(departure.requested_at),
            account_departures::due_at.eq(departure.due_at),
        ))
        .execute(conn)?;
    crate::accounts::sessions::end_all_in(conn, member_id)?;
    crate::mail::links::retire_all_for(conn, member_id, departure.requested_at)?;
    Ok(())
}

/// The lock every decision on who stays an administrator takes first, inside its
/// transaction: asking to leave, carrying a departure out (which takes the role away), an
/// admin's role changed (`moderation::roles::set_site_role`). On
/// PostgreSQL an advisory lock, since READ COMMITTED would let two transactions count the
/// same admins; SQLite has its one writer.
pub(crate) fn lock_admins(conn: &mut DbConn) -> Result<()> {
    lock_name(conn, "site-admins")
}

/// The member changed their mind: their request is gone. False when there was none (already
/// cancelled, in another tab).
pub fn cancel(conn: &mut DbConn, member: &MemberActor) -> Result<bool> {
    write_tx(conn, |conn| {
        let deleted = diesel::delete(account_departures::table.find(member.id)).execute(conn)?;
        Ok(deleted > 0)
    })
}

/// The worker's turn: every request whose date has come is carried out, each member in a
/// transaction of its own (a failure leaves that member's request for the next run, and does
/// not stop the others). Returns how many members left.
pub fn carry_out_due(conn: &mut DbConn, rules: &LeavingRules, now: NaiveDateTime) -> Result<usize> {
    let due: Vec<MemberId> = account_departures::table
        .filter(account_departures::due_at.le(now))
        .order(account_departures::due_at.asc())
        .limit(DUE_PER_RUN)
        .select(account_departures::member_id)
        .load(conn)?;
    let mut done = 0;
    for member_id in due {
        match write_tx(conn, |conn| carry_out(conn, member_id, rules, now)) {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(member = member_id.0, error = %e, "a departure failed"),
        }
    }
    Ok(done)
}

/// Inside a transaction: one member leaves. False when there was nothing to do (another node
/// did it, or the member cancelled meanwhile), or when they are the last admin after all: then
/// the request stays (carried out on a later run, once another admin exists) and the member is
/// told, once, why it waits and that they may cancel it.
fn carry_out(
    conn: &mut DbConn,
    member_id: MemberId,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<bool> {
    lock_admins(conn)?;
    let due: Option<(String, NaiveDateTime)> = account_departures::table
        .find(member_id)
        .filter(account_departures::due_at.le(now))
        .select((account_departures::mode, account_departures::requested_at))
        .get_result(conn)
        .optional()?;
    let Some((mode, requested_at)) = due else {
        return Ok(false);
    };
    let mode = LeavingMode::try_from(mode).map_err(Error::Internal)?;
    if is_last_admin(conn, member_id)? {
        // `request` refuses this, so it only happens if the other admins lost the role since.
        tell_last_admin_once(conn, member_id, requested_at, now)?;
        tracing::warn!(
            member = member_id.0,
            "the last administrator's departure waits for another administrator"
        );
        return Ok(false);
    }
    // Claimed by deleting the row: of two nodes, the second deletes nothing.
    let claimed = diesel::delete(account_departures::table.find(member_id)).execute(conn)?;
    if claimed == 0 {
        return Ok(false);
    }
    // Every notification row the departure may change, locked at once in the one order
    // (`notifications::in_lock_order!`): its steps change them statement by statement (a post
    // withdrawn after another), which in their own orders could each wait for a row a member
    // reading their notifications holds while that member waits for one they hold.
    crate::notifications::in_lock_order!(
        conn,
        notifications::table.filter(
            notifications::member_id
                .eq(member_id)
                .or(notifications::read_at.is_null().and(
                    notifications::actor_id
                        .eq(member_id)
                        .or(notifications::post_id.eq_any(
                            posts::table
                                .filter(posts::author_id.eq(member_id))
                                .select(posts::id.nullable())
                        ))
                        .or(notifications::thread_id.eq_any(
                            posts::table
                                .filter(posts::author_id.eq(member_id))
                                .select(posts::thread_id.nullable())
                        ))
                ))
        )
    );
    if mode == LeavingMode::Delete {
        delete_words(conn, member_id, now)?;
    }
    forget_presence(conn, member_id, mode, now)?;
    tombstone(conn, member_id, rules, now)?;
    tracing::info!(member = member_id.0, mode = mode.as_str(), "a member left");
    Ok(true)
}

/// What the last admin is told when their departure cannot be carried out.
pub const LAST_ADMIN_NOTICE: &str = "Your account was not deleted on the date you chose: you \
     are now this site's only administrator, and the site needs one. Your request still \
     waits, and is carried out once another administrator exists (the site's operator can \
     make one); you can also cancel it under Settings.";

/// The notice for the last admin, unless this request was already the cause of one.
fn tell_last_admin_once(
    conn: &mut DbConn,
    member_id: MemberId,
    requested_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<()> {
    let told: i64 = notifications::table
        .filter(notifications::member_id.eq(member_id))
        .filter(notifications::kind.eq(crate::notifications::Kind::Moderation.as_str()))
        .filter(notifications::body.eq(LAST_ADMIN_NOTICE))
        .filter(notifications::created_at.ge(requested_at))
        .count()
        .get_result(conn)?;
    if told == 0 {
        crate::moderation::notices::send(conn, member_id, LAST_ADMIN_NOTICE, now)?;
    }
    Ok(())
}

/// Everything that ties the member to the site as a person: sessions, memberships, answers,
/// feeds, address and mail, notifications, levels, mutes, read markers, roles.
fn forget_presence(
    conn: &mut DbConn,
    member_id: MemberId,
    mode: LeavingMode,
    now: NaiveDateTime,
) -> Result<()> {
    crate::accounts::sessions::end_all_in(conn, member_id)?;
    let boards: Vec<BoardId> = memberships::table
        .filter(memberships::member_id.eq(member_id))
        .select(memberships::board_id)
        .load(conn)?;
    for board_id in boards {
        // Keeps each group's member count and meeting waiting lists right.
        groups_memberships::end_membership(conn, board_id, member_id, now)?;
    }
    diesel::delete(meeting_rsvps::table.filter(meeting_rsvps::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(meeting_reminders::table.filter(meeting_reminders::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(calendar_feeds::table.filter(calendar_feeds::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(email_addresses::table.filter(email_addresses::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(outbox::table.filter(outbox::member_id.eq(member_id))).execute(conn)?;
    diesel::delete(mail_links::table.filter(mail_links::member_id.eq(member_id))).execute(conn)?;
    diesel::delete(notification_mails::table.filter(notification_mails::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::member_id.eq(member_id)))
        .execute(conn)?;
    crate::notifications::in_lock_order!(
        conn,
        notifications::table.filter(notifications::member_id.eq(member_id)),
        |rows| diesel::delete(rows).execute(conn)
    )?;
    // Under delete, what they caused for others and nobody read yet goes: a mention, their
    // messages (rows about posts were settled by `delete_words` through `post_withdrawn`, so
    // a row still naming them is about words that are gone). Under anonymise the words stay,
    // and so do the rows about them, shown from "a former member".
    if mode == LeavingMode::Delete {
        crate::notifications::in_lock_order!(
            conn,
            notifications::table
                .filter(notifications::actor_id.eq(member_id))
                .filter(notifications::read_at.is_null()),
            |rows| diesel::delete(rows).execute(conn)
        )?;
    }
    diesel::delete(
        thread_subscriptions::table.filter(thread_subscriptions::member_id.eq(member_id)),
    )
    .execute(conn)?;
    diesel::delete(board_subscriptions::table.filter(board_subscriptions::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(notification_preferences::table.find(member_id)).execute(conn)?;
    diesel::delete(
        mutes::table.filter(
            mutes::member_id
                .eq(member_id)
                .or(mutes::muted_id.eq(member_id)),
        ),
    )
    .execute(conn)?;
    diesel::delete(thread_reads::table.filter(thread_reads::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(conversation_reads::table.filter(conversation_reads::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(rules_acceptances::table.filter(rules_acceptances::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(board_facilitators::table.filter(board_facilitators::member_id.eq(member_id)))
        .execute(conn)?;
    diesel::delete(board_bans::table.filter(board_bans::member_id.eq(member_id))).execute(conn)?;
    // Their reports stay for the moderators, from nobody; under delete without their note.
    let reports = review_items::table.filter(review_items::reporter_id.eq(member_id));
    if mode == LeavingMode::Delete {
        diesel::update(reports)
            .set((
                review_items::reporter_id.eq(None::<MemberId>),
                review_items::note.eq(""),
            ))
            .execute(conn)?;
    } else {
        diesel::update(reports)
            .set(review_items::reporter_id.eq(None::<MemberId>))
            .execute(conn)?;
    }
    Ok(())
}

/// Under delete: the text of every post and message of theirs, and every revision of their
/// posts, goes now. Published posts become deleted ones (keeping their place in the thread),
/// and every count they were in is taken again. The moderation log keeps its lines about them
/// (what was decided, and why) without the excerpts of their words.
fn delete_words(conn: &mut DbConn, member_id: MemberId, now: NaiveDateTime) -> Result<()> {
    type Row = (PostId, ThreadId, i32, String, String);
    let theirs: Vec<Row> = posts::table
        .filter(posts::author_id.eq(member_id))
        .select((
            posts::id,
            posts::thread_id,
            posts::position,
            posts::state,
            posts::moderation,
        ))
        .load(conn)?;
    let ids: Vec<PostId> = theirs.iter().map(|r| r.0).collect();
    for chunk in ids.chunks(500) {
        diesel::delete(post_revisions::table.filter(post_revisions::post_id.eq_any(chunk)))
            .execute(conn)?;
    }
    // The posts that counted (published and visible), per thread.
    let mut counted: std::collections::BTreeMap<ThreadId, i64> = Default::default();
    let mut touched: std::collections::BTreeSet<ThreadId> = Default::default();
    for (_, thread_id, _, state, moderation) in &theirs {
        touched.insert(*thread_id);
        if state == Publication::Published.as_str() && moderation == Moderation::Visible.as_str() {
            *counted.entry(*thread_id).or_default() += 1;
        }
    }
    diesel::update(
        posts::table
            .filter(posts::author_id.eq(member_id))
            .filter(posts::state.eq(Publication::Published.as_str())),
    )
    .set((
        posts::state.eq(Publication::Deleted.as_str()),
        posts::deleted_at.eq(now),
    ))
    .execute(conn)?;
    diesel::update(posts::table.filter(posts::author_id.eq(member_id)))
        .set((
            posts::source.eq(""),
            posts::html.eq(""),
            posts::excerpt.eq(""),
        ))
        .execute(conn)?;
    // Their words leave the search index too (its rows hold them, as words or lexemes).
    for id in &ids {
        crate::search::index::forget_post(conn, *id)?;
    }
    diesel::update(members::table.find(member_id))
        .set(members::post_count.eq(0))
        .execute(conn)?;
    for thread_id in touched {
        let thread: Thread = threads::table
            .find(thread_id)
            .select(Thread::as_select())
            .get_result(conn)?;
        let post_delta = if thread.counts() {
            -counted.get(&thread_id).copied().unwrap_or(0)
        } else {
            0
        };
        let remaining: i64 = crate::forum::posts::published_in_thread(conn, thread.id, false)?;
        let mut thread_delta = 0;
        if remaining == 0 && thread.state == Publication::Published {
            // Nothing left to read: the thread goes, as when an author deletes a lone
            // opening post.
            diesel::update(threads::table.find(thread.id))
                .set(threads::state.eq(Publication::Deleted.as_str()))
                .execute(conn)?;
            thread_delta = if thread.counts() { -1 } else { 0 };
        }
        recount_thread(conn, &thread)?;
        recount_board(conn, thread.board_id, thread_delta, post_delta)?;
    }
    // Notifications last: rows are locked in the posting order.
    for (id, _, _, _, _) in &theirs {
        let post: crate::model::Post = posts::table
            .find(*id)
            .select(crate::model::Post::as_select())
            .get_result(conn)?;
        crate::notifications::post_withdrawn(conn, &post)?;
    }
    diesel::update(
        conversation_messages::table.filter(conversation_messages::author_id.eq(member_id)),
    )
    .set((
        conversation_messages::source.eq(""),
        conversation_messages::html.eq(""),
    ))
    .execute(conn)?;
    diesel::update(moderation_log::table.filter(moderation_log::member_id.eq(member_id)))
        .set(moderation_log::excerpt.eq(""))
        .execute(conn)?;
    delete_other_words(conn, member_id)
}

/// What a conversation a member who left under *delete* started is called instead of its
/// subject (their words): the others in it still list it, and a link needs a name.
pub const REMOVED_SUBJECT: &str = "A conversation started by a former member";

/// Under delete, after their posts: the rest of what they wrote. The titles (and slugs, made
/// from them) of the threads they started that are deleted (now that nothing is left in them,
/// or earlier); the subjects of conversations they started; their group proposals (the rows go:
/// a group made from one keeps its own name and description, which are the group's now); and
/// mail not sent yet that may quote them.
fn delete_other_words(conn: &mut DbConn, member_id: MemberId) -> Result<()> {
    diesel::update(
        threads::table
            .filter(threads::author_id.eq(member_id))
            .filter(threads::state.eq(Publication::Deleted.as_str())),
    )
    .set((threads::title.eq(""), threads::slug.eq("")))
    .execute(conn)?;
    diesel::update(conversations::table.filter(conversations::started_by.eq(member_id)))
        .set(conversations::subject.eq(REMOVED_SUBJECT))
        .execute(conn)?;
    diesel::delete(group_proposals::table.filter(group_proposals::proposer_id.eq(member_id)))
        .execute(conn)?;
    forget_unsent_mail_quoting(conn, member_id)
}

/// Notification and digest mail to anyone, not sent yet, that may quote the member: a mail
/// quotes posts, messages and titles written before it was queued and names whose they are,
/// so every such mail queued since the member first wrote anything and naming them (their
/// username or display name in its text) goes; their own mail goes in `forget_presence`. Mail
/// is not linked to what it quotes, so this may take a mail that only names a namesake; the
/// notifications it told of stay on each reader's page. Other members' mail stays.
fn forget_unsent_mail_quoting(conn: &mut DbConn, member_id: MemberId) -> Result<()> {
    let first_post: Option<NaiveDateTime> = posts::table
        .filter(posts::author_id.eq(member_id))
        .select(diesel::dsl::min(posts::created_at))
        .get_result(conn)?;
    let first_message: Option<NaiveDateTime> = conversation_messages::table
        .filter(conversation_messages::author_id.eq(member_id))
        .select(diesel::dsl::min(conversation_messages::created_at))
        .get_result(conn)?;
    let first_conversation: Option<NaiveDateTime> = conversations::table
        .filter(conversations::started_by.eq(member_id))
        .select(diesel::dsl::min(conversations::created_at))
        .get_result(conn)?;
    let Some(since) = [first_post, first_message, first_conversation]
        .into_iter()
        .flatten()
        .min()
    else {
        return Ok(());
    };
    let (username, display_name): (String, String) = members::table
        .find(member_id)
        .select((members::username, members::display_name))
        .get_result(conn)?;
    for name in [username, display_name] {
        if name.trim().chars().count() < 2 {
            continue;
        }
        let escaped = name
            .trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        diesel::delete(
            outbox::table
                .filter(outbox::sent_at.is_null())
                .filter(
                    outbox::kind
                        .eq_any([MailKind::Notification.as_str(), MailKind::Digest.as_str()]),
                )
                .filter(outbox::created_at.ge(since))
                .filter(outbox::text_body.like(format!("%{escaped}%")).escape('\\')),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// The member row becomes a tombstone (see the module's comment); the old name is held.
fn tombstone(
    conn: &mut DbConn,
    member_id: MemberId,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<()> {
    let old_name: String = members::table
        .find(member_id)
        .select(members::username_lower)
        .get_result(conn)?;
    let held_until = now + days(rules.username_hold_days);
    diesel::delete(retired_usernames::table.find(&old_name)).execute(conn)?;
    diesel::insert_into(retired_usernames::table)
        .values((
            retired_usernames::username_lower.eq(&old_name),
            retired_usernames::retired_at.eq(now),
            retired_usernames::held_until.eq(held_until),
        ))
        .execute(conn)?;
    let tombstone_name = format!("{TOMBSTONE_PREFIX}{}", member_id.0);
    diesel::update(members::table.find(member_id))
        .set((
            members::username.eq(&tombstone_name),
            members::username_lower.eq(&tombstone_name),
            members::display_name.eq(""),
            members::pronouns.eq(""),
            members::bio.eq(""),
            members::bio_html.eq(""),
            // No argon2 hash parses from this, so no password ever matches it.
            members::password_hash.eq("!"),
            members::site_role.eq(SiteRole::Member.as_str()),
            members::status.eq(MemberStatus::Deleted.as_str()),
            members::suspended_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    // Sessions were ended when they asked; one started since (signing in to cancel, then not
    // cancelling) ends here too.
    diesel::delete(sessions::table.filter(sessions::member_id.eq(member_id))).execute(conn)?;
    Ok(())
}

/// Whether a username is held for a member who left (see the module's comment).
pub fn username_held(conn: &mut DbConn, username_lower: &str, now: NaiveDateTime) -> Result<bool> {
    let n: i64 = retired_usernames::table
        .filter(retired_usernames::username_lower.eq(username_lower))
        .filter(retired_usernames::held_until.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The hourly purge: deleted posts (by their authors, or by a member leaving) whose retention
/// period is over lose their text and every revision, so it is gone from the database and not
/// only hidden. Posts the moderators hid are not deleted (they can be restored) and stay. A
/// deleted thread with no text left in any post loses its title and slug. Returns how many
/// posts were emptied.
pub fn purge_deleted_text(
    conn: &mut DbConn,
    rules: &LeavingRules,
    now: NaiveDateTime,
) -> Result<usize> {
    let before = now - days(rules.deleted_text_days);
    // Looked for outside a transaction: most runs find nothing and write nothing.
    let due: Vec<PostId> = posts::table
        .filter(posts::deleted_at.le(before))
        .filter(posts::state.eq(Publication::Deleted.as_str()))
        .filter(posts::source.ne("").or(posts::html.ne("")))
        .limit(PURGED_PER_RUN)
        .select(posts::id)
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    write_tx(conn, |conn| {
        diesel::delete(post_revisions::table.filter(post_revisions::post_id.eq_any(&due)))
            .execute(conn)?;
        let emptied = diesel::update(
            posts::table
                .filter(posts::id.eq_any(&due))
                .filter(posts::state.eq(Publication::Deleted.as_str())),
        )
        .set((
            posts::source.eq(""),
            posts::html.eq(""),
            posts::excerpt.eq(""),
        ))
        .execute(conn)?;
        // A deleted thread whose every post is empty now loses its title too (and the slug
        // made from it); looked for only among the threads of the posts just emptied.
        let touched: Vec<ThreadId> = posts::table
            .filter(posts::id.eq_any(&due))
            .select(posts::thread_id)
            .distinct()
            .load(conn)?;
        let holding_text: Vec<ThreadId> = posts::table
            .filter(posts::thread_id.eq_any(&touched))
            .filter(posts::source.ne("").or(posts::html.ne("")))
            .select(posts::thread_id)
            .distinct()
            .load(conn)?;
        let emptied_threads: Vec<ThreadId> = touched
            .into_iter()
            .filter(|id| !holding_text.contains(id))
            .collect();
        diesel::update(
            threads::table
                .filter(threads::id.eq_any(&emptied_threads))
                .filter(threads::state.eq(Publication::Deleted.as_str())),
        )
        .set((threads::title.eq(""), threads::slug.eq("")))
        .execute(conn)?;
        Ok(emptied)
    })
}

#[cfg(test)]
mod tests;
