//! `startup`: from spawning `hearth serve` to its first 200 on `GET /`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http;

/// Longer than any start-up we would accept, so a hung server fails the run instead of hanging it.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// Starts the server `runs` times on `database_url` and returns each time to first 200.
pub fn measure(hearth: &Path, database_url: &str, runs: usize) -> Result<Vec<Duration>, String> {
    (0..runs.max(1))
        .map(|_| once(hearth, database_url))
        .collect()
}

fn once(hearth: &Path, database_url: &str) -> Result<Duration, String> {
    let port = free_port()?;
    let authority = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let mut child = Command::new(hearth)
        .args(["serve", "--listen", &authority])
        .env("HEARTH_DATABASE_URL", database_url)
        .env("HEARTH_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", hearth.display()))?;
    let outcome = wait_for_home(&mut child, &authority, started);
    // We started it; we stop it, and reap it so no zombie holds the port.
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

fn wait_for_home(child: &mut Child, authority: &str, started: Instant) -> Result<Duration, String> {
    loop {
        if let Ok(200) = http::get_status(authority, "/", None) {
            return Ok(started.elapsed());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("hearth serve exited before answering: {status}"));
        }
        if started.elapsed() > GIVE_UP_AFTER {
            return Err(format!("no 200 on GET / within {GIVE_UP_AFTER:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A port nobody listens on right now (the system's pick for port 0).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Median of the measured times (the upper middle one for an even count).
pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}
