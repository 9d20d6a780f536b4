//! Loading the shared XSS payload corpus and wrapping payloads in Markdown.
//!
//! Included (via `#[path]`) by both the crate's unit tests and
//! `tests/xss_corpus.rs`, so the two agree on where the corpus lives and on
//! which Markdown contexts each payload is tried in.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The corpus's place relative to the directory holding the workspace.
const CORPUS_BESIDE_ROOT: &str = "shared/security/xss-payloads.txt";

/// Overrides the corpus location, e.g. to test a new payload list.
pub const PATH_VARIABLE: &str = "HEARTH_XSS_PAYLOADS";

/// Where the corpus is read from: `$HEARTH_XSS_PAYLOADS` if set, otherwise
/// `shared/security/xss-payloads.txt` beside the workspace root. The file is
/// shared test data and is deliberately not copied into the project.
pub fn corpus_path() -> PathBuf {
    if let Some(path) = std::env::var_os(PATH_VARIABLE) {
        return PathBuf::from(path);
    }
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Resolving the `..`s only makes the path readable in messages; the
    // unresolved form names the same file if that fails.
    match workspace_root.canonicalize() {
        Ok(root) => match root.parent() {
            Some(beside_root) => beside_root.join(CORPUS_BESIDE_ROOT),
            None => root.join("..").join(CORPUS_BESIDE_ROOT),
        },
        Err(_) => workspace_root.join("..").join(CORPUS_BESIDE_ROOT),
    }
}

/// The corpus, one payload per non-empty line.
///
/// Returns `None`, after saying so on stderr, when the default file does not
/// exist, so machines without the shared data skip rather than fail. A path
/// named explicitly in `$HEARTH_XSS_PAYLOADS` must exist: asking for a
/// corpus and silently testing nothing would be worse than failing.
pub fn load_payloads() -> Option<Vec<String>> {
    let path = corpus_path();
    match std::fs::read(&path) {
        // Some payloads are deliberately malformed; lossy decoding keeps
        // every line testable instead of rejecting the whole file.
        Ok(bytes) => Some(
            String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Err(err)
            if err.kind() == ErrorKind::NotFound && std::env::var_os(PATH_VARIABLE).is_none() =>
        {
            eprintln!("xss corpus not found at {}: skipped", path.display());
            None
        }
        Err(err) => panic!("cannot read xss corpus at {}: {err}", path.display()),
    }
}

/// `payload` as typed, and wrapped in the Markdown constructs whose
/// rendering treats text differently (link targets, alt text, table cells…).
pub fn in_contexts(payload: &str) -> Vec<(&'static str, String)> {
    vec![
        ("as-is", payload.to_owned()),
        ("link target", format!("[x]({payload})")),
        ("link text", format!("[{payload}](https://example.com/)")),
        ("image target", format!("![x]({payload})")),
        (
            "image alt",
            format!("![{payload}](https://example.com/i.png)"),
        ),
        ("angle autolink", format!("<{payload}>")),
        (
            "table cell",
            format!("| a | b |\n|---|:-:|\n| {payload} | x |"),
        ),
        ("blockquote", format!("> {payload}")),
        ("task item", format!("- [ ] {payload}")),
        ("heading", format!("# {payload}")),
    ]
}
