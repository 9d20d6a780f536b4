//! `fsync-rate`: how many durable commits per second this machine's disk allows.
//!
//! A reply is acknowledged only after its transaction is on disk (WAL with `synchronous=FULL`),
//! so on SQLite this rate is the ceiling for replies. The probe opens its file exactly as the
//! server does (`hearth_core::db::ConnectionManager`: same pragmas, same `BEGIN IMMEDIATE`) and
//! commits one small insert per transaction, one after another.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::ManageConnection;
use hearth_core::db::{self, ConnectionManager};

pub struct FsyncReport {
    pub commits: u64,
    pub seconds: f64,
}

impl FsyncReport {
    pub fn per_second(&self) -> f64 {
        self.commits as f64 / self.seconds.max(1e-9)
    }
}

pub fn measure(dir: &Path, duration: Duration) -> Result<FsyncReport, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("hearth-bench-fsync-{}.db", std::process::id()));
    let outcome = probe(&path.to_string_lossy(), duration);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.to_string_lossy()));
    }
    outcome
}

fn probe(path: &str, duration: Duration) -> Result<FsyncReport, String> {
    let mut conn = ConnectionManager::new(path)
        .connect()
        .map_err(|e| format!("cannot open {path}: {e}"))?;
    conn.batch_execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, at BIGINT NOT NULL)")
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < duration {
        db::write_tx(&mut conn, |conn| {
            conn.batch_execute("INSERT INTO probe (at) VALUES (1)")?;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        commits += 1;
    }
    Ok(FsyncReport {
        commits,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_commits_and_leaves_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let report = measure(dir.path(), Duration::from_millis(200)).unwrap();
        assert!(report.commits > 0);
        assert!(report.per_second() > 0.0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
