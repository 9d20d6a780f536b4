//! Running wrk and reading what it prints.
//!
//! wrk (Debian's package) is a C load generator with LuaJIT scripting: on a 2-core machine that
//! also runs the server, it takes the least CPU away from the server of the generators we have.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// One wrk invocation.
#[derive(Debug, Clone)]
pub struct WrkRun {
    pub program: String,
    pub threads: u32,
    pub connections: u32,
    pub duration_s: u64,
    pub timeout_s: u64,
    pub script: PathBuf,
    pub url: String,
}

/// What wrk reported, plus the `hearth-bench: name=value` lines our scripts' `done` prints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrkResult {
    pub requests: u64,
    pub seconds: f64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// connect + read + write + timeout.
    pub socket_errors: u64,
    /// Responses with a status of 400 or more (wrk's "Non-2xx or 3xx responses").
    pub bad_status: u64,
    pub counters: BTreeMap<String, u64>,
}

impl WrkResult {
    pub fn errors(&self) -> u64 {
        self.socket_errors + self.bad_status
    }

    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }
}

pub fn run(run: &WrkRun) -> Result<WrkResult, String> {
    let output = Command::new(&run.program)
        .arg(format!("-t{}", run.threads))
        .arg(format!("-c{}", run.connections))
        .arg(format!("-d{}s", run.duration_s))
        .arg(format!("--timeout={}s", run.timeout_s))
        .arg("--latency")
        .arg("-s")
        .arg(&run.script)
        .arg(&run.url)
        .output()
        .map_err(|e| format!("cannot run {} (apt-get install -y wrk): {e}", run.program))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("wrk failed ({}): {stderr}{stdout}", output.status));
    }
    parse(&stdout).map_err(|e| format!("{e}; wrk printed:\n{stdout}"))
}

/// Reads wrk 4's report (run with `--latency`).
pub fn parse(output: &str) -> Result<WrkResult, String> {
    let mut result = WrkResult::default();
    let mut latencies = BTreeMap::new();
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [percent, value] if percent.ends_with('%') && !line.contains("Stdev") => {
                latencies.insert(*percent, time_ms(value)?);
            }
            [count, "requests", "in", seconds, ..] => {
                result.requests = number(count)?;
                result.seconds = time_ms(seconds.trim_end_matches(','))? / 1_000.0;
            }
            ["Requests/sec:", value] => result.requests_per_sec = float(value)?,
            ["Socket", "errors:", ..] => result.socket_errors = socket_errors(line)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => result.bad_status = number(n)?,
            ["hearth-bench:", pairs @ ..] => {
                for pair in pairs {
                    let (name, value) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("bad counter {pair}"))?;
                    result.counters.insert(name.to_owned(), number(value)?);
                }
            }
            _ => {}
        }
    }
    let percentile = |p: &str| {
        latencies
            .get(p)
            .copied()
            .ok_or_else(|| format!("no {p} latency (was wrk run with --latency?)"))
    };
    result.p50_ms = percentile("50%")?;
    result.p90_ms = percentile("90%")?;
    result.p99_ms = percentile("99%")?;
    if result.requests_per_sec == 0.0 && result.requests > 0 {
        return Err("no Requests/sec line".to_owned());
    }
    Ok(result)
}

fn number(text: &str) -> Result<u64, String> {
    text.trim_end_matches(',')
        .parse()
        .map_err(|_| format!("not a count: {text}"))
}

fn float(text: &str) -> Result<f64, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// wrk's times: `812.00us`, `5.68ms`, `1.02s`, `1.00m`, `2.00h` → milliseconds.
fn time_ms(text: &str) -> Result<f64, String> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("no unit in {text}"))?;
    let (value, unit) = text.split_at(split);
    let scale = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(format!("unknown time unit in {text}")),
    };
    Ok(float(value)? * scale)
}

/// `Socket errors: connect 0, read 3, write 0, timeout 12` → 15.
fn socket_errors(line: &str) -> Result<u64, String> {
    let (_, counts) = line
        .split_once(':')
        .ok_or_else(|| format!("bad line {line}"))?;
    counts
        .split(',')
        .map(|part| number(part.split_whitespace().last().unwrap_or_default()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `hearth-bench load`'s mix script: `wrk -t2 -c64 -d10s --timeout=10s
    /// --latency -s mix.lua` against `hearth serve` on the 1M-post database.
    const SAMPLE: &str = include_str!("wrk_sample.txt");

    #[test]
    fn reads_a_captured_report() {
        let r = parse(SAMPLE).unwrap();
        assert_eq!(r.requests, 24_823);
        assert!((r.seconds - 10.10).abs() < 1e-9);
        assert!((r.requests_per_sec - 2_457.90).abs() < 1e-9);
        assert!((r.p50_ms - 19.14).abs() < 1e-9);
        assert!((r.p90_ms - 167.08).abs() < 1e-9);
        assert!((r.p99_ms - 814.93).abs() < 1e-9);
        assert_eq!(r.errors(), 0);
        assert_eq!(r.counter("status_303"), 902);
        assert_eq!(r.counter("replies_sent"), 902);
    }

    /// wrk prints these lines only when something went wrong.
    #[test]
    fn reads_error_lines() {
        let report = SAMPLE.replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 3, write 0, timeout 12\n  \
             Non-2xx or 3xx responses: 2\nRequests/sec:",
        );
        let r = parse(&report).unwrap();
        assert_eq!(r.socket_errors, 15);
        assert_eq!(r.bad_status, 2);
        assert_eq!(r.errors(), 17);
    }

    #[test]
    fn needs_the_latency_distribution() {
        let without: String = SAMPLE
            .lines()
            .filter(|l| !l.contains('%') || l.contains("Stdev"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(parse(&without).unwrap_err().contains("--latency"));
    }

    #[test]
    fn converts_every_time_unit() {
        assert_eq!(time_ms("812.00us").unwrap(), 0.812);
        assert_eq!(time_ms("1.50s").unwrap(), 1_500.0);
        assert_eq!(time_ms("1.00m").unwrap(), 60_000.0);
        assert!(time_ms("3.0").is_err());
    }
}
