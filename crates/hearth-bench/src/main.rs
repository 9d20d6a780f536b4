//! `hearth-bench`: seeds a realistic community and measures `hearth serve` (issue #3).
//! Glue only: parse arguments, call the module that does the work. See docs/performance.md.

mod fsync;
mod http;
mod load;
mod plan;
mod procfs;
mod rng;
mod scripts;
mod seed;
mod startup;
mod targets;
mod text;
mod verify;
mod watched;
mod wrk;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hearth-bench", about = "Seeds and load-tests a Hearth forum")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fills an empty database (SQLite path or postgres:// URL) with a realistic community.
    Seed(SeedArgs),
    /// Drives a running `hearth serve` with wrk and prints a table, one row per scenario.
    Load(LoadArgs),
    /// Measures durable commits per second (SQLite, WAL, synchronous=FULL) in a directory.
    FsyncRate {
        /// Where to put the probe file (the disk the database lives on).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Times `hearth serve` from spawn to the first 200 on GET /.
    Startup {
        /// The hearth binary (build it with `cargo build -p hearth --release`).
        #[arg(long, default_value = "target/release/hearth")]
        hearth: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

#[derive(clap::Args)]
struct LoadArgs {
    /// The running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The database the server uses: targets are sampled from it and sessions created in it.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Scenarios to run, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "thread,board,home,thread-signed-in,reply,mix"
    )]
    scenarios: Vec<load::Scenario>,
    /// wrk threads (-t).
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// wrk connections (-c).
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Seconds measured per scenario (-d).
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of discarded load before each scenario (0 for none).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// wrk's per-request timeout in seconds; a timeout counts as an error.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Members signed in for the signed-in, reply and mix scenarios.
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Thread-page targets sampled.
    #[arg(long, default_value_t = 10_000)]
    paths: usize,
    /// Share of replies in the mix scenario.
    #[arg(long, default_value_t = 0.05)]
    reply_share: f64,
    /// Seconds at the end of reply and mix runs that send reads only, so no reply is in flight
    /// when wrk stops and every committed reply is seen acknowledged.
    #[arg(long, default_value_t = 2)]
    reply_grace: u64,
    /// Seconds to wait, after a run that replied, until the server has delivered every
    /// notification (its worker tells followers beyond the first batch); longer is an error.
    #[arg(long, default_value_t = 600)]
    deliver_timeout: u64,
    /// Members watching the one thread the reply-watched scenario replies to (members are
    /// added if the community has fewer).
    #[arg(long, default_value_t = 5_000)]
    watchers: usize,
    /// The server's process id, for its peak RSS (default: whoever listens on the URL's port).
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value = "wrk")]
    wrk: String,
    /// Keep the generated Lua scripts and target lists (their folder is printed).
    #[arg(long)]
    keep_scripts: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args)]
struct SeedArgs {
    /// A SQLite file path or a postgres:// URL; created and migrated if needed, must be empty.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long, default_value_t = 50)]
    boards: usize,
    #[arg(long, default_value_t = 20_000)]
    threads: usize,
    #[arg(long, default_value_t = 1_000_000)]
    posts: usize,
    #[arg(long, default_value_t = 50_000)]
    members: usize,
    /// The same seed (and day) builds the same community.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Posts per transaction.
    #[arg(long, default_value_t = 8_192)]
    batch: usize,
    /// Threads rendering post bodies (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Skip the SQL check of every counter at the end.
    #[arg(long)]
    no_verify: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hearth-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Seed(args) => seed::run(&seed_options(args)),
        Command::Load(args) => load::run(&load_options(args)),
        Command::FsyncRate { dir, seconds } => {
            let report = fsync::measure(&dir, Duration::from_secs(seconds))?;
            println!(
                "{} durable commits in {:.1} s: {:.0} commits/s ({:.2} ms each)",
                report.commits,
                report.seconds,
                report.per_second(),
                1_000.0 / report.per_second().max(1e-9)
            );
            Ok(())
        }
        Command::Startup {
            hearth,
            database_url,
            runs,
        } => {
            let times = startup::measure(&hearth, &database_url, runs)?;
            let shown: Vec<String> = times
                .iter()
                .map(|t| format!("{:.0} ms", t.as_secs_f64() * 1e3))
                .collect();
            println!("spawn to first 200 on GET /: {}", shown.join(", "));
            println!(
                "median {:.0} ms",
                startup::median(&times).as_secs_f64() * 1e3
            );
            Ok(())
        }
    }
}

fn load_options(args: LoadArgs) -> load::LoadOptions {
    load::LoadOptions {
        url: args.url,
        database_url: args.database_url,
        scenarios: args.scenarios,
        threads: args.threads,
        connections: args.connections,
        duration_s: args.duration,
        warmup_s: args.warmup,
        timeout_s: args.timeout,
        sessions: args.sessions,
        paths: args.paths,
        reply_share: args.reply_share,
        reply_grace_s: args.reply_grace,
        deliver_timeout_s: args.deliver_timeout,
        watchers: args.watchers,
        server_pid: args.server_pid,
        wrk: args.wrk,
        keep_scripts: args.keep_scripts,
        seed: args.seed,
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn seed_options(args: SeedArgs) -> seed::SeedOptions {
    seed::SeedOptions {
        database_url: args.database_url,
        sizes: plan::Sizes {
            boards: args.boards,
            threads: args.threads,
            posts: args.posts,
            members: args.members,
        },
        seed: args.seed,
        batch: args.batch,
        workers: args.workers.unwrap_or_else(cores),
        verify: !args.no_verify,
        end: today(),
    }
}

/// Midnight UTC today: the seeded history ends here, so a seed gives the same rows all day.
fn today() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
}
