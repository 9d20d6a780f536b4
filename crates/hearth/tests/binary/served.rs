//! A real `hearth serve` process for tests: started, read, killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use hearth_tests::Browser;

pub const HEARTH: &str = env!("CARGO_BIN_EXE_hearth");

/// A `hearth serve` process; killed when dropped. Its stdout is collected line by line.
pub struct Served {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    pub base_url: String,
}

impl Served {
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        Served::start_on("127.0.0.1:0", dir, args, env)
    }

    /// As [`Served::start`], listening on `listen`.
    pub fn start_on(listen: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut command = Command::new(HEARTH);
        command
            .current_dir(dir)
            .arg("serve")
            .arg("--listen")
            .arg(listen)
            .args(args);
        command
            .env_remove("DATABASE_URL")
            .env_remove("HEARTH_DATABASE_URL")
            .env("RUST_LOG", "debug");
        // These tests post far faster than people do: no posting limits (a double underscore
        // reaches into the [posting_limits] table).
        for limit in [
            "PER_MINUTE",
            "PER_DAY",
            "NEW_ACCOUNT_PER_MINUTE",
            "NEW_ACCOUNT_PER_DAY",
        ] {
            command.env(format!("HEARTH_POSTING_LIMITS__{limit}"), "0");
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hearth starts");
        let (sender, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut served = Served {
            child,
            lines,
            seen: Vec::new(),
            base_url: String::new(),
        };
        let running = served.wait_for("Hearth is running at ");
        served.base_url = running
            .trim_start_matches("Hearth is running at ")
            .trim_end_matches('/')
            .to_owned();
        served
    }

    /// Waits for a line starting with `prefix` (after trimming) and returns it.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.trim().starts_with(prefix) {
                        return line.trim().to_owned();
                    }
                }
                Err(_) => panic!(
                    "hearth never printed {prefix:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything printed so far.
    pub fn output(&mut self) -> String {
        std::thread::sleep(Duration::from_millis(300));
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }

    /// Kills the process at once (SIGKILL): no shutdown, no flushing, like a power cut to it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base_url)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
