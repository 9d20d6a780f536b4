//! Rendered pages for visitors, kept until anything is written.
//!
//! Everyone who is not signed in sees the same home page, board pages and thread pages, so
//! those are rendered once and served again until the data under them may have changed. Any
//! database operation that can write ([`crate::state::db`]) marks every kept page out of date
//! when it finishes; page loads ([`crate::state::read`]) cannot write. A page is kept under
//! the generation taken *before* its data was loaded, so a write that lands while it renders
//! makes it out of date at once, never the other way round.
//!
//! Only on SQLite, where this process is the only writer. Other processes writing to the file
//! (`hearth admin create`, `hearth rerender`) and the passing of time (a group's next meeting)
//! are covered by a short lifetime. On PostgreSQL, other nodes write without telling this
//! one, so nothing is kept.
//!
//! A page is kept only if it carried no form token (visitor tokens are per visitor) and was
//! a 200.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// How long a page is kept at most, even if nothing is written.
const LIFETIME: Duration = Duration::from_secs(30);
/// At most this many pages (about 30 KB each).
const MAX_PAGES: usize = 256;

pub struct VisitorPages {
    enabled: bool,
    generation: Arc<AtomicU64>,
    pages: Mutex<HashMap<String, Kept>>,
}

struct Kept {
    generation: u64,
    at: Instant,
    html: Bytes,
}

impl VisitorPages {
    pub fn new(enabled: bool) -> VisitorPages {
        VisitorPages {
            enabled,
            generation: Arc::new(AtomicU64::new(0)),
            pages: Mutex::new(HashMap::new()),
        }
    }

    /// Marks every page kept so far out of date when dropped ("something may have been
    /// written"), on the thread that wrote: after the write committed, even if the request
    /// that asked for it has gone (its future dropped) or the operation panicked after
    /// committing.
    pub fn write_marker(&self) -> WriteMarker {
        WriteMarker(self.generation.clone())
    }

    /// The generation to keep a page under: taken before loading what the page shows.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The kept page at `path`, if it is still current.
    pub fn get(&self, path: &str) -> Option<Bytes> {
        if !self.enabled {
            return None;
        }
        let current = self.generation();
        let pages = self.lock();
        let kept = pages.get(path)?;
        kept.is_current(current).then(|| kept.html.clone())
    }

    /// Keeps `html` for `path`, rendered from data loaded at `generation`.
    pub fn keep(&self, path: &str, generation: u64, html: Bytes) {
        if !self.enabled {
            return;
        }
        let current = self.generation();
        if generation != current {
            return;
        }
        let mut pages = self.lock();
        if pages.len() >= MAX_PAGES && !pages.contains_key(path) {
            pages.retain(|_, kept| kept.is_current(current));
            if pages.len() >= MAX_PAGES {
                // Full of current pages: start again rather than keep the first comers for
                // good (renders refill it with what is read now).
                pages.clear();
            }
        }
        pages.insert(
            path.to_owned(),
            Kept {
                generation,
                at: Instant::now(),
                html,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        // A map of finished pages: a panic elsewhere cannot leave one half-written.
        self.pages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct WriteMarker(Arc<AtomicU64>);

impl Drop for WriteMarker {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Kept {
    fn is_current(&self, generation: u64) -> bool {
        self.generation == generation && self.at.elapsed() < LIFETIME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_makes_every_kept_page_out_of_date() {
        let pages = VisitorPages::new(true);
        let before = pages.generation();
        pages.keep("/", before, Bytes::from_static(b"home"));
        assert_eq!(pages.get("/").as_deref(), Some(&b"home"[..]));
        // A marker handed to a database thread, dropped there when its operation ends.
        let marker = pages.write_marker();
        assert_eq!(pages.get("/").as_deref(), Some(&b"home"[..]));
        std::thread::spawn(move || drop(marker)).join().unwrap();
        assert_eq!(pages.get("/"), None);
    }

    #[test]
    fn a_page_loaded_before_a_write_is_not_kept() {
        let pages = VisitorPages::new(true);
        let loaded_at = pages.generation();
        // A write finishes while the page renders.
        drop(pages.write_marker());
        pages.keep("/b/grief", loaded_at, Bytes::from_static(b"old"));
        assert_eq!(pages.get("/b/grief"), None);
    }

    #[test]
    fn nothing_is_kept_when_disabled_and_the_size_is_bounded() {
        let off = VisitorPages::new(false);
        off.keep("/", off.generation(), Bytes::from_static(b"x"));
        assert_eq!(off.get("/"), None);
        let pages = VisitorPages::new(true);
        for n in 0..MAX_PAGES {
            pages.keep(&format!("/t/{n}"), 0, Bytes::from_static(b"x"));
        }
        assert_eq!(pages.lock().len(), MAX_PAGES);
        assert!(pages.get("/t/0").is_some());
        // One more starts the map again, holding the newcomer.
        pages.keep("/t/new", 0, Bytes::from_static(b"x"));
        assert_eq!(pages.lock().len(), 1);
        assert!(pages.get("/t/new").is_some());
        assert_eq!(pages.get("/t/0"), None);
    }
}
