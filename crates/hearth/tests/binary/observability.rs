//! `hearth serve` as a monitored service: JSON log lines on stderr, `/metrics` with its token
//! from a file, and no start at all with metrics on and no token.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use hearth_tests::Browser;

use crate::served::{Served, HEARTH};

#[test]
fn json_logs_are_one_object_per_stderr_line_with_level_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(HEARTH)
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env_remove("HEARTH_DATABASE_URL")
        .env("RUST_LOG", "debug")
        .env("HEARTH_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let logged = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let base_url = loop {
        let line = stdout.next().expect("hearth says where it runs").unwrap();
        if let Some(url) = line.strip_prefix("Hearth is running at ") {
            break url.trim_end_matches('/').to_owned();
        }
    };
    let visitor = Browser::new(&base_url);
    visitor.get("/").assert_status(200);
    visitor
        .get("/no/such/page/secret-marmalade")
        .assert_status(404);
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let text = logged.join().unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?} is not JSON: {e}"))
        })
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(line["level"].is_string(), "{line}");
        assert!(line["message"].is_string(), "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
    }
    assert!(
        lines.iter().any(|l| l["message"] == "hearth is serving"),
        "{text}"
    );
    // Requests by route pattern at debug level, as in text; the unknown path is not named.
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request" && l["route"] == "/" && l["status"] == 200),
        "{text}"
    );
    assert!(!text.contains("marmalade"), "{text}");
    // No client's address: the only address is the one Hearth listens on.
    let listening = base_url.trim_start_matches("http://");
    let client_addresses: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("127.0.0.1") && !line.contains(listening))
        .collect();
    assert!(client_addresses.is_empty(), "{client_addresses:?}");
}

#[test]
fn metrics_take_their_token_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("metrics-token");
    std::fs::write(&token_file, "file-token-4f1c9a2b7d3e8f60\n").unwrap();
    let served = Served::start(
        dir.path(),
        &[],
        &[
            ("HEARTH_METRICS__ENABLED", "true"),
            ("HEARTH_METRICS__TOKEN", "the-token-in-the-settings-loses"),
            ("HEARTH_METRICS__TOKEN_FILE", token_file.to_str().unwrap()),
        ],
    );
    let scraper = served.browser();
    scraper.get("/metrics").assert_status(401);
    scraper
        .get_with_headers(
            "/metrics",
            &[("authorization", "Bearer the-token-in-the-settings-loses")],
        )
        .assert_status(401);
    let reply = scraper.get_with_headers(
        "/metrics",
        &[("authorization", "Bearer file-token-4f1c9a2b7d3e8f60")],
    );
    reply.assert_status(200);
    assert!(reply
        .body
        .contains("# TYPE hearth_http_requests_total counter"));
}

#[test]
fn metrics_on_without_a_token_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(HEARTH)
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env("HEARTH_METRICS__ENABLED", "true")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("metrics.enabled is true but no token is set"),
        "{stderr}"
    );
    let short = Command::new(HEARTH)
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env("HEARTH_METRICS__ENABLED", "true")
        .env("HEARTH_METRICS__TOKEN", "short")
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("the metrics token is too short"));
}
