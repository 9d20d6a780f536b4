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

/// What a rerender changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rerendered {
    pub posts: usize,
    pub bios: usize,
    pub ground_rules: usize,
}

pub fn rerender_all(conn: &mut DbConn) -> Result<Rerendered> {
    Ok(Rerendered {
        posts: rerender_posts(conn)?,
        bios: rerender_bios(conn)?,
        ground_rules: rerender_rules(conn)?,
    })
}

/// Posts whose stored renderer version is older than the current one.
fn rerender_posts(conn: &mut DbConn) -> Result<usize> {
    let mut done = 0;
    loop {
        let batch: Vec<(PostId, String)> = posts::table
            .filter(posts::render_version.lt(hearth_markdown::RENDERER_VERSION))
            .order(posts::id.asc())
            .limit(BATCH)
            .select((posts::id, posts::source))
            .load(conn)?;
        if batch.is_empty() {
            return Ok(done);
        }
        done += batch.len();
        write_tx(conn, |conn| {
            let references: Vec<hearth_markdown::References> = batch
                .iter()
                .map(|(_, source)| hearth_markdown::references(source))
                .collect();
            let mut lower: Vec<&str> = references
                .iter()
                .flat_map(|r| r.mentions.iter().map(|m| m.name.as_str()))
                .collect();
            lower.sort_unstable();
            lower.dedup();
            let found = addressing::members_named(conn, &lower)?;
            for ((id, source), references) in batch.iter().zip(&references) {
                let names = addressing::names_of(references, &found);
                let html = hearth_markdown::render_post(source, &names.known);
                diesel::update(posts::table.find(*id))
                    .set((
                        posts::html.eq(html.as_str()),
                        posts::render_version.eq(hearth_markdown::RENDERER_VERSION),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })?;
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

/// Bios and ground rules carry no version; they are few, so all are rendered again.
fn rerender_bios(conn: &mut DbConn) -> Result<usize> {
    let bios: Vec<(MemberId, String)> = members::table
        .filter(members::bio.ne(""))
        .select((members::id, members::bio))
        .load(conn)?;
    write_tx(conn, |conn| {
        for (id, bio) in &bios {
            diesel::update(members::table.find(*id))
                .set(members::bio_html.eq(hearth_markdown::render(bio).as_str()))
                .execute(conn)?;
        }
        Ok(bios.len())
    })
}

fn rerender_rules(conn: &mut DbConn) -> Result<usize> {
    let rules: Vec<(BoardId, String)> = boards::table
        .select((boards::id, boards::ground_rules))
        .load(conn)?;
    write_tx(conn, |conn| {
        for (id, text) in &rules {
            diesel::update(boards::table.find(*id))
                .set(boards::ground_rules_html.eq(hearth_markdown::render(text).as_str()))
                .execute(conn)?;
        }
        Ok(rules.len())
    })
}

#[cfg(test)]
mod tests;
