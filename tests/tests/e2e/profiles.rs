//! Members' profiles: edited by their owner, seen by everyone.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

#[test]
fn members_edit_their_profile_and_others_see_it() {
    let app = TestApp::new();
    let ana = app.signed_in("ana", SiteRole::Member);
    let reply = ana.fill(
        "/settings",
        "/settings",
        &[
            ("display_name", "Ana M."),
            ("pronouns", "she/her"),
            ("bio", "Cat person. *Hello*"),
            ("time_zone", "Europe/London"),
        ],
    );
    assert_eq!(reply.assert_redirect(), "/u/ana");
    let profile = app.browser().visit("/u/ana");
    assert_eq!(profile.texts("h1"), ["Ana M. (she/her)"]);
    assert_eq!(profile.texts(".bio em"), ["Hello"]);
}

#[test]
fn unknown_profiles_are_not_found() {
    let app = TestApp::new();
    app.browser().get("/u/nobody").assert_status(404);
}
