//! A member mutes another: their posts collapse for that member only; never oneself or staff.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

#[test]
fn a_muted_members_posts_collapse_for_the_one_who_muted_only() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    let thread = ana.start_thread("pet-loss", "Welcome", "Hello");
    let path = thread.path();
    ben.reply_to(&path, "Something ana would rather not read")
        .assert_redirect();

    let profile = ana.visit("/u/ben");
    ana.submit(&profile, "/u/ben/mute", &[]).assert_redirect();
    let for_ana = ana.visit(&path);
    assert_eq!(for_ana.count("details.post-muted"), 1);
    assert_eq!(
        for_ana.texts("details.post-muted summary"),
        ["A post by ben, whom you muted"]
    );
    // Nobody else is affected.
    assert_eq!(admin.visit(&path).count("details.post-muted"), 0);
    assert_eq!(app.browser().visit(&path).count("details.post-muted"), 0);

    let profile = ana.visit("/u/ben");
    assert_eq!(profile.texts("main form button"), ["Unmute"]);
    ana.submit(&profile, "/u/ben/unmute", &[]).assert_redirect();
    assert_eq!(ana.visit(&path).count("details.post-muted"), 0);
}

#[test]
fn nobody_mutes_themselves_or_a_moderator() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    app.member("moe", SiteRole::Moderator);
    assert_eq!(ana.visit("/u/ana").count("main form"), 0);
    assert_eq!(ana.visit("/u/moe").count("main form"), 0);
    let token = ana
        .visit("/")
        .attrs("input[name=csrf_token]", "value")
        .remove(0);
    ana.post("/u/moe/mute", &[("csrf_token", &token)])
        .assert_status(403);
    ana.post("/u/ana/mute", &[("csrf_token", &token)])
        .assert_status(403);
    app.browser().get("/u/nobody/mute").assert_status(404);
}

/// The group page's thread rows keep a muted member's words out as the thread page does: the
/// row says whose post it is, never its excerpt, for the one who muted them only.
#[test]
fn a_muted_members_opening_post_shows_no_excerpt_on_the_group_page() {
    let app = TestApp::new();
    let admin = app.with_board("pet-loss");
    let ana = app.signed_in("ana", SiteRole::Member);
    let ben = app.signed_in("ben", SiteRole::Member);
    ben.start_thread(
        "pet-loss",
        "About my dog",
        "Words ana would rather not read",
    );
    let profile = ana.visit("/u/ben");
    ana.submit(&profile, "/u/ben/mute", &[]).assert_redirect();

    let for_ana = ana.visit("/b/pet-loss");
    assert_eq!(for_ana.texts(".thread-item h2 a"), ["About my dog"]);
    assert!(
        !for_ana.body.contains("rather not read"),
        "{}",
        for_ana.body
    );
    assert_eq!(
        for_ana.texts(".thread-item .excerpt"),
        ["A post by ben, whom you muted"]
    );
    // Everyone else still reads the excerpt.
    for other in [&admin, &app.browser()] {
        assert_eq!(
            other.visit("/b/pet-loss").texts(".thread-item .excerpt"),
            ["Words ana would rather not read"]
        );
    }
    // Unmuted, the words are back.
    let profile = ana.visit("/u/ben");
    ana.submit(&profile, "/u/ben/unmute", &[]).assert_redirect();
    assert_eq!(
        ana.visit("/b/pet-loss").texts(".thread-item .excerpt"),
        ["Words ana would rather not read"]
    );
}
