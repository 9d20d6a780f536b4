//! `load`: drives a running `hearth serve` with wrk, scenario by scenario, and prints a table.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use hearth_core::db::{self, DbConfig, DbConn};

use crate::rng::Rng;
use crate::scripts::{self, ScriptSpec};
use crate::targets::{self, Targets};
use crate::wrk::{self, WrkResult, WrkRun};
use crate::{http, procfs, text, watched};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// A random page of a random thread, as a visitor.
    Thread,
    /// Page 1 of a random board.
    Board,
    /// The home page.
    Home,
    /// As `thread`, signed in as a random prepared member.
    ThreadSignedIn,
    /// Replies only, from many members to random open threads.
    Reply,
    /// Replies only, to one open thread that `--watchers` members watch: every reply tells
    /// them all (the notifications' fan-out).
    ReplyWatched,
    /// 95% `thread` reads, 5% replies.
    Mix,
    /// `/search` as a visitor for words most seeded posts have (a third to 70% of them), best
    /// matches and newest first. The server must allow the searches
    /// (`HEARTH_SEARCH__VISITOR_PER_MINUTE`); its index built (`hearth reindex`).
    SearchCommon,
    /// `/search` as a visitor for words in 0.25% to 2% of the seeded posts.
    SearchRare,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Thread => "thread",
            Scenario::Board => "board",
            Scenario::Home => "home",
            Scenario::ThreadSignedIn => "thread-signed-in",
            Scenario::Reply => "reply",
            Scenario::ReplyWatched => "reply-watched",
            Scenario::Mix => "mix",
            Scenario::SearchCommon => "search-common",
            Scenario::SearchRare => "search-rare",
        }
    }

    fn writes(self) -> bool {
        matches!(
            self,
            Scenario::Reply | Scenario::ReplyWatched | Scenario::Mix
        )
    }

    fn needs_sessions(self) -> bool {
        matches!(
            self,
            Scenario::ThreadSignedIn | Scenario::Reply | Scenario::ReplyWatched | Scenario::Mix
        )
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub url: String,
    pub database_url: String,
    pub scenarios: Vec<Scenario>,
    pub threads: u32,
    pub connections: u32,
    pub duration_s: u64,
    pub warmup_s: u64,
    pub timeout_s: u64,
    pub sessions: usize,
    pub paths: usize,
    pub reply_share: f64,
    /// Seconds at the end of a run with no replies in flight (see `ScriptSpec::reply_seconds`).
    pub reply_grace_s: u64,
    /// Seconds to wait after a writing run for every notification to be delivered.
    pub deliver_timeout_s: u64,
    /// Members watching the `reply-watched` scenario's thread.
    pub watchers: usize,
    pub server_pid: Option<u32>,
    pub wrk: String,
    pub keep_scripts: bool,
    pub seed: u64,
}

/// One row of the results table.
struct Row {
    scenario: Scenario,
    result: WrkResult,
    peak_rss_kib: Option<u64>,
    cpu: CpuUse,
    notes: String,
}

pub fn run(options: &LoadOptions) -> Result<(), String> {
    let authority = http::authority(&options.url)?;
    let pid = server_process(&authority, options.server_pid)?;
    let pool = db::open(&DbConfig {
        database_url: options.database_url.clone(),
        pool_size: 1,
    })
    .map_err(|e| e.to_string())?;
    let conn = &mut *pool.get().map_err(|e| e.to_string())?;
    let dir = work_dir()?;
    let outcome = prepare(conn, options, &dir).and_then(|watched| {
        spot_check(&authority, &dir, options)?;
        run_scenarios(conn, options, &dir, pid, watched)
    });
    if options.keep_scripts {
        println!("scripts and targets kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let rows = outcome?;
    print_table(&rows, options);
    Ok(())
}

/// The server's process id: the one given, which must be alive and should be the one listening
/// (a server that failed to bind leaves an older one answering), or whoever listens on the port.
fn server_process(authority: &str, given: Option<u32>) -> Result<Option<u32>, String> {
    let listening = http::port(authority).ok().and_then(procfs::listener_pid);
    let pid = match (given, listening) {
        (Some(pid), _) if procfs::cpu_seconds(pid).is_none() => {
            return Err(format!("no process {pid} (--server-pid)"));
        }
        (Some(pid), Some(other)) if other != pid => {
            println!("warning: process {other}, not {pid}, is listening on {authority}");
            Some(pid)
        }
        (given, listening) => given.or(listening),
    };
    match pid {
        Some(pid) => println!("server process: {pid}"),
        None => println!("no process found listening on {authority}: RSS and CPU not measured"),
    }
    Ok(pid)
}

fn work_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("hearth-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Samples targets and signs members in, writing the files the scripts read; sets up the
/// watched thread when `reply-watched` is to run.
fn prepare(
    conn: &mut DbConn,
    options: &LoadOptions,
    dir: &Path,
) -> Result<Option<watched::Watched>, String> {
    let mut rng = Rng::new(options.seed);
    let Targets {
        thread_paths,
        board_paths,
        reply_threads,
    } = targets::sample(conn, &mut rng, options.paths)?;
    scripts::write_lines(dir, scripts::THREAD_PATHS, &thread_paths)?;
    scripts::write_lines(dir, scripts::BOARD_PATHS, &board_paths)?;
    scripts::write_lines(dir, scripts::HOME_PATHS, &["/".to_owned()])?;
    scripts::write_lines(
        dir,
        scripts::SEARCH_COMMON,
        &text::search_paths(text::COMMON_WORDS),
    )?;
    scripts::write_lines(
        dir,
        scripts::SEARCH_RARE,
        &text::search_paths(text::RARE_WORDS),
    )?;
    let ids: Vec<String> = reply_threads.iter().map(i64::to_string).collect();
    scripts::write_lines(dir, scripts::REPLY_THREADS, &ids)?;
    let bodies: Vec<String> = (0..64)
        .map(|_| text::reply_body_form_encoded(&mut rng))
        .collect();
    scripts::write_lines(dir, scripts::BODIES, &bodies)?;
    if options.scenarios.iter().any(|s| s.needs_sessions()) {
        let sessions = targets::sessions_for(conn, &mut rng, options.sessions)?;
        let lines: Vec<String> = sessions
            .iter()
            .map(|s| format!("{} {}", s.token, s.csrf_token))
            .collect();
        scripts::write_lines(dir, scripts::SESSIONS, &lines)?;
        println!("signed in {} members", lines.len());
    }
    if !options.scenarios.contains(&Scenario::ReplyWatched) {
        return Ok(None);
    }
    let watched = watched::prepare(conn, &mut rng, &reply_threads, options.watchers, &run_id())?;
    scripts::write_lines(dir, scripts::WATCHED_THREADS, &[watched.thread.to_string()])?;
    Ok(Some(watched))
}

/// A few of each kind of target must answer 200: a wrong slug (308) or a page the reader may
/// not see (404) would otherwise be measured as if it were the real page.
fn spot_check(authority: &str, dir: &Path, options: &LoadOptions) -> Result<(), String> {
    let read = |name: &str| -> Result<Vec<String>, String> {
        let text = std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())?;
        Ok(text.lines().take(20).map(str::to_owned).collect())
    };
    let cookie = if options.scenarios.iter().any(|s| s.needs_sessions()) {
        read(scripts::SESSIONS)?
            .first()
            .and_then(|line| line.split(' ').next().map(str::to_owned))
    } else {
        None
    };
    let searches = options
        .scenarios
        .iter()
        .any(|s| matches!(s, Scenario::SearchCommon | Scenario::SearchRare));
    let mut names = vec![
        scripts::THREAD_PATHS,
        scripts::BOARD_PATHS,
        scripts::HOME_PATHS,
    ];
    if searches {
        names.extend([scripts::SEARCH_COMMON, scripts::SEARCH_RARE]);
    }
    for name in names {
        for path in read(name)? {
            for session in [None, cookie.as_deref()] {
                let status = http::get_status(authority, &path, session)?;
                if status != 200 {
                    return Err(format!("GET {path} answered {status}, not 200"));
                }
            }
        }
    }
    Ok(())
}

fn run_scenarios(
    conn: &mut DbConn,
    options: &LoadOptions,
    dir: &Path,
    pid: Option<u32>,
    watched: Option<watched::Watched>,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for &scenario in &options.scenarios {
        if options.warmup_s > 0 {
            let spec = spec(scenario, options, options.warmup_s);
            let script = scripts::write_script(dir, &format!("{}-warmup", scenario.name()), &spec)?;
            wrk::run(&wrk_run(options, script, options.warmup_s))?;
            if scenario.writes() {
                // The warm-up's replies are told before the measured run starts, not during it.
                if let Some(watched) = watched.filter(|_| scenario == Scenario::ReplyWatched) {
                    let limit = std::time::Duration::from_secs(options.timeout_s + 5);
                    watched::settle(conn, watched.thread, limit)?;
                }
                let waited = watched::delivered(
                    conn,
                    std::time::Duration::from_secs(options.deliver_timeout_s),
                )?;
                println!(
                    "{} warm-up: all delivered {:.1} s after it",
                    scenario.name(),
                    waited.as_secs_f64()
                );
            }
        }
        let row = measure(conn, options, dir, pid, scenario, watched)?;
        println!(
            "{}: {:.0} req/s, p99 {:.1} ms, {} errors {}",
            scenario.name(),
            row.result.requests_per_sec,
            row.result.p99_ms,
            row.result.errors(),
            row.notes
        );
        rows.push(row);
    }
    Ok(rows)
}

fn measure(
    conn: &mut DbConn,
    options: &LoadOptions,
    dir: &Path,
    pid: Option<u32>,
    scenario: Scenario,
    watched: Option<watched::Watched>,
) -> Result<Row, String> {
    let spec = spec(scenario, options, options.duration_s);
    let script = scripts::write_script(dir, scenario.name(), &spec)?;
    let before = targets::max_post_id(conn)?;
    let watched = watched.filter(|_| scenario == Scenario::ReplyWatched);
    let notified_before = watched
        .map(|w| watched::notified(conn, w.thread))
        .transpose()?;
    let rss_reset = pid.is_some_and(procfs::reset_peak_rss);
    let cpu_before = CpuSample::take(pid);
    let result = wrk::run(&wrk_run(options, script, options.duration_s))?;
    let cpu_after = CpuSample::take(pid);
    let cpu = cpu_after.since(&cpu_before, result.requests);
    let peak_rss_kib = pid.and_then(procfs::peak_rss_kib);
    let mut notes = String::new();
    if pid.is_some() && !rss_reset {
        notes.push_str("RSS peak since start; ");
    }
    if let Some(watched) = watched {
        let limit = std::time::Duration::from_secs(options.timeout_s + 5);
        watched::settle(conn, watched.thread, limit)?;
    }
    if scenario.writes() {
        // Counted once the worker has told everyone, so the check sees every notification and
        // the CPU per reply includes delivering them.
        let waited = watched::delivered(
            conn,
            std::time::Duration::from_secs(options.deliver_timeout_s),
        )?;
        let delivered_cpu = CpuSample::take(pid);
        let new_posts = targets::posts_of_run(conn, before, &spec.run_id)?;
        notes.push_str(&durability_note(&result, new_posts, spec.reply_seconds));
        notes.push_str(&delivery_note(
            &cpu_before,
            &cpu_after,
            &delivered_cpu,
            waited,
            new_posts,
        ));
        // The fan-out must really have happened, or this row would measure plain replies.
        if let Some((watched, before)) = watched.zip(notified_before) {
            let after = watched::notified(conn, watched.thread)?;
            notes.push_str("; ");
            notes.push_str(&watched::check(&watched, before, after)?);
        }
    }
    Ok(Row {
        scenario,
        result,
        peak_rss_kib,
        cpu,
        notes,
    })
}

/// CPU counters at one moment: the server's and the whole machine's (seconds over all cores).
struct CpuSample {
    server: Option<f64>,
    machine: Option<(f64, f64)>,
}

/// Where the CPU went during a run. Other work on the machine shows as `others_share`; wrk
/// itself is part of it (typically a tenth of the machine).
#[derive(Debug, Default)]
struct CpuUse {
    /// Server CPU time per request, in microseconds: unlike requests per second, it does not
    /// drop when something else competes for the cores.
    server_us_per_request: Option<f64>,
    /// Shares of the machine's total CPU capacity during the run.
    server_share: Option<f64>,
    others_share: Option<f64>,
}

impl CpuSample {
    fn take(pid: Option<u32>) -> CpuSample {
        CpuSample {
            server: pid.and_then(procfs::cpu_seconds),
            machine: procfs::machine_cpu_seconds(),
        }
    }

    fn since(&self, before: &CpuSample, requests: u64) -> CpuUse {
        let server = self.server.zip(before.server).map(|(a, b)| a - b);
        let machine = self
            .machine
            .zip(before.machine)
            .map(|((busy, total), (busy0, total0))| (busy - busy0, (total - total0).max(1e-9)));
        CpuUse {
            server_us_per_request: server.map(|s| s * 1e6 / requests.max(1) as f64),
            server_share: server.zip(machine).map(|(s, (_, total))| s / total),
            others_share: server
                .zip(machine)
                .map(|(s, (busy, total))| ((busy - s) / total).max(0.0)),
        }
    }
}

/// How long delivering the notifications took after the load stopped (and settled), and the
/// server's CPU per stored reply: during the load, and with that delivery.
fn delivery_note(
    before: &CpuSample,
    after_load: &CpuSample,
    delivered: &CpuSample,
    waited: std::time::Duration,
    new_posts: i64,
) -> String {
    let per_reply = |end: &CpuSample| {
        end.server
            .zip(before.server)
            .map_or("n/a".to_owned(), |(end, start)| {
                format!("{:.2}", (end - start) * 1e3 / new_posts.max(1) as f64)
            })
    };
    format!(
        "; all delivered {:.1} s after the load; server CPU per stored reply {} ms, {} ms \
         with delivery",
        waited.as_secs_f64(),
        per_reply(after_load),
        per_reply(delivered)
    )
}

/// Every 303 must be a post in the database, and every post of the run a 303 wrk saw.
fn durability_note(result: &WrkResult, new_posts: i64, reply_seconds: u64) -> String {
    let acknowledged = result.counter("status_303");
    let verdict = if i64::try_from(acknowledged).ok() == Some(new_posts) {
        "equal"
    } else {
        "MISMATCH"
    };
    format!(
        "{:.0} replies/s; 303s {acknowledged} vs new posts {new_posts}: {verdict}; \
         other statuses {}",
        acknowledged as f64 / reply_seconds.max(1) as f64,
        result.counter("status_unexpected"),
    )
}

fn spec(scenario: Scenario, options: &LoadOptions, duration_s: u64) -> ScriptSpec {
    let reads = match scenario {
        Scenario::Board => scripts::BOARD_PATHS,
        Scenario::Home => scripts::HOME_PATHS,
        Scenario::SearchCommon => scripts::SEARCH_COMMON,
        Scenario::SearchRare => scripts::SEARCH_RARE,
        _ => scripts::THREAD_PATHS,
    };
    let reply_share = match scenario {
        Scenario::Reply | Scenario::ReplyWatched => 1.0,
        Scenario::Mix => options.reply_share,
        _ => 0.0,
    };
    ScriptSpec {
        reads,
        signed_in_reads: scenario == Scenario::ThreadSignedIn,
        reply_share,
        reply_threads: if scenario == Scenario::ReplyWatched {
            scripts::WATCHED_THREADS
        } else {
            scripts::REPLY_THREADS
        },
        reply_seconds: duration_s.saturating_sub(options.reply_grace_s).max(1),
        run_id: run_id(),
    }
}

/// Letters and digits only, so it can sit in a LIKE pattern as it is; unique per run.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("hb{:015x}", nanos % (1 << 60))
}

fn wrk_run(options: &LoadOptions, script: PathBuf, duration_s: u64) -> WrkRun {
    WrkRun {
        program: options.wrk.clone(),
        threads: options.threads,
        connections: options.connections,
        duration_s,
        timeout_s: options.timeout_s,
        script,
        url: options.url.trim_end_matches('/').to_owned(),
    }
}

fn print_table(rows: &[Row], options: &LoadOptions) {
    println!();
    println!(
        "wrk -t{} -c{} -d{}s --latency (warm-up {} s) against {}",
        options.threads, options.connections, options.duration_s, options.warmup_s, options.url
    );
    println!();
    println!(
        "| scenario | req/s | p50 ms | p90 ms | p99 ms | errors | peak RSS MB \
         | server CPU µs/req | server CPU % | others CPU % | notes |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for row in rows {
        let r = &row.result;
        let or_na = |value: Option<String>| value.unwrap_or_else(|| "n/a".to_owned());
        let percent = |share: Option<f64>| or_na(share.map(|s| format!("{:.0}", s * 100.0)));
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            row.scenario.name(),
            r.requests_per_sec,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.errors(),
            or_na(
                row.peak_rss_kib
                    .map(|kib| format!("{:.0}", kib as f64 / 1024.0))
            ),
            or_na(row.cpu.server_us_per_request.map(|us| format!("{us:.0}"))),
            percent(row.cpu.server_share),
            percent(row.cpu.others_share),
            row.notes.trim_end_matches("; ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durability_is_judged_by_exact_equality() {
        let mut result = WrkResult::default();
        result.counters.insert("status_303".to_owned(), 280);
        assert!(durability_note(&result, 280, 28).contains("10 replies/s"));
        assert!(durability_note(&result, 280, 28).contains(": equal"));
        assert!(durability_note(&result, 281, 28).contains("MISMATCH"));
    }

    #[test]
    fn run_ids_fit_a_like_pattern_and_a_submission_key() {
        let id = run_id();
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(id.len() + "-1-0000001".len() >= 16);
    }
}
