//! `hearth`: the command line. Glue only — parse arguments, load settings, call the libraries.

mod check;
mod settings;

use std::io::{IsTerminal, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hearth_core::accounts::leaving::{self, LeavingRules};
use hearth_core::accounts::members::{self, Registration};
use hearth_core::accounts::throttle::{self, ThrottlePolicy};
use hearth_core::accounts::{credentials, setup};
use hearth_core::db::{self, Backend, DbConfig};
use hearth_core::maintenance::backup::{self, DatabaseLock};
use hearth_core::model::SiteRole;
use settings::Settings;

/// mimalloc rather than glibc's malloc: a page is rendered from many small strings, and with
/// glibc a fifth of each request's CPU went to allocating and freeing them (measured in
/// `docs/performance.md`, "Third session").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hearth",
    version,
    about = "A self-hosted forum for peer support groups"
)]
struct Cli {
    /// A TOML settings file (see config/hearth.example.toml).
    #[arg(long, global = true, env = "HEARTH_CONFIG")]
    config: Option<PathBuf>,
    /// Where Hearth keeps its SQLite database (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the forum (creating and migrating the database on first start).
    Serve {
        /// The address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Brings the database schema up to date and exits.
    Migrate,
    /// Renders stored posts, bios and ground rules again with this version's renderer, with a
    /// progress bar (safe while the server runs).
    Rerender,
    /// Reads the settings as `serve` does and prints them (secrets as "***") and every problem
    /// found; exits 1 when there is one. Starts nothing.
    CheckConfig,
    /// Rebuilds the search index of posts, in batches (safe while the server runs).
    Reindex {
        /// Posts per batch; each batch is one short write transaction.
        #[arg(long, default_value_t = 2000)]
        batch: i64,
    },
    /// Copies the SQLite database while the server runs, and checks the copy (on PostgreSQL:
    /// says how to use pg_dump).
    Backup {
        /// The new file (default: hearth-YYYYMMDD-HHMMSS.db in the data directory). An
        /// existing file is never overwritten.
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Puts a backup in place of the SQLite database and migrates it; the database it replaces
    /// is kept beside it (on PostgreSQL: says how to use pg_restore).
    Restore {
        /// A backup made by `hearth backup`.
        file: PathBuf,
        /// Replace the database even while a `hearth serve` uses it (restart that server at
        /// once afterwards).
        #[arg(long)]
        force: bool,
    },
    /// Members and administrators: list, roles, suspensions, passwords.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Creates an administrator account (works while the server runs).
    Create {
        username: String,
        /// Read the password from the first line of this file instead of asking for it.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Sets a new password for a member and signs them out everywhere (works while the server
    /// runs).
    ResetPassword {
        username: String,
        /// Read the new password from the first line of this file instead of asking for it.
        #[arg(long, conflicts_with_all = ["generate", "link"])]
        password_file: Option<PathBuf>,
        /// Make a strong random password and print it here (only here: it is never logged).
        #[arg(long, conflicts_with = "link")]
        generate: bool,
        /// Print a one-time link to a page where the member chooses a new password (nothing is
        /// mailed; it works for [email] reset_link_minutes; needs public_url).
        #[arg(long)]
        link: bool,
    },
    /// Lists members: username, display name, site role, joined, last seen, suspension.
    List {
        /// Only members with this site role.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Only members whose suspension holds now.
        #[arg(long)]
        suspended: bool,
        /// Only members whose username or display name holds this text (any case).
        #[arg(long)]
        search: Option<String>,
        /// Show at most this many (the first by username).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Show their e-mail addresses too.
        #[arg(long)]
        with_email: bool,
    },
    /// Makes a member a site moderator or an administrator (logged, and the member is told).
    Promote {
        username: String,
        #[arg(value_enum)]
        role: PromoteArg,
        /// Why, for the moderation log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Takes a site role back: to member (the default) or, from admin, to moderator. The last
    /// administrator stays one.
    Demote {
        username: String,
        #[arg(value_enum, default_value = "member")]
        role: DemoteArg,
        /// Why, for the moderation log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Suspends a member for some days, as a moderator would: they can read but not post, are
    /// signed out everywhere and told why.
    Suspend {
        username: String,
        /// For this many days from now.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// Why: the member reads it, and it goes in the moderation log.
        #[arg(long)]
        reason: String,
    },
    /// Lifts a member's suspension (logged, and the member is told).
    Unsuspend {
        username: String,
        /// Why, for the moderation log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Sends one mail to ADDRESS right away through the configured SMTP server, and says
    /// whether the server took it.
    TestEmail { address: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Member,
    Moderator,
    Admin,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PromoteArg {
    Moderator,
    Admin,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DemoteArg {
    Member,
    Moderator,
}

impl From<RoleArg> for SiteRole {
    fn from(role: RoleArg) -> SiteRole {
        match role {
            RoleArg::Member => SiteRole::Member,
            RoleArg::Moderator => SiteRole::Moderator,
            RoleArg::Admin => SiteRole::Admin,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hearth: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    if let Command::CheckConfig = cli.command {
        return check_config(cli.config.as_deref(), cli.data_dir);
    }
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        settings.data_dir = dir;
    }
    match cli.command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            serve(settings)
        }
        Command::Migrate => {
            // Migrations can take minutes on a large database: say that something happens
            // (on a terminal; the spinner draws nothing elsewhere).
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message("bringing the database schema up to date");
            spinner.enable_steady_tick(Duration::from_millis(100));
            let opened = open_database(&settings);
            spinner.finish_and_clear();
            opened?;
            println!("the database is up to date");
            Ok(())
        }
        Command::Rerender => rerender(&settings),
        Command::CheckConfig => check_config(cli.config.as_deref(), None),
        Command::Reindex { batch } => reindex(&settings, batch),
        Command::Backup { to } => back_up(&settings, to),
        Command::Restore { file, force } => restore(&settings, &file, force),
        Command::Admin {
            command:
                AdminCommand::Create {
                    username,
                    password_file,
                },
        } => create_admin(&settings, &username, password_file),
        Command::Admin {
            command:
                AdminCommand::ResetPassword {
                    username,
                    password_file,
                    generate,
                    link,
                },
        } => {
            let how = if generate {
                NewPassword::Generated
            } else if link {
                NewPassword::Link
            } else {
                NewPassword::Typed(password_file)
            };
            reset_password(&settings, &username, how)
        }
        Command::Admin {
            command: AdminCommand::TestEmail { address },
        } => test_email(&settings, &address),
        Command::Admin {
            command:
                AdminCommand::List {
                    role,
                    suspended,
                    search,
                    limit,
                    with_email,
                },
        } => {
            let query = hearth_core::accounts::listing::MemberQuery {
                role: role.map(SiteRole::from),
                suspended,
                search,
                limit,
                with_email,
            };
            list_members(&settings, &query)
        }
        Command::Admin {
            command:
                AdminCommand::Promote {
                    username,
                    role,
                    reason,
                },
        } => {
            let role = match role {
                PromoteArg::Moderator => SiteRole::Moderator,
                PromoteArg::Admin => SiteRole::Admin,
            };
            change_role(&settings, &username, role, reason.as_deref(), true)
        }
        Command::Admin {
            command:
                AdminCommand::Demote {
                    username,
                    role,
                    reason,
                },
        } => {
            let role = match role {
                DemoteArg::Member => SiteRole::Member,
                DemoteArg::Moderator => SiteRole::Moderator,
            };
            change_role(&settings, &username, role, reason.as_deref(), false)
        }
        Command::Admin {
            command:
                AdminCommand::Suspend {
                    username,
                    days,
                    reason,
                },
        } => suspend(&settings, &username, Some(days), Some(&reason)),
        Command::Admin {
            command: AdminCommand::Unsuspend { username, reason },
        } => suspend(&settings, &username, None, reason.as_deref()),
    }
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log));
    match settings.log_format {
        settings::LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(std::io::stdout().is_terminal())
            .init(),
        // The event's fields at the top level beside `timestamp` and `level` (`message` among
        // them), no span lists: one flat object a log shipper reads without a schema.
        settings::LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_target(false)
            .with_writer(std::io::stderr)
            .init(),
    }
}

fn open_database(settings: &Settings) -> Result<db::Pool, String> {
    let config = DbConfig {
        database_url: settings.database_url(),
        pool_size: settings.pool_size,
    };
    db::open(&config).map_err(|e| e.to_string())
}

fn serve(settings: Settings) -> Result<(), String> {
    init_logging(&settings);
    let crisis_phrases =
        hearth_core::safety::crisis::load_phrases(settings.crisis_phrases_file.as_deref())?;
    // Held while the server runs: `hearth restore` refuses a database in use.
    let _serving = match sqlite_path(&settings) {
        Some(path) => Some(DatabaseLock::for_serving(&path).map_err(|e| e.to_string())?),
        None => None,
    };
    let pool = open_database(&settings)?;
    let listener = TcpListener::bind(&settings.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    // With `--listen 127.0.0.1:0` the system picks the port; say the one it picked.
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let public_url = settings.public_url(&bound.to_string());
    if let Some(warning) = exposure_warning(bound, &public_url) {
        tracing::warn!("{warning}");
    }
    let web_config = hearth_web::WebConfig {
        site_name: settings.site_name.clone(),
        site_description: settings.site_description.clone(),
        search_engines: settings.search_engines,
        public_url: public_url.clone(),
        theme_dir: settings.theme_dir.clone(),
        default_time_zone: settings.default_time_zone.clone(),
        session_days: settings.session_days,
        posting: hearth_core::safety::gate::PostingRules {
            new_account_premod_posts: settings.new_account_premod_posts,
            limits: settings.posting_limits,
            edits: settings.edit_limits,
            max_body_bytes: settings.max_post_bytes,
            crisis: crisis_phrases,
            same_reply_minutes: settings.same_reply_minutes,
            mentions_notified: settings.mentions_notified_per_post,
            reactions_per_hour: settings.reactions_per_hour,
            previews_per_hour: settings.previews_per_hour,
        },
        report_limits: settings.report_limits,
        conversations: settings.conversations,
        leaving: settings.leaving,
        public_log_shows_names: settings.public_log_shows_names,
        sign_in_throttle: settings.sign_in_throttle,
        registration_limits: settings.registration_limits,
        recovery_throttle: settings.recovery_throttle,
        session_last_seen_minutes: settings.session_last_seen_minutes,
        trust_x_forwarded_for: settings.trust_x_forwarded_for,
        crisis_resources: settings.crisis_resources.clone(),
        search: settings.search,
        cache_visitor_pages: settings.cache_visitor_pages,
        visitor_pages_budget: hearth_web::VisitorPagesBudget {
            total_bytes: megabytes(settings.cache_visitor_pages_mb, 1024 * 1024),
            page_bytes: megabytes(settings.cache_visitor_page_max_kb, 1024),
        },
        email: settings.email.clone(),
        // Checked when the settings were loaded; read again here, as the server starts.
        metrics_token: settings.metrics.resolved_token()?,
        ..hearth_web::WebConfig::default()
    };
    let mail_sender = hearth_core::mail::sender::Sender::from_settings(
        &settings.email,
        &settings.site_name,
        &public_url,
    )?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let setup_token = setup::issue_token_if_needed(&mut conn).map_err(|e| e.to_string())?;
    drop(conn);
    deliver_notifications(pool.clone());
    purge_expired_sessions_hourly(
        pool.clone(),
        settings.sign_in_throttle,
        settings.notifications_kept_days,
        settings.email.clone(),
    );
    send_meeting_reminders_every_minute(pool.clone());
    fill_missing_excerpts(pool.clone());
    if settings.email.enabled() {
        send_notification_mail_every_minute(
            pool.clone(),
            hearth_core::notifications::mailing::MailSchedule {
                enabled: true,
                site_name: settings.site_name.clone(),
                public_url: public_url.clone(),
                limits: settings.notification_mail,
            },
        );
    }
    // The outbox's sender: every node may run one (each mail is claimed by one at a time).
    let _mail_worker = match mail_sender {
        Some(sender) => Some(hearth_core::mail::delivery::Worker::spawn(
            pool.clone(),
            sender,
            settings.email.clone(),
        )),
        None => {
            tracing::info!("e-mail is off (no [email] smtp_host)");
            None
        }
    };
    carry_out_departures_every_minute(pool.clone(), settings.leaving);
    back_up_daily(&settings);
    let workers = settings.workers();
    let backend = db::Backend::of_url(&settings.database_url());
    let readers = db::Readers::for_url(
        &settings.database_url(),
        settings.read_cache_mb.saturating_mul(1024),
    );
    actix_web::rt::System::new().block_on(async move {
        let server = hearth_web::server(pool, readers, web_config, listener, workers)?;
        tracing::info!(listen = %bound, ?backend, "hearth is serving");
        // Under systemd (`Type=notify`): the server listens, so it is ready.
        if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
            tracing::warn!(error = %e, "cannot tell systemd that Hearth is ready");
        }
        println!("Hearth is running at {public_url}/");
        if let Some(token) = setup_token {
            // Printed, not logged: the link is a secret for the operator at this terminal.
            println!(
                "No administrator exists yet. Open this one-time link to create the first one:"
            );
            println!("  {public_url}/setup/{token}");
        }
        let _ = std::io::stdout().flush();
        server.await.map_err(|e| format!("the server stopped: {e}"))
    })
}

/// What to tell an operator whose server is reachable from other machines without https:
/// passwords and posts would cross the network in the clear.
fn exposure_warning(bound: std::net::SocketAddr, public_url: &str) -> Option<String> {
    if bound.ip().is_loopback() || public_url.starts_with("https://") {
        return None;
    }
    Some(format!(
        "Hearth listens on {bound}, beyond this machine, but its public_url {public_url} is not \
         https: passwords and posts would cross the network unencrypted. Serve it behind a TLS \
         proxy and set public_url to the https address members use (forms are accepted only \
         from that address)."
    ))
}

/// `n` units of `unit` bytes, as a size in memory.
fn megabytes(n: u32, unit: usize) -> usize {
    usize::try_from(n)
        .unwrap_or(usize::MAX)
        .saturating_mul(unit)
}

/// Tells the readers of posts whose first batch the poster's request did not finish (a thread
/// with more followers than a batch, a delivery that failed, a process killed in between):
/// on a thread of its own, a batch per transaction: turns of up to `TURN` batches, the next
/// one at once while work is left, a second later once none is.
fn deliver_notifications(pool: db::Pool) {
    const TURN: usize = 100;
    std::thread::spawn(move || loop {
        let mut more = false;
        match pool.get().map_err(hearth_core::Error::from) {
            Ok(mut conn) => {
                match hearth_core::notifications::fanout::deliver_pending(&mut conn, TURN) {
                    Ok(0) => {}
                    Ok(batches) => {
                        tracing::debug!(batches, "notifications delivered");
                        more = batches >= TURN;
                    }
                    Err(e) => tracing::warn!(error = %e, "notifications could not be delivered"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "notifications could not be delivered"),
        }
        if !more {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    });
}

/// Expired sessions, sign-in failures and registrations older than their throttle's window,
/// search and action counts past their windows, notifications read more than
/// `notifications_kept_days` ago, and mail sent more than `email.sent_kept_days` ago, are
/// deleted at start and every hour after, on a thread of their own.
fn purge_expired_sessions_hourly(
    pool: db::Pool,
    throttle: ThrottlePolicy,
    notifications_kept_days: u32,
    email: hearth_core::mail::EmailSettings,
) {
    std::thread::spawn(move || loop {
        match pool.get().map_err(hearth_core::Error::from) {
            Ok(mut conn) => {
                match hearth_core::accounts::sessions::purge_expired(&mut conn) {
                    Ok(purged) => tracing::debug!(purged, "expired sessions deleted"),
                    Err(e) => tracing::warn!(error = %e, "expired sessions could not be deleted"),
                }
                match throttle::purge(&mut conn, &throttle, hearth_core::clock::now()) {
                    Ok(purged) => tracing::debug!(purged, "old throttle rows deleted"),
                    Err(e) => tracing::warn!(error = %e, "old throttle rows could not be deleted"),
                }
                match hearth_core::search::purge_counts(&mut conn, hearth_core::clock::now()) {
                    Ok(purged) => tracing::debug!(purged, "old search counts deleted"),
                    Err(e) => tracing::warn!(error = %e, "old search counts could not be deleted"),
                }
                match db::counters::purge(&mut conn, hearth_core::clock::now()) {
                    Ok(purged) => tracing::debug!(purged, "old action counts deleted"),
                    Err(e) => tracing::warn!(error = %e, "old action counts could not be deleted"),
                }
                if notifications_kept_days > 0 {
                    let now = hearth_core::clock::now();
                    let kept = notifications_kept_days;
                    match hearth_core::notifications::purge_read(&mut conn, now, kept) {
                        Ok(purged) => tracing::debug!(purged, "old read notifications deleted"),
                        Err(e) => {
                            tracing::warn!(error = %e, "old notifications could not be deleted")
                        }
                    }
                }
                let now = hearth_core::clock::now();
                match hearth_core::mail::delivery::purge_sent(&mut conn, &email, now) {
                    Ok(purged) => tracing::debug!(purged, "old sent mail deleted"),
                    Err(e) => tracing::warn!(error = %e, "old sent mail could not be deleted"),
                }
                match hearth_core::mail::links::purge(&mut conn, now) {
                    Ok(purged) => tracing::debug!(purged, "old mail links and requests deleted"),
                    Err(e) => tracing::warn!(error = %e, "old mail links could not be deleted"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "expired sessions could not be deleted"),
        }
        std::thread::sleep(std::time::Duration::from_secs(3600));
    });
}

/// Meeting reminders due are written every minute, on a thread of their own. Each is sent
/// once whatever the number of nodes or restarts (`hearth_core::meetings::send_due_reminders`
/// claims its key in the database), so every node may run this.
/// Notification mail due is queued every minute, on a thread of its own (only when e-mail is
/// on). Each mail's period and notifications are claimed in the database, so every node may
/// run this; a run stopped at `per_run` goes on from where it stopped a minute later. Claimed
/// periods older than a week are deleted hourly.
fn send_notification_mail_every_minute(
    pool: db::Pool,
    schedule: hearth_core::notifications::mailing::MailSchedule,
) {
    use hearth_core::notifications::mailing;
    std::thread::spawn(move || {
        let mut resume_after = None;
        let mut purged_at: Option<std::time::Instant> = None;
        loop {
            match pool.get().map_err(hearth_core::Error::from) {
                Ok(mut conn) => {
                    let now = hearth_core::clock::now();
                    match mailing::send_due(&mut conn, &schedule, resume_after, now) {
                        Ok(run) => {
                            tracing::debug!(mails = run.mails, "notification mail queued");
                            resume_after = run.resume_after;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "notification mail could not be queued")
                        }
                    }
                    if purged_at.is_none_or(|at| at.elapsed().as_secs() >= 3600) {
                        purged_at = Some(std::time::Instant::now());
                        if let Err(e) = mailing::purge_periods(&mut conn, now) {
                            tracing::warn!(error = %e, "old mail periods could not be deleted");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "notification mail could not be queued"),
            }
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    });
}

/// Opening posts from before excerpts were stored get theirs, once, on a thread of their own
/// (a batch per transaction, so the forum stays writable meanwhile).
fn fill_missing_excerpts(pool: db::Pool) {
    std::thread::spawn(move || match pool.get().map_err(hearth_core::Error::from) {
        Ok(mut conn) => match hearth_core::maintenance::rerender::fill_excerpts(&mut conn) {
            Ok(filled) => tracing::debug!(filled, "excerpts of opening posts filled"),
            Err(e) => tracing::warn!(error = %e, "excerpts could not be filled"),
        },
        Err(e) => tracing::warn!(error = %e, "excerpts could not be filled"),
    });
}

fn send_meeting_reminders_every_minute(pool: db::Pool) {
    std::thread::spawn(move || loop {
        match pool.get().map_err(hearth_core::Error::from) {
            Ok(mut conn) => {
                let now = hearth_core::clock::now();
                match hearth_core::meetings::send_due_reminders(&mut conn, now) {
                    Ok(sent) => tracing::debug!(sent, "meeting reminders sent"),
                    Err(e) => tracing::warn!(error = %e, "meeting reminders could not be sent"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "meeting reminders could not be sent"),
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
}

/// Members whose cooling-off period is over leave (`accounts::leaving::carry_out_due`, a
/// transaction per member), and deleted posts past their retention period lose their text
/// (`purge_deleted_text`), every minute on a thread of their own. Each departure is claimed in
/// the database, so every node may run this.
fn carry_out_departures_every_minute(pool: db::Pool, rules: LeavingRules) {
    std::thread::spawn(move || loop {
        match pool.get().map_err(hearth_core::Error::from) {
            Ok(mut conn) => {
                let now = hearth_core::clock::now();
                match leaving::carry_out_due(&mut conn, &rules, now) {
                    Ok(0) => {}
                    Ok(left) => tracing::info!(left, "members left"),
                    Err(e) => tracing::warn!(error = %e, "departures could not be carried out"),
                }
                match leaving::purge_deleted_text(&mut conn, &rules, now) {
                    Ok(0) => {}
                    Ok(purged) => tracing::debug!(purged, "deleted posts' text purged"),
                    Err(e) => tracing::warn!(error = %e, "deleted text could not be purged"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "departures could not be carried out"),
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
}

fn now_utc() -> chrono::DateTime<chrono::Utc> {
    hearth_core::clock::now().and_utc()
}

/// The SQLite database file, or `None` on PostgreSQL (and for an in-memory database).
fn sqlite_path(settings: &Settings) -> Option<PathBuf> {
    let url = settings.database_url();
    (Backend::of_url(&url) == Backend::Sqlite && url != ":memory:" && !url.starts_with("file:"))
        .then(|| PathBuf::from(url))
}

/// Every day at `[backups].hour` in the server's time zone, on a thread of its own: a backup
/// into `data_dir/backups`, then the oldest beyond `keep` deleted; at start too when the newest
/// there is a day old or more. Logs file names and sizes.
fn back_up_daily(settings: &Settings) {
    let schedule = settings.backups;
    if !schedule.daily {
        return;
    }
    let Some(database) = sqlite_path(settings) else {
        tracing::info!(
            "daily backups are for SQLite only: back PostgreSQL up with pg_dump (hearth backup says how)"
        );
        return;
    };
    let folder = settings.data_dir.join("backups");
    let zone = settings.default_time_zone.clone();
    let keep = usize::try_from(schedule.keep).unwrap_or(usize::MAX);
    std::thread::spawn(move || {
        if backup::overdue(&folder, now_utc()) {
            back_up_into(&database, &folder, keep);
        }
        loop {
            let next = schedule.next_after_in(now_utc(), &zone);
            // In steps of at most a minute, so a suspended machine or a changed clock is noticed.
            loop {
                let left = (next - now_utc()).to_std().unwrap_or_default();
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(left.min(Duration::from_secs(60)));
            }
            back_up_into(&database, &folder, keep);
        }
    });
}

/// One daily backup into `folder`, then the oldest beyond `keep` deleted; logs file names and
/// sizes only.
fn back_up_into(database: &Path, folder: &Path, keep: usize) {
    let name = backup::default_file_name(now_utc());
    let started = Instant::now();
    match backup::back_up(database, &folder.join(&name)) {
        Ok(made) => tracing::info!(
            file = %name,
            bytes = made.bytes,
            seconds = started.elapsed().as_secs(),
            "daily backup made"
        ),
        Err(e) => tracing::warn!(file = %name, error = %e, "the daily backup failed"),
    }
    match backup::prune(folder, keep) {
        Ok(deleted) => {
            for path in deleted {
                let file = path.file_name().map(|n| n.to_string_lossy().into_owned());
                tracing::info!(file = file.unwrap_or_default(), "old backup deleted");
            }
        }
        Err(e) => tracing::warn!(error = %e, "old backups could not be deleted"),
    }
}

/// `hearth backup`: on SQLite a copy with a progress bar, then its check; on PostgreSQL how to
/// use pg_dump.
fn back_up(settings: &Settings, to: Option<PathBuf>) -> Result<(), String> {
    let Some(database) = sqlite_path(settings) else {
        return postgres_advice(settings);
    };
    let to = to.unwrap_or_else(|| settings.data_dir.join(backup::default_file_name(now_utc())));
    let estimate = backup::estimated_size(&database).map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(estimate.max(1));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{elapsed}] {bar:30} {bytes} of about {total_bytes}",
        )
        .map_err(|e| e.to_string())?,
    );
    bar.set_message("copying");
    bar.enable_steady_tick(Duration::from_millis(100));
    let started = Instant::now();
    let copying = std::thread::spawn({
        let (database, to) = (database.clone(), to.clone());
        move || backup::copy(&database, &to)
    });
    while !copying.is_finished() {
        let written = std::fs::metadata(&to).map_or(0, |m| m.len());
        bar.set_position(written.min(estimate));
        std::thread::sleep(Duration::from_millis(100));
    }
    let copied = copying
        .join()
        .map_err(|_| "the copy stopped unexpectedly".to_owned())?;
    if let Err(e) = copied {
        bar.abandon();
        return Err(e.to_string());
    }
    let copy_took = started.elapsed();
    bar.set_position(estimate);
    bar.set_message("checking the copy");
    let checked = backup::verify(&to);
    bar.finish_and_clear();
    let verified = match checked {
        Ok(verified) => verified,
        Err(e) => {
            let _ = std::fs::remove_file(&to);
            return Err(format!("the copy failed its check and was deleted: {e}"));
        }
    };
    println!(
        "backed up {} to {}: {} in {:.1} s (copy {:.1} s, check {:.1} s); integrity check ok",
        database.display(),
        verified.path.display(),
        indicatif::HumanBytes(verified.bytes),
        started.elapsed().as_secs_f64(),
        copy_took.as_secs_f64(),
        (started.elapsed() - copy_took).as_secs_f64(),
    );
    Ok(())
}

/// `hearth restore`: on SQLite the backup checked, migrated and put in place; on PostgreSQL
/// how to use pg_restore.
fn restore(settings: &Settings, file: &Path, force: bool) -> Result<(), String> {
    let Some(database) = sqlite_path(settings) else {
        return postgres_advice(settings);
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!(
        "checking {} and putting it in place",
        file.display()
    ));
    spinner.enable_steady_tick(Duration::from_millis(100));
    let started = Instant::now();
    let restored = backup::restore(file, &database, force, now_utc());
    spinner.finish_and_clear();
    let restored = restored.map_err(|e| e.to_string())?;
    println!(
        "restored {} ({}, integrity check ok) to {} in {:.1} s; migrations run: {}",
        file.display(),
        indicatif::HumanBytes(restored.source.bytes),
        database.display(),
        started.elapsed().as_secs_f64(),
        restored.migrations_run
    );
    if let Some(kept) = &restored.kept {
        println!("the database it replaced is kept as {}", kept.display());
    }
    if restored.was_live {
        eprintln!(
            "hearth: a server was running on the replaced database and still has it open: \
             restart it now (systemctl restart hearth), or what it writes goes to the kept file"
        );
    }
    Ok(())
}

/// What `hearth backup` and `hearth restore` say on PostgreSQL: how to use pg_dump and
/// pg_restore with this database, and whether the pg_dump on PATH can dump its server.
fn postgres_advice(settings: &Settings) -> Result<(), String> {
    let url = settings.database_url();
    let mut conn = db::connect(&url).map_err(|e| e.to_string())?;
    let version = backup::postgres_server_version(&mut conn).map_err(|e| e.to_string())?;
    let pg_dump = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    println!(
        "{}",
        backup::postgres_advice(&url, &version, pg_dump.as_deref())
    );
    Ok(())
}

/// `hearth rerender`: a progress bar over the posts, bios and ground rules to render, then a
/// summary of what was rendered and what changed.
fn rerender(settings: &Settings) -> Result<(), String> {
    use hearth_core::maintenance::rerender;
    let started = Instant::now();
    let pool = open_database(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let work = rerender::work(&mut conn).map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(work.total());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} posts, bios and ground rules ({per_sec}, {eta} left)",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    let done = rerender::rerender_all_with(&mut conn, &mut |n| {
        bar.inc(u64::try_from(n).unwrap_or_default());
    });
    bar.finish_and_clear();
    let done = done.map_err(|e| e.to_string())?;
    println!(
        "rendered again: {} posts ({} changed), {} bios ({} changed), {} sets of ground rules ({} changed) in {:.1} s",
        done.posts,
        done.changed.posts,
        done.bios,
        done.changed.bios,
        done.ground_rules,
        done.changed.ground_rules,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `hearth check-config`: the effective settings on stdout (TOML, secrets as "***"), each
/// problem on stderr; an error (exit 1) when there is one.
fn check_config(config_file: Option<&Path>, data_dir: Option<PathBuf>) -> Result<(), String> {
    let report = check::check(config_file, data_dir);
    if !report.settings_toml.is_empty() {
        println!(
            "# The effective settings (defaults, then the file, then HEARTH_ variables); secrets \
             are shown as \"{}\".",
            check::MASK
        );
        print!("{}", report.settings_toml);
    }
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    match report.problems.len() {
        0 => {
            eprintln!("no problems found");
            Ok(())
        }
        1 => Err("1 problem found".to_owned()),
        n => Err(format!("{n} problems found")),
    }
}

/// A member by name, or the message an operator reads for a name nobody has.
fn member_named(
    conn: &mut hearth_core::db::DbConn,
    username: &str,
) -> Result<hearth_core::model::Member, String> {
    members::by_username(conn, username.trim())
        .ok()
        .filter(|m| m.status != hearth_core::model::MemberStatus::Deleted)
        .ok_or_else(|| format!("there is no member called {username}; nothing was changed"))
}

/// What the log and the member read of an operator's reason.
fn from_the_command_line(reason: Option<&str>) -> String {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => format!("{reason} (an operator at the command line)"),
        None => "an operator at the command line".to_owned(),
    }
}

/// `hearth admin list`: a table of members, then how many match in all.
fn list_members(
    settings: &Settings,
    query: &hearth_core::accounts::listing::MemberQuery,
) -> Result<(), String> {
    let pool = open_database(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let list = hearth_core::accounts::listing::list(&mut conn, query).map_err(|e| e.to_string())?;
    let day = |at: chrono::NaiveDateTime| at.format("%Y-%m-%d").to_string();
    let minute = |at: chrono::NaiveDateTime| at.format("%Y-%m-%d %H:%M").to_string();
    let mut header = vec![
        "USERNAME",
        "DISPLAY NAME",
        "ROLE",
        "JOINED",
        "LAST SEEN",
        "SUSPENDED UNTIL",
    ];
    if query.with_email {
        header.push("E-MAIL");
    }
    let mut rows: Vec<Vec<String>> = vec![header.into_iter().map(str::to_owned).collect()];
    for member in &list.members {
        let mut row = vec![
            member.username.clone(),
            if member.display_name.is_empty() {
                "-".to_owned()
            } else {
                member.display_name.clone()
            },
            member.site_role.as_str().to_owned(),
            day(member.joined),
            member.last_seen.map_or_else(|| "-".to_owned(), minute),
            match (member.suspended, member.suspended_until) {
                (false, _) => "-".to_owned(),
                (true, Some(until)) => format!("{} UTC", minute(until)),
                (true, None) => "until lifted".to_owned(),
            },
        ];
        if query.with_email {
            row.push(match &member.email {
                Some(email) if email.verified => email.address.clone(),
                Some(email) => format!("{} (unverified)", email.address),
                None => "-".to_owned(),
            });
        }
        rows.push(row);
    }
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .map(|row| row.get(i).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    let shown = list.members.len();
    if i64::try_from(shown).unwrap_or(i64::MAX) < list.total {
        println!(
            "{shown} of {} members shown (the first by username): --limit shows more, --search \
             or --role fewer",
            list.total
        );
    } else {
        println!("{shown} {}", if shown == 1 { "member" } else { "members" });
    }
    Ok(())
}

/// `hearth admin promote` and `demote`: the web's core operation with the site's first
/// administrator as the actor the log names, the reason marked as the command line's.
fn change_role(
    settings: &Settings,
    username: &str,
    role: SiteRole,
    reason: Option<&str>,
    promoting: bool,
) -> Result<(), String> {
    use hearth_core::moderation::roles;
    let pool = open_database(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let member = member_named(&mut conn, username)?;
    if promoting && member.site_role > role {
        return Err(format!(
            "{} is {} already: `hearth admin demote {} {}` takes a role back",
            member.username,
            member.site_role.as_str(),
            member.username,
            role.as_str()
        ));
    }
    if !promoting && member.site_role < role {
        return Err(format!(
            "{} is a {}: `hearth admin promote {} {}` gives a role",
            member.username,
            member.site_role.as_str(),
            member.username,
            role.as_str()
        ));
    }
    let operator = roles::operator(&mut conn).map_err(|e| e.to_string())?;
    let reason = from_the_command_line(reason);
    let change = roles::set_site_role(&mut conn, &operator, &member, role, &reason)
        .map_err(|e| format!("{e}; nothing was changed"))?;
    println!(
        "{} is now {} (was {}); the moderation log names {} and the command line",
        member.username,
        change.to.as_str(),
        change.from.as_str(),
        operator.member.username
    );
    Ok(())
}

/// `hearth admin suspend` (`days`) and `unsuspend` (`None`): the moderators' core operation,
/// which ends the member's sessions, tells them and logs it.
fn suspend(
    settings: &Settings,
    username: &str,
    days: Option<u32>,
    reason: Option<&str>,
) -> Result<(), String> {
    use hearth_core::moderation::{actions, roles};
    let pool = open_database(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let member = member_named(&mut conn, username)?;
    if days.is_some() && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(
            "say why with --reason: the member reads it, and it goes in the moderation log"
                .to_owned(),
        );
    }
    let operator = roles::operator(&mut conn).map_err(|e| e.to_string())?;
    let until = days.map(|days| hearth_core::clock::now() + chrono::TimeDelta::days(days.into()));
    let reason = from_the_command_line(reason);
    actions::suspend(&mut conn, &operator, &member, until, &reason)
        .map_err(|e| format!("{e}; nothing was changed"))?;
    match until {
        Some(until) => println!(
            "suspended {} until {} UTC, signed out everywhere and told why",
            member.username,
            until.format("%Y-%m-%d %H:%M")
        ),
        None => println!(
            "lifted the suspension of {}; they were told",
            member.username
        ),
    }
    Ok(())
}

/// How `hearth admin reset-password` gets the new password.
enum NewPassword {
    /// From the prompt, or the first line of a file.
    Typed(Option<PathBuf>),
    /// Made here and printed once.
    Generated,
    /// Chosen by the member on the page of a one-time link printed here.
    Link,
}

/// `hearth admin reset-password NAME`: the member's new password (typed, or generated and
/// printed) or a one-time link to choose one, and every session of theirs ends (a signed-in
/// browser is signed out at its next request). Prints the name, how many sessions ended and,
/// for `--generate` and `--link`, the password or the link: on this terminal only, never in a
/// log.
fn reset_password(settings: &Settings, username: &str, how: NewPassword) -> Result<(), String> {
    let pool = open_database(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let member = member_named(&mut conn, username)?;
    let sessions = |n: usize| if n == 1 { "session" } else { "sessions" };
    match how {
        NewPassword::Typed(password_file) => {
            let password = read_password(password_file)?;
            let ended = credentials::set_password(&mut conn, &member, &password, None)
                .map_err(|e| format!("{e}; nothing was changed"))?;
            println!(
                "set a new password for {}; {ended} {} ended",
                member.username,
                sessions(ended)
            );
        }
        NewPassword::Generated => {
            let password = credentials::generated_password();
            let ended = credentials::set_password(&mut conn, &member, &password, None)
                .map_err(|e| format!("{e}; nothing was changed"))?;
            println!(
                "set a new password for {}; {ended} {} ended",
                member.username,
                sessions(ended)
            );
            println!("the new password (shown only here; give it to them privately):");
            println!("{password}");
        }
        NewPassword::Link => {
            let Some(public_url) = settings
                .public_url
                .as_deref()
                .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
            else {
                return Err(
                    "a link needs public_url (the http(s) address members open) in the settings; \
                     nothing was changed"
                        .to_owned(),
                );
            };
            let minutes = settings.email.reset_link_minutes.max(1);
            let (token, ended) = hearth_core::mail::reset::issue_without_mail(
                &mut conn,
                &member,
                chrono::TimeDelta::minutes(minutes.into()),
                hearth_core::clock::now(),
            )
            .map_err(|e| format!("{e}; nothing was changed"))?;
            println!(
                "made a one-time link for {} to choose a new password; {ended} {} ended",
                member.username,
                sessions(ended)
            );
            println!(
                "it works once, for {minutes} minutes (give it to them privately; nothing was mailed):"
            );
            println!("{}", hearth_core::mail::reset::link_url(public_url, &token));
        }
    }
    Ok(())
}

/// `hearth reindex`: every post looked at again, a batch per short transaction, so a running
/// server goes on writing in between (and indexes what it writes by itself).
fn reindex(settings: &Settings, batch: i64) -> Result<(), String> {
    use hearth_core::search::index;
    let started = std::time::Instant::now();
    let pool = open_database(settings)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let total = index::posts_to_index(&mut conn).map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} posts ({per_sec}, {eta} left)",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    let mut done = index::Rebuilt::default();
    while let Some(next) =
        index::rebuild_batch(&mut conn, done, batch.max(1)).map_err(|e| e.to_string())?
    {
        bar.inc(next.posts - done.posts);
        done = next;
    }
    bar.finish_and_clear();
    index::finish_rebuild(&mut conn).map_err(|e| e.to_string())?;
    println!(
        "indexed {} of {} posts (the others are hidden, awaiting approval or deleted) in {:.1} s",
        done.indexed,
        done.posts,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_password(password_file: Option<PathBuf>) -> Result<String, String> {
    if let Some(path) = password_file {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let second = rpassword::prompt_password("Password again: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first != second {
        return Err("the two passwords differ; nothing was changed".to_owned());
    }
    Ok(first)
}

fn create_admin(
    settings: &Settings,
    username: &str,
    password_file: Option<PathBuf>,
) -> Result<(), String> {
    let pool = open_database(settings)?;
    let password = read_password(password_file)?;
    let registration = Registration {
        username: username.to_owned(),
        display_name: String::new(),
        password,
        time_zone: settings.default_time_zone.clone(),
    };
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let admin =
        members::register(&mut conn, &registration, SiteRole::Admin).map_err(|e| e.to_string())?;
    println!("created administrator {}", admin.username);
    Ok(())
}

/// `hearth admin test-email ADDRESS`: one mail through the configured SMTP server, now, not
/// through the outbox.
fn test_email(settings: &Settings, address: &str) -> Result<(), String> {
    let public_url = settings.public_url(&settings.listen);
    let Some(sender) = hearth_core::mail::sender::Sender::from_settings(
        &settings.email,
        &settings.site_name,
        &public_url,
    )?
    else {
        return Err(
            "e-mail is off: set smtp_host (and from_address) in the [email] settings".to_owned(),
        );
    };
    let mail = hearth_core::mail::sender::Outgoing {
        to: address.to_owned(),
        subject: format!("A test mail from {}", settings.site_name),
        text: format!(
            "This is a test mail from {} ({public_url}). If you can read it, Hearth can send \
             e-mail.\n",
            settings.site_name
        ),
        html: format!(
            "<p>This is a test mail from {} (<a href=\"{public_url}/\">{public_url}</a>). If you \
             can read it, Hearth can send e-mail.</p>",
            html_escape(&settings.site_name)
        ),
        unsubscribe_url: None,
        message_token: hearth_core::accounts::tokens::random_token(),
    };
    let host = settings.email.smtp_host.as_deref().unwrap_or_default();
    match sender.send(&mail) {
        Ok(()) => {
            println!(
                "the SMTP server {host}:{} accepted the test mail to {address}",
                settings.email.smtp_port
            );
            Ok(())
        }
        Err(error) => Err(format!(
            "the test mail to {address} was not sent through {host}:{}: {error}",
            settings.email.smtp_port
        )),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
