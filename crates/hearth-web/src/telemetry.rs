//! Prometheus metrics: the recorder, the web layer's series, and the text `/metrics` serves
//! (`handlers::metrics`).
//!
//! One Prometheus recorder per process, installed the first time a server with metrics on
//! starts; the core records into it through the `metrics` facade (`hearth_core::telemetry`).
//! Labels hold only what the server itself chose: a route *pattern* from the route table
//! (`/t/{id}`, never the path a visitor typed; a request no route matched is `unmatched`), one
//! of a few method names, and a status code. So no label can hold member content, a name, a
//! group's slug or an address, and a visitor cannot make new series.
//!
//! Per request: two read-locked map lookups (the pattern interned, then its handles), an atomic
//! add and a histogram sample; handles are registered once per route, method and status.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use hearth_core::accounts::tokens;
use hearth_core::mail::Secret;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "hearth_http_requests_total";
pub const HTTP_DURATION: &str = "hearth_http_request_duration_seconds";
pub const KEPT_PAGE_HITS: &str = "hearth_kept_page_hits_total";
pub const KEPT_PAGE_MISSES: &str = "hearth_kept_page_misses_total";

/// The `route` label of a request no route matched: one series for every unknown path.
pub const UNMATCHED: &str = "unmatched";

/// Request durations: a kept page takes a fraction of a millisecond, a reply a few, a slow
/// page a second.
const REQUEST_BUCKETS: [f64; 12] = [
    0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// Waits for a connection or the write lock: usually microseconds, at worst the pool's 30 s.
const WAIT_BUCKETS: [f64; 9] = [0.00001, 0.0001, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0];

/// How often histogram samples are folded into their buckets, scraped or not (so they never
/// pile up in memory between scrapes).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on the first call; `None` if it could not be (another
/// recorder was installed first), which is logged.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &REQUEST_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Prefix("hearth_db_".to_owned()), &WAIT_BUCKETS)
        });
    let builder = match builder {
        Ok(builder) => builder,
        Err(e) => {
            tracing::warn!(error = %e, "the metrics recorder cannot be built");
            return None;
        }
    };
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if let Err(e) = metrics::set_global_recorder(recorder) {
        tracing::warn!(error = %e, "another metrics recorder is installed");
        return None;
    }
    describe();
    hearth_core::telemetry::describe();
    let upkeep = handle.clone();
    let started = std::thread::Builder::new()
        .name("hearth-metrics".to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            upkeep.run_upkeep();
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "the metrics upkeep thread cannot start");
    }
    Some(handle)
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        metrics::Unit::Count,
        "Requests answered, by route pattern (unmatched: no route), method and status."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer a request, by route pattern and method."
    );
    metrics::describe_counter!(
        KEPT_PAGE_HITS,
        metrics::Unit::Count,
        "Visitors' pages served from the kept copy."
    );
    metrics::describe_counter!(
        KEPT_PAGE_MISSES,
        metrics::Unit::Count,
        "Visitors' pages that had to be rendered (none kept, or out of date)."
    );
}

/// The `method` label: the methods Hearth answers, and `other` for any made-up one.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// One series' handles.
struct Series {
    requests: Counter,
    duration: Histogram,
}

type SeriesKey = (&'static str, &'static str, u16);

/// Route patterns as `&'static str`: one leaked copy per pattern of the route table (a bounded
/// set: labels never come from a path), so a series' key is three words, hashed without
/// allocating.
static PATTERNS: OnceLock<RwLock<HashMap<Box<str>, &'static str>>> = OnceLock::new();
static SERIES: OnceLock<RwLock<HashMap<SeriesKey, Series>>> = OnceLock::new();

fn intern(pattern: &str) -> &'static str {
    let patterns = PATTERNS.get_or_init(Default::default);
    if let Some(interned) = read(patterns).get(pattern) {
        return interned;
    }
    let mut patterns = write(patterns);
    if let Some(interned) = patterns.get(pattern) {
        return interned;
    }
    let interned: &'static str = Box::leak(pattern.into());
    patterns.insert(pattern.into(), interned);
    interned
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // The maps are only inserted into, whole, under the lock: a poisoned one is still whole.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts one answered request. `pattern` is the matched route's pattern, `None` when no route
/// matched.
pub fn record_request(pattern: Option<&str>, method: &Method, status: u16, took: Duration) {
    let route = pattern.map_or(UNMATCHED, intern);
    let key = (route, method_label(method), status);
    let series = SERIES.get_or_init(Default::default);
    let seconds = took.as_secs_f64();
    if let Some(found) = read(series).get(&key) {
        found.requests.increment(1);
        found.duration.record(seconds);
        return;
    }
    let (route, method, status) = key;
    let made = Series {
        requests: metrics::counter!(
            HTTP_REQUESTS,
            "route" => route,
            "method" => method,
            "status" => status.to_string()
        ),
        duration: metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method),
    };
    made.requests.increment(1);
    made.duration.record(seconds);
    write(series).entry(key).or_insert(made);
}

/// A visitor's page was served from its kept copy (`true`) or rendered.
pub fn record_kept_page(hit: bool) {
    if hit {
        metrics::counter!(KEPT_PAGE_HITS).increment(1);
    } else {
        metrics::counter!(KEPT_PAGE_MISSES).increment(1);
    }
}

/// How long the gauges read from the database are served again before they are read anew:
/// Prometheus scrapes every 15 to 60 s, and two scrapers (or a curious operator) cost one read.
const GAUGES_KEPT: Duration = Duration::from_secs(15);

/// A server's `/metrics`: the recorder's handle, the token it asks for, the gauges last read.
pub struct Exporter {
    handle: &'static PrometheusHandle,
    /// The token's SHA-256: a presented token is hashed and compared in constant time, so the
    /// comparison takes as long whatever its length and wherever it differs.
    token_hash: String,
    gauges: Mutex<Option<(Instant, String)>>,
}

impl Exporter {
    /// The exporter of a server with metrics on, `None` when the recorder cannot be installed.
    pub fn new(token: &Secret) -> Option<Exporter> {
        Some(Exporter {
            handle: recorder()?,
            token_hash: tokens::hash_token(&token.0),
            gauges: Mutex::new(None),
        })
    }

    /// Whether an `Authorization` header's value carries the token (`Bearer <token>`).
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(presented) = authorization.and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        }) else {
            return false;
        };
        tokens::constant_time_eq(&tokens::hash_token(presented.trim()), &self.token_hash)
    }

    /// The gauges' text if it was read less than [`GAUGES_KEPT`] ago.
    pub fn kept_gauges(&self) -> Option<String> {
        let kept = self.lock_gauges();
        kept.as_ref()
            .filter(|(at, _)| at.elapsed() < GAUGES_KEPT)
            .map(|(_, text)| text.clone())
    }

    pub fn keep_gauges(&self, text: &str) {
        *self.lock_gauges() = Some((Instant::now(), text.to_owned()));
    }

    fn lock_gauges(&self) -> std::sync::MutexGuard<'_, Option<(Instant, String)>> {
        self.gauges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every series the recorder holds, as Prometheus text.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// The gauges read from the database at scrape time, as Prometheus text.
pub fn gauges_text(gauges: &hearth_core::maintenance::gauges::Gauges) -> String {
    let rows: [(&str, &str, i64); 3] = [
        (
            "hearth_open_check_ins",
            "Crisis check-ins waiting in the review queue.",
            gauges.open_check_ins,
        ),
        (
            "hearth_unanswered_first_posts",
            "Threads whose visible first post no one but its author has answered.",
            gauges.unanswered_first_posts,
        ),
        (
            "hearth_mail_outbox_unsent",
            "Mail waiting to be sent (not given up).",
            gauges.outbox_unsent,
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in rows {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_up_method_shares_one_label() {
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&Method::GET), "GET");
    }

    #[test]
    fn a_pattern_is_interned_once() {
        let first = intern("/t/{id}");
        let again = intern(&String::from("/t/{id}"));
        assert!(std::ptr::eq(first, again));
    }
}
