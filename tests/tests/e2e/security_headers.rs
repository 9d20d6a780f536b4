//! The security headers on every response.

use hearth_tests::TestApp;

#[test]
fn every_response_carries_the_security_headers() {
    let app = TestApp::new();
    let browser = app.browser();
    for path in ["/", "/signin", "/no-such-page", "/static/hearth.css"] {
        let reply = browser.get(path);
        let csp = reply.header("content-security-policy").unwrap_or_default();
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP {csp:?} lacks {directive}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
    }
}
