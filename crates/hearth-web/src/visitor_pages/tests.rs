use super::*;

fn pages() -> VisitorPages {
    VisitorPages::new(true, Budget::default())
}

/// A page of `n` bytes.
fn html(n: usize) -> Bytes {
    Bytes::from(vec![b'x'; n])
}

#[test]
fn a_write_makes_every_kept_page_out_of_date() {
    let pages = pages();
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
fn a_disarmed_marker_keeps_the_pages() {
    let pages = pages();
    pages.keep("/", pages.generation(), Bytes::from_static(b"home"));
    let mut marker = pages.write_marker();
    marker.disarm();
    drop(marker);
    assert_eq!(pages.get("/").as_deref(), Some(&b"home"[..]));
}

#[test]
fn a_page_loaded_before_a_write_is_not_kept() {
    let pages = pages();
    let loaded_at = pages.generation();
    // A write finishes while the page renders.
    drop(pages.write_marker());
    pages.keep("/b/grief", loaded_at, Bytes::from_static(b"old"));
    assert_eq!(pages.get("/b/grief"), None);
}

#[test]
fn nothing_is_kept_when_disabled() {
    let off = VisitorPages::new(false, Budget::default());
    off.keep("/", off.generation(), Bytes::from_static(b"x"));
    assert_eq!(off.get("/"), None);
}

#[test]
fn a_page_over_the_per_page_cap_is_never_kept() {
    let pages = VisitorPages::new(
        true,
        Budget {
            total_bytes: 1_000_000,
            page_bytes: 10_000,
        },
    );
    let fits = 10_000 - ENTRY_BYTES - "/t/1".len();
    pages.keep("/t/1", 0, html(fits));
    assert!(pages.get("/t/1").is_some());
    pages.keep("/t/2", 0, html(fits + 1));
    assert_eq!(pages.get("/t/2"), None);
    // Nor does an oversized page push out what was kept.
    assert!(pages.get("/t/1").is_some());
    assert_eq!(pages.lock().bytes, 10_000);
}

#[test]
fn the_kept_pages_stay_within_their_byte_budget() {
    let budget = Budget {
        total_bytes: 100_000,
        page_bytes: 30_000,
    };
    let pages = VisitorPages::new(true, budget);
    // 300 pages of 10 KB: 3 MB offered to a 100 KB budget.
    for n in 0..300 {
        pages.keep(&format!("/t/{n}"), 0, html(10_000));
        let shelf = pages.lock();
        let counted: usize = shelf
            .pages
            .iter()
            .map(|(path, kept)| cost(path, &kept.html))
            .sum();
        assert_eq!(shelf.bytes, counted);
        assert!(shelf.bytes <= budget.total_bytes, "{} bytes", shelf.bytes);
    }
    // The newest are kept, the oldest gave way.
    assert!(pages.get("/t/299").is_some());
    assert_eq!(pages.get("/t/0"), None);
    assert_eq!(pages.lock().pages.len(), 9);
}

#[test]
fn keeping_a_page_again_replaces_it_and_counts_it_once() {
    let pages = pages();
    for _ in 0..5 {
        pages.keep("/", 0, html(1_000));
    }
    assert_eq!(pages.lock().bytes, cost("/", &html(1_000)));
}

#[test]
fn out_of_date_pages_make_room_first() {
    let budget = Budget {
        total_bytes: 3 * (10_000 + ENTRY_BYTES + 4),
        page_bytes: 20_000,
    };
    let pages = VisitorPages::new(true, budget);
    pages.keep("/t/1", 0, html(10_000));
    pages.keep("/t/2", 0, html(10_000));
    drop(pages.write_marker());
    let current = pages.generation();
    pages.keep("/t/3", current, html(10_000));
    pages.keep("/t/4", current, html(10_000));
    // The two stale pages went, not the current one kept before them.
    pages.keep("/t/5", current, html(10_000));
    assert!(pages.get("/t/3").is_some());
    assert!(pages.get("/t/4").is_some());
    assert!(pages.get("/t/5").is_some());
    assert_eq!(pages.lock().pages.len(), 3);
}
