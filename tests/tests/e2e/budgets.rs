//! Issue 14's budgets: a thread page of 20 longish posts stays under 45 KB of HTML, the
//! stylesheet under 25 KB, and every script the main pages load under 5 KB in all.

use hearth_core::model::SiteRole;
use hearth_tests::TestApp;

const THREAD_PAGE_BYTES: usize = 45 * 1024;
const CSS_BYTES: usize = 25 * 1024;
const SCRIPT_BYTES: usize = 5 * 1024;

/// About 600 characters of ordinary writing, with a little markdown, as people post it.
fn longish_post(n: usize) -> String {
    format!(
        "Reply {n}. It has been a hard week, and I wanted to say **thank you** to everyone who \
         answered last time. The mornings are the worst: the house is quiet, and I keep \
         expecting to hear him at the door. Some things that helped me:\n\n\
         - writing one small memory down each evening\n\
         - walking our old route, even in the rain\n\
         - talking here, with people who understand\n\n\
         > Grief is the price we pay for love.\n\n\
         I found [this page about pet loss](https://example.org/pet-loss) useful too. Be gentle \
         with yourselves today, and thank you for reading this far."
    )
}

#[test]
fn a_thread_page_of_twenty_posts_stays_within_its_budget() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let ana = app.signed_in("ana_longname", SiteRole::Member);
    let thread = admin.start_thread("pets", "Losing Milo after fourteen years", &longish_post(0));
    let path = thread.path();
    for n in 1..20 {
        ana.reply_to(&path, &longish_post(n)).assert_redirect();
    }
    for (who, page) in [
        ("a visitor", app.browser().visit(&path)),
        ("a member", ana.visit(&path)),
    ] {
        page.assert_status(200);
        assert_eq!(page.count(".post"), 20, "{who}: one full page");
        let bytes = page.body.len();
        assert!(
            bytes < THREAD_PAGE_BYTES,
            "{who}: the page is {bytes} bytes, over {THREAD_PAGE_BYTES}"
        );
    }
}

#[test]
fn the_stylesheet_and_scripts_stay_within_their_budgets() {
    let app = TestApp::new();
    let admin = app.with_board("pets");
    let thread = admin.start_thread("pets", "Hello", "A first post.");
    let css = app.browser().get("/static/hearth.css");
    css.assert_status(200);
    assert!(
        css.body.len() < CSS_BYTES,
        "hearth.css is {} bytes, over {CSS_BYTES}",
        css.body.len()
    );
    // Every script any main page loads, counted once.
    let mut scripts: Vec<String> = Vec::new();
    for path in [
        "/",
        "/groups",
        "/b/pets",
        &thread.path(),
        "/help",
        "/register",
        "/signin",
    ] {
        for browser in [app.browser(), admin.clone()] {
            for src in browser.visit(path).attrs("script[src]", "src") {
                if !scripts.contains(&src) {
                    scripts.push(src);
                }
            }
        }
    }
    let total: usize = scripts
        .iter()
        .map(|src| {
            let script = app.browser().get(src);
            script.assert_status(200);
            script.body.len()
        })
        .sum();
    assert!(
        total < SCRIPT_BYTES,
        "scripts {scripts:?} are {total} bytes, over {SCRIPT_BYTES}"
    );
}
