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
//! a 200. What is kept is bounded in bytes: a page larger than the per-page cap is never kept,
//! and when the budget is full, out-of-date pages go first, then the longest kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// How long a page is kept at most, even if nothing is written.
const LIFETIME: Duration = Duration::from_secs(30);
/// What a kept page costs besides its path and HTML: its map entry, its time, its counters.
const ENTRY_BYTES: usize = 128;

/// How many bytes the kept pages may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Every kept page together (paths, HTML and bookkeeping).
    pub total_bytes: usize,
    /// One page; a larger one is served but not kept.
    pub page_bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            total_bytes: 32 * 1024 * 1024,
            page_bytes: 1024 * 1024,
        }
    }
}

pub struct VisitorPages {
    enabled: bool,
    budget: Budget,
    generation: Arc<AtomicU64>,
    shelf: Mutex<Shelf>,
}

#[derive(Default)]
struct Shelf {
    pages: HashMap<String, Kept>,
    /// What `pages` costs, by [`cost`].
    bytes: usize,
}

struct Kept {
    generation: u64,
    at: Instant,
    html: Bytes,
}

fn cost(path: &str, html: &Bytes) -> usize {
    path.len()
        .saturating_add(html.len())
        .saturating_add(ENTRY_BYTES)
}

impl VisitorPages {
    pub fn new(enabled: bool, budget: Budget) -> VisitorPages {
        VisitorPages {
            enabled,
            budget,
            generation: Arc::new(AtomicU64::new(0)),
            shelf: Mutex::new(Shelf::default()),
        }
    }

    /// Marks every page kept so far out of date when dropped ("something may have been
    /// written"), on the thread that wrote: after the write committed, even if the request
    /// that asked for it has gone (its future dropped) or the operation panicked after
    /// committing. [`WriteMarker::disarm`] it when nothing visitors see was written.
    pub fn write_marker(&self) -> WriteMarker {
        WriteMarker(Some(self.generation.clone()))
    }

    /// Whether pages are kept at all (SQLite, and `cache_visitor_pages` on).
    pub fn enabled(&self) -> bool {
        self.enabled
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
        let shelf = self.lock();
        let kept = shelf.pages.get(path)?;
        kept.is_current(current).then(|| kept.html.clone())
    }

    /// Keeps `html` for `path`, rendered from data loaded at `generation`, unless it is larger
    /// than a page may be.
    pub fn keep(&self, path: &str, generation: u64, html: Bytes) {
        if !self.enabled {
            return;
        }
        let current = self.generation();
        let needed = cost(path, &html);
        if generation != current || needed > self.budget.page_bytes.min(self.budget.total_bytes) {
            return;
        }
        let mut shelf = self.lock();
        shelf.remove(path);
        if shelf.bytes.saturating_add(needed) > self.budget.total_bytes {
            shelf.make_room(needed, self.budget.total_bytes, current);
        }
        shelf.bytes = shelf.bytes.saturating_add(needed);
        shelf.pages.insert(
            path.to_owned(),
            Kept {
                generation,
                at: Instant::now(),
                html,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shelf> {
        // A map of finished pages: a panic elsewhere cannot leave one half-written.
        self.shelf
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Shelf {
    fn remove(&mut self, path: &str) {
        if let Some(old) = self.pages.remove(path) {
            self.bytes = self.bytes.saturating_sub(cost(path, &old.html));
        }
    }

    /// Frees `needed` bytes under `total`: out-of-date pages first, then the longest kept.
    fn make_room(&mut self, needed: usize, total: usize, current: u64) {
        self.pages.retain(|_, kept| kept.is_current(current));
        self.bytes = self
            .pages
            .iter()
            .map(|(path, kept)| cost(path, &kept.html))
            .sum();
        if self.bytes.saturating_add(needed) <= total {
            return;
        }
        let mut by_age: Vec<(Instant, String)> = self
            .pages
            .iter()
            .map(|(path, kept)| (kept.at, path.clone()))
            .collect();
        by_age.sort();
        for (_, path) in by_age {
            if self.bytes.saturating_add(needed) <= total {
                break;
            }
            self.remove(&path);
        }
    }
}

/// Bumps the generation when dropped, unless disarmed.
pub struct WriteMarker(Option<Arc<AtomicU64>>);

impl WriteMarker {
    /// Nothing visitors see was written: keep the pages kept.
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for WriteMarker {
    fn drop(&mut self) {
        if let Some(generation) = &self.0 {
            generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Kept {
    fn is_current(&self, generation: u64) -> bool {
        self.generation == generation && self.at.elapsed() < LIFETIME
    }
}

#[cfg(test)]
mod tests;
