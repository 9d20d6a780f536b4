use hearth_tests::TestApp;

#[test]
fn an_operator_theme_overrides_one_template_and_keeps_the_rest() {
    let theme = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(theme.path().join("templates")).unwrap();
    std::fs::create_dir_all(theme.path().join("static")).unwrap();
    std::fs::write(
        theme.path().join("templates/home.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>Welcome to our circle</h1>{% endblock content %}",
    )
    .unwrap();
    std::fs::write(
        theme.path().join("static/extra.css"),
        "body { color: teal; }",
    )
    .unwrap();
    let config = hearth_web::WebConfig {
        theme_dir: Some(theme.path().to_owned()),
        ..hearth_tests::test_config()
    };
    let app = TestApp::with_config(config);
    let home = app.browser().visit("/");
    assert_eq!(home.texts("h1"), ["Welcome to our circle"]);
    // The base layout still comes from the embedded default theme.
    assert_eq!(home.texts(".skip-link"), ["Skip to content"]);
    assert_eq!(app.browser().visit("/signin").texts("h1"), ["Sign in"]);
    let css = app.browser().get("/static/extra.css");
    css.assert_status(200);
    assert_eq!(css.body, "body { color: teal; }");
    assert!(app
        .browser()
        .get("/static/hearth.css")
        .body
        .contains("skip-link"));
    app.browser()
        .get("/static/../Cargo.toml")
        .assert_status(404);
}
