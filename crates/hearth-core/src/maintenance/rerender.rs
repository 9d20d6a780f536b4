//! Brings stored HTML up to the current renderer (`hearth rerender`), after an upgrade that
//! changed `hearth_markdown::RENDERER_VERSION`. Posts go in batches, each its own transaction,
//! so the forum stays writable while it runs. A post's `@mentions` are looked up again (one
//! query per batch), so a name that belongs to a member now is linked and one whose member is
//! gone is text; nobody is notified by a rerender.

use diesel::prelude::*;

use crate::db::schema::{boards, members, posts};
use crate::db::{write_tx, DbConn};
use crate::error::Result;
use crate::forum::addressing;
use crate::ids::{BoardId, MemberId, PostId};

const BATCH: i64 = 500;

/// What a rerender did: how many of each were rendered again, and of those how many came out
/// different from what was stored (`changed`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rerendered {
    pub posts: usize,
    pub bios: usize,
    pub ground_rules: usize,
    pub changed: Changed,
}

/// How many of each kind were stored differently after a rerender.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub posts: usize,
    pub bios: usize,
    pub ground_rules: usize,
}

/// How much a rerender has to do: posts of an older renderer, bios, ground rules (for a
/// progress bar).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    pub posts: u64,
    pub bios: u64,
    pub ground_rules: u64,
}

impl Work {
    pub fn total(&self) -> u64 {
        self.posts + self.bios + self.ground_rules
    }
}

/// Counts what [`rerender_all`] would render again now.
pub fn work(conn: &mut DbConn) -> Result<Work> {
    let posts: i64 = posts::table
        .filter(posts::render_version.lt(hearth_markdown::RENDERER_VERSION))
        .count()
        .get_result(conn)?;
    let bios: i64 = members::table
        .filter(members::bio.ne(""))
        .count()
        .get_result(conn)?;
    let ground_rules: i64 = boards::table.count().get_result(conn)?;
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    Ok(Work {
        posts: count(posts),
        bios: count(bios),
        ground_rules: count(ground_rules),
    })
}

pub fn rerender_all(conn: &mut DbConn) -> Result<Rerendered> {
    rerender_all_with(conn, &mut |_| {})
}

/// As [`rerender_all`], calling `progress` with the number of items just done after each
/// batch of posts and after the bios and the ground rules.
pub fn rerender_all_with(conn: &mut DbConn, progress: &mut dyn FnMut(usize)) -> Result<Rerendered> {
    let mut changed = Changed::default();
    let posts = rerender_posts(conn, &mut changed.posts, progress)?;
    let bios = rerender_bios(conn, &mut changed.bios)?;
    progress(bios);
    let ground_rules = rerender_rules(conn, &mut changed.ground_rules)?;
    progress(ground_rules);
    Ok(Rerendered {
        posts,
        bios,
        ground_rules,
        changed,
    })
}

/// Posts whose stored renderer version is older than the current one.
fn rerender_posts(
    conn: &mut DbConn,
    changed: &mut usize,
    progress: &mut dyn FnMut(usize),
) -> Result<usize> {
    let mut done = 0;
    loop {
        let batch: Vec<(PostId, String, String)> = posts::table
            .filter(posts::render_version.lt(hearth_markdown::RENDERER_VERSION))
            .order(posts::id.asc())
            .limit(BATCH)
            .select((posts::id, posts::source, posts::html))
            .load(conn)?;
        if batch.is_empty() {
            return Ok(done);
        }
        done += batch.len();
        *changed += write_tx(conn, |conn| {
            let references: Vec<hearth_markdown::References> = batch
                .iter()
                .map(|(_, source, _)| hearth_markdown::references(source))
                .collect();
            let mut lower: Vec<&str> = references
                .iter()
                .flat_map(|r| r.mentions.iter().map(|m| m.name.as_str()))
                .collect();
            lower.sort_unstable();
            lower.dedup();
            let found = addressing::members_named(conn, &lower)?;
            let mut changed = 0;
            for ((id, source, stored), references) in batch.iter().zip(&references) {
                let names = addressing::names_of(references, &found);
                let html = hearth_markdown::render_post(source, &names.known);
                changed += usize::from(html.as_str() != stored);
                diesel::update(posts::table.find(*id))
                    .set((
                        posts::html.eq(html.as_str()),
                        posts::render_version.eq(hearth_markdown::RENDERER_VERSION),
                    ))
                    .execute(conn)?;
            }
            Ok(changed)
        })?;
        progress(batch.len());
    }
}

/// Opening posts written before excerpts were stored (their `excerpt` is NULL) get one, a
/// batch per transaction; run when the server starts. Returns how many were filled.
pub fn fill_excerpts(conn: &mut DbConn) -> Result<usize> {
    let mut done = 0;
    loop {
        let batch: Vec<(PostId, String)> = posts::table
            .filter(posts::position.eq(1))
            .filter(posts::excerpt.is_null())
            .order(posts::id.asc())
            .limit(BATCH)
            .select((posts::id, posts::source))
            .load(conn)?;
        if batch.is_empty() {
            return Ok(done);
        }
        done += batch.len();
        let excerpts: Vec<String> = batch
            .iter()
            .map(|(_, source)| crate::forum::posts::excerpt_of(source))
            .collect();
        write_tx(conn, |conn| {
            for ((id, _), excerpt) in batch.iter().zip(&excerpts) {
                diesel::update(posts::table.find(*id).filter(posts::excerpt.is_null()))
                    .set(posts::excerpt.eq(excerpt))
                    .execute(conn)?;
            }
            Ok(())
        })?;
    }
}

/// Bios and ground rules carry no version; they are few, so all are rendered again (and
/// written only where the HTML differs).
fn rerender_bios(conn: &mut DbConn, changed: &mut usize) -> Result<usize> {
    let bios: Vec<(MemberId, String, String)> = members::table
        .filter(members::bio.ne(""))
        .select((members::id, members::bio, members::bio_html))
        .load(conn)?;
    *changed += write_tx(conn, |conn| {
        let mut changed = 0;
        for (id, bio, stored) in &bios {
            let html = hearth_markdown::render(bio);
            if html.as_str() != stored {
                changed += 1;
                diesel::update(members::table.find(*id))
                    .set(members::bio_html.eq(html.as_str()))
                    .execute(conn)?;
            }
        }
        Ok(changed)
    })?;
    Ok(bios.len())
}

fn rerender_rules(conn: &mut DbConn, changed: &mut usize) -> Result<usize> {
    let rules: Vec<(BoardId, String, String)> = boards::table
        .select((boards::id, boards::ground_rules, boards::ground_rules_html))
        .load(conn)?;
    *changed += write_tx(conn, |conn| {
        let mut changed = 0;
        for (id, text, stored) in &rules {
            let html = hearth_markdown::render(text);
            if html.as_str() != stored {
                changed += 1;
                diesel::update(boards::table.find(*id))
                    .set(boards::ground_rules_html.eq(html.as_str()))
                    .execute(conn)?;
            }
        }
        Ok(changed)
    })?;
    Ok(rules.len())
}

#[cfg(test)]
mod tests;
