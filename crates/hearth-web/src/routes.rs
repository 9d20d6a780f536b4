//! The route table: every URL Hearth answers, in one place.

use actix_web::web::{self, get, post};

use crate::handlers::{
    account, admin, assets, auth, boards, conversations, email, feeds, groups, help, home, leaving,
    mail_settings, meetings, members, metrics, moderation, notifications, posts, probes, search,
    setup, threads, unread,
};

pub fn configure(routes: &mut web::ServiceConfig) {
    routes
        .route("/", get().to(home::show))
        // Probes: no session, no cookies, not cached (`handlers::probes`)
        .route("/healthz", get().to(probes::alive))
        .route("/readyz", get().to(probes::ready))
        // Prometheus, with a bearer token; a 404 unless `[metrics] enabled` (`handlers::metrics`)
        .route(metrics::PATH, get().to(metrics::scrape))
        .route("/static/{path:.*}", get().to(assets::serve))
        .route("/favicon.ico", get().to(assets::favicon))
        .route("/robots.txt", get().to(assets::robots))
        .route("/help", get().to(help::show))
        .route("/search", get().to(search::show))
        // Accounts
        .route("/register", get().to(auth::register_form))
        .route("/register", post().to(auth::register))
        .route("/signin", get().to(auth::sign_in_form))
        .route("/signin", post().to(auth::sign_in))
        .route("/signout", post().to(auth::sign_out))
        // E-mail: a member's address and its verification, a password reset by mail
        .route("/settings/email", get().to(email::address_form))
        .route("/settings/email", post().to(email::save_address))
        .route("/settings/email/remove", post().to(email::remove_address))
        .route("/email/verify/{token}", get().to(email::verify_form))
        .route("/email/verify/{token}", post().to(email::verify))
        .route("/forgot/email", get().to(email::forgot_form))
        .route("/forgot/email", post().to(email::forgot))
        .route("/forgot/email/{token}", get().to(email::new_password_form))
        .route("/forgot/email/{token}", post().to(email::set_new_password))
        .route("/setup/{token}", get().to(setup::form))
        .route("/setup/{token}", post().to(setup::create_admin))
        .route("/u/{username}", get().to(members::profile))
        .route(
            "/u/{username}/{verb:mute|unmute}",
            post().to(members::set_muted),
        )
        .route(
            "/u/{username}/{verb:warn|suspend|ban}",
            post().to(moderation::members::member_action),
        )
        .route("/notifications", get().to(notifications::list))
        .route("/notifications/read", post().to(notifications::mark_all))
        .route(
            "/notifications/{id}/read",
            post().to(notifications::mark_one),
        )
        .route("/notices", get().to(notifications::old_notices))
        .route("/settings", get().to(members::settings_form))
        .route("/settings", post().to(members::save_settings))
        .route(
            "/settings/notifications",
            post().to(members::save_notification_settings),
        )
        .route("/settings/password", post().to(account::change_password))
        .route(
            "/settings/sessions/end-others",
            post().to(account::end_other_sessions),
        )
        .route(
            "/settings/sessions/{id}/end",
            post().to(account::end_session),
        )
        .route(
            "/settings/recovery-codes",
            post().to(account::regenerate_codes),
        )
        .route("/recovery-codes", get().to(account::show_codes))
        .route("/forgot-password", get().to(account::forgot_form))
        .route("/forgot-password", post().to(account::forgot))
        .route("/settings/mail", post().to(mail_settings::save))
        // The one-click unsubscribe link of notification mail: no sign-in, and its POST is
        // the one form the CSRF check lets through (`viewer::is_one_click_unsubscribe`).
        .route(
            "/unsubscribe/{token}",
            get().to(mail_settings::unsubscribe_form),
        )
        .route(
            "/unsubscribe/{token}",
            post().to(mail_settings::unsubscribe),
        )
        // Leaving: deleting or anonymising one's account, and exporting one's data
        .route("/settings/leave", get().to(leaving::leave_form))
        .route("/settings/leave", post().to(leaving::leave))
        .route("/settings/leaving", get().to(leaving::pending))
        .route("/settings/leaving/cancel", post().to(leaving::cancel))
        .route("/left", get().to(leaving::left))
        .route("/settings/export", get().to(leaving::export_form))
        .route("/settings/export", post().to(leaving::export))
        // Groups: the directory, joining, members, editing, proposals
        .route("/groups", get().to(groups::directory))
        .route("/groups/propose", get().to(groups::propose_form))
        .route("/groups/propose", post().to(groups::propose))
        .route("/b/{slug}/join", post().to(groups::join))
        .route("/b/{slug}/leave", post().to(groups::leave))
        .route("/b/{slug}/members", get().to(groups::members))
        .route("/b/{slug}/members", post().to(groups::answer))
        .route("/b/{slug}/members/remove", post().to(groups::remove_member))
        .route("/b/{slug}/edit", get().to(groups::edit_form))
        .route("/b/{slug}/edit", post().to(groups::edit))
        .route("/admin/proposals", get().to(groups::review_proposals))
        .route("/admin/proposals/{id}", post().to(groups::answer_proposal))
        .route("/admin/categories", post().to(groups::save_category))
        // Boards, threads, posts
        .route("/b/{slug}", get().to(boards::show))
        .route("/b/{slug}/feed.atom", get().to(feeds::group_feed))
        .route("/b/{slug}/new", get().to(boards::new_thread_form))
        .route("/b/{slug}/new", post().to(boards::create_thread))
        .route("/b/{slug}/level", post().to(boards::set_level))
        .route("/t/{thread}", get().to(threads::show))
        // What is new for a member
        .route("/unread", get().to(unread::show))
        .route("/b/{slug}/read", post().to(unread::mark_group_read))
        .route("/t/{id}/feed.atom", get().to(feeds::thread_feed))
        .route("/t/{id}/reply", post().to(threads::reply))
        .route("/t/{id}/level", post().to(threads::set_level))
        .route("/p/{id}", get().to(posts::permalink))
        .route("/p/{id}/quote", get().to(threads::quote))
        .route("/p/{id}/react", post().to(posts::react))
        .route("/p/{id}/edit", get().to(posts::edit_form))
        .route("/p/{id}/edit", post().to(posts::edit))
        .route("/p/{id}/delete", get().to(posts::delete_form))
        .route("/p/{id}/delete", post().to(posts::delete))
        .route("/p/{id}/report", get().to(moderation::reports::report_form))
        .route("/p/{id}/report", post().to(moderation::reports::report))
        // Private conversations
        .route("/conversations", get().to(conversations::list))
        .route("/conversations/new", get().to(conversations::new_form))
        .route("/conversations/new", post().to(conversations::create))
        .route("/c/{id}", get().to(conversations::show))
        .route("/c/{id}/reply", post().to(conversations::reply))
        .route("/c/{id}/moderate", post().to(conversations::moderate))
        .route("/c/{id}/report", post().to(conversations::report))
        // Meetings
        .route("/b/{slug}/meetings", get().to(meetings::listing::list))
        .route(
            "/b/{slug}/meetings.ics",
            get().to(meetings::calendar::group_feed),
        )
        .route(
            "/b/{slug}/meetings/new",
            get().to(meetings::schedule::new_form),
        )
        .route(
            "/b/{slug}/meetings/new",
            post().to(meetings::schedule::create),
        )
        .route("/m/{id}", get().to(meetings::meeting::show))
        .route(
            "/m/{id}/meeting.ics",
            get().to(meetings::calendar::one_meeting),
        )
        .route("/m/{id}/edit", get().to(meetings::schedule::edit_form))
        .route("/m/{id}/edit", post().to(meetings::schedule::update))
        .route("/m/{id}/cancel", get().to(meetings::schedule::cancel_form))
        .route(
            "/m/{id}/cancel",
            post().to(meetings::schedule::cancel_series),
        )
        .route(
            "/m/{id}/o/{key}/move",
            get().to(meetings::schedule::move_form),
        )
        .route(
            "/m/{id}/o/{key}/move",
            post().to(meetings::schedule::move_occurrence),
        )
        .route(
            "/m/{id}/o/{key}/cancel",
            post().to(meetings::schedule::cancel_occurrence),
        )
        .route("/m/{id}/o/{key}/rsvp", post().to(meetings::meeting::rsvp))
        .route("/calendar", get().to(meetings::calendar::calendar_page))
        .route(
            "/calendar/reset",
            post().to(meetings::calendar::reset_calendar),
        )
        .route(
            "/calendar/{token}.ics",
            get().to(meetings::calendar::member_feed),
        )
        // Moderation
        .route("/review", get().to(moderation::queue::site_queue))
        .route(
            "/review/reporters/{id}/dismiss",
            post().to(moderation::queue::dismiss_reports_from),
        )
        .route("/log", get().to(moderation::log::site_log))
        .route(
            "/moderation/health",
            get().to(moderation::health::dashboard),
        )
        .route(
            "/moderation/unanswered",
            get().to(moderation::health::unanswered),
        )
        .route("/b/{slug}/review", get().to(moderation::queue::board_queue))
        .route("/b/{slug}/log", get().to(moderation::log::board_log))
        .route(
            "/b/{slug}/settings",
            get().to(moderation::settings::board_settings),
        )
        .route(
            "/b/{slug}/settings",
            post().to(moderation::settings::save_board_settings),
        )
        .route(
            "/b/{slug}/facilitators",
            post().to(moderation::settings::set_facilitator),
        )
        .route("/p/{id}/moderate", post().to(moderation::queue::decide))
        .route(
            "/t/{id}/moderate",
            post().to(moderation::threads::thread_action),
        )
        // Administration
        .route("/admin", get().to(admin::overview))
        .route("/admin/boards/new", get().to(admin::new_board_form))
        .route("/admin/boards/new", post().to(admin::create_board))
        .route("/admin/watched-words", get().to(admin::watched_words))
        .route("/admin/watched-words", post().to(admin::add_watched_word))
        .route(
            "/admin/watched-words/{id}/delete",
            post().to(admin::remove_watched_word),
        );
}
