//! The Lua scripts wrk runs, one per scenario, and the target lists they read.
//!
//! Targets live in plain text files (one per line) that each wrk thread reads in `init`, rather
//! than in the script itself: LuaJIT limits the constants of one chunk, and files keep the
//! scripts short enough to read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What a scenario's requests are.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptSpec {
    /// The file of GET paths to draw reads from.
    pub reads: &'static str,
    /// Reads carry a random prepared member's session cookie.
    pub signed_in_reads: bool,
    /// Share of requests that are replies (0 for read-only scenarios, 1 for replies only).
    pub reply_share: f64,
    /// The file of thread ids replies go to.
    pub reply_threads: &'static str,
    /// Replies are sent only in the first this many seconds, then reads: wrk drops responses
    /// still in flight when it stops, so without a quiet tail some committed replies would
    /// never be counted as acknowledged.
    pub reply_seconds: u64,
    /// Prefix of every submission key, unique per run, so the run's posts can be counted.
    pub run_id: String,
}

pub const THREAD_PATHS: &str = "thread_paths.txt";
pub const BOARD_PATHS: &str = "board_paths.txt";
pub const HOME_PATHS: &str = "home_paths.txt";
pub const SEARCH_COMMON: &str = "search_common.txt";
pub const SEARCH_RARE: &str = "search_rare.txt";
pub const SESSIONS: &str = "sessions.txt";
pub const REPLY_THREADS: &str = "reply_threads.txt";
/// The one thread of the `reply-watched` scenario.
pub const WATCHED_THREADS: &str = "watched_threads.txt";
pub const BODIES: &str = "bodies.txt";

pub fn write_lines(dir: &Path, name: &str, lines: &[String]) -> Result<(), String> {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
}

/// Writes the script for `spec` into `dir` (beside the target files) and returns its path.
pub fn write_script(dir: &Path, name: &str, spec: &ScriptSpec) -> Result<PathBuf, String> {
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, script(dir, spec)).map_err(|e| format!("cannot write a script: {e}"))?;
    Ok(path)
}

pub fn script(dir: &Path, spec: &ScriptSpec) -> String {
    let mut lua = String::new();
    let _ = writeln!(lua, "-- Written by hearth-bench; see docs/performance.md.");
    let _ = writeln!(lua, "local dir = {:?}", dir.to_string_lossy());
    let _ = writeln!(lua, "local reads_file = {:?}", spec.reads);
    let _ = writeln!(lua, "local signed_in_reads = {}", spec.signed_in_reads);
    let _ = writeln!(lua, "local reply_share = {}", spec.reply_share);
    let _ = writeln!(lua, "local reply_threads_file = {:?}", spec.reply_threads);
    let _ = writeln!(lua, "local reply_seconds = {}", spec.reply_seconds);
    let _ = writeln!(lua, "local run_id = {:?}", spec.run_id);
    lua.push_str(COMMON);
    if spec.reply_share > 0.0 {
        lua.push_str(COUNT_RESPONSES);
    }
    lua
}

/// The body shared by every scenario. Globals (not locals) are the per-thread counters that
/// `done` collects with `thread:get`.
const COMMON: &str = r#"
local function lines(name)
  local t = {}
  for line in io.lines(dir .. "/" .. name) do
    if line ~= "" then t[#t + 1] = line end
  end
  return t
end

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(id * 7919)
  paths = lines(reads_file)
  sessions = {}
  if signed_in_reads or reply_share > 0 then
    for _, line in ipairs(lines("sessions.txt")) do
      local token, csrf = line:match("(%S+) (%S+)")
      sessions[#sessions + 1] = { cookie = "hearth_session=" .. token, csrf = csrf }
    end
  end
  if reply_share > 0 then
    reply_threads = lines(reply_threads_file)
    bodies = lines("bodies.txt")
  end
  stop_replies_at = os.time() + reply_seconds
  sent = 0
  status_303 = 0
  status_unexpected = 0
end

local function read()
  local path = paths[math.random(#paths)]
  if signed_in_reads then
    local s = sessions[math.random(#sessions)]
    return wrk.format("GET", path, { Cookie = s.cookie })
  end
  return wrk.format("GET", path)
end

local function reply()
  local s = sessions[math.random(#sessions)]
  sent = sent + 1
  local key = string.format("%s-%d-%07d", run_id, id, sent)
  -- The seeded groups have ground rules (version 1): each reply accepts them, as a member's
  -- first post there would.
  local body = "csrf_token=" .. s.csrf .. "&submission_key=" .. key .. "&accept_rules=1"
    .. "&body=" .. bodies[math.random(#bodies)]
  local path = "/t/" .. reply_threads[math.random(#reply_threads)] .. "/reply"
  return wrk.format("POST", path, {
    Cookie = s.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function request()
  if reply_share > 0 and math.random() < reply_share and os.time() < stop_replies_at then
    return reply()
  end
  return read()
end
"#;

/// Only scenarios with replies count statuses: a `response` callback makes wrk hand every
/// response to Lua, which costs the load generator CPU the read scenarios should not pay.
const COUNT_RESPONSES: &str = r#"
function response(status, headers, body)
  if status == 303 then
    status_303 = status_303 + 1
  elseif status ~= 200 then
    status_unexpected = status_unexpected + 1
  end
end

function done(summary, latency, requests)
  local sent_all, ok, unexpected = 0, 0, 0
  for _, thread in ipairs(threads) do
    sent_all = sent_all + thread:get("sent")
    ok = ok + thread:get("status_303")
    unexpected = unexpected + thread:get("status_unexpected")
  end
  io.write(string.format("hearth-bench: replies_sent=%d status_303=%d status_unexpected=%d\n",
    sent_all, ok, unexpected))
end
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_scripts_leave_responses_to_wrk() {
        let spec = ScriptSpec {
            reads: THREAD_PATHS,
            signed_in_reads: false,
            reply_share: 0.0,
            reply_threads: REPLY_THREADS,
            reply_seconds: 0,
            run_id: "hbtest".to_owned(),
        };
        let lua = script(Path::new("/tmp/x"), &spec);
        assert!(lua.contains("local dir = \"/tmp/x\""));
        assert!(!lua.contains("function response"));
        let mix = script(
            Path::new("/tmp/x"),
            &ScriptSpec {
                reply_share: 0.05,
                ..spec
            },
        );
        assert!(mix.contains("local reply_share = 0.05"));
        assert!(mix.contains("function response"));
        assert!(mix.contains("local reply_threads_file = \"reply_threads.txt\""));
    }
}
