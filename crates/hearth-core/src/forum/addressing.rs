//! Whom a post speaks to by name: the members it mentions (`@username`) and the authors of the
//! posts it quotes.
//!
//! The renderer finds the candidates (`hearth_markdown::references`) and knows no members;
//! here they are looked up, once, before the post is rendered ([`resolve`]), and the names that
//! belong to a member are handed back to the renderer ([`Names::known`]) so that it links
//! exactly those. Inside the posting transaction [`addressed`] turns them into the
//! [`Addressed`] the fan-out tells, bounded by [`PostingRules::mentions_notified`]; the fan-out
//! decides with the policy who of them may read the post, so a mention of someone outside a
//! private group writes no notification at all.
//!
//! [`PostingRules::mentions_notified`]: crate::safety::gate::PostingRules::mentions_notified

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use hearth_markdown::{KnownNames, References};

use crate::db::schema::members;
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::forum::posts;
use crate::ids::{MemberId, PostId};
use crate::notifications::Addressed;
use crate::policy::MemberActor;

/// A source's mentions resolved to members, and the posts it quotes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// What the renderer may link.
    pub known: KnownNames,
    /// The members mentioned, in the order first named: `(member, name in lower case,
    /// whether the post speaks to them rather than only quoting someone who did)`.
    mentioned: Vec<(MemberId, String, bool)>,
    quoted_posts: Vec<PostId>,
}

/// Looks up the names `source` mentions: one query, at most
/// [`hearth_markdown::MAX_MENTIONS`] names.
pub(crate) fn resolve(conn: &mut DbConn, source: &str) -> Result<Names> {
    let references = hearth_markdown::references(source);
    let lower: Vec<&str> = references
        .mentions
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let found = members_named(conn, &lower)?;
    Ok(names_of(&references, &found))
}

/// Members whose lower-cased username is one of `lower`: `lower name → (id, username)`.
pub(crate) fn members_named(
    conn: &mut DbConn,
    lower: &[&str],
) -> Result<HashMap<String, (MemberId, String)>> {
    if lower.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(MemberId, String, String)> = members::table
        .filter(members::username_lower.eq_any(lower))
        .select((members::id, members::username, members::username_lower))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, username, lower)| (lower, (id, username)))
        .collect())
}

/// The references of one source with the members `found` for them (which may hold more).
pub(crate) fn names_of(
    references: &References,
    found: &HashMap<String, (MemberId, String)>,
) -> Names {
    let mut names = Names::default();
    for mention in &references.mentions {
        if let Some((id, username)) = found.get(&mention.name) {
            names.known.insert(username);
            names
                .mentioned
                .push((*id, mention.name.clone(), !mention.only_quoted));
        }
    }
    names.quoted_posts = references
        .quoted_posts
        .iter()
        .map(|&id| PostId(id))
        .collect();
    names
}

/// Inside the posting transaction: whom the post tells by name. Mentions of the post's own
/// words (not those inside a quote), the first `max_mentions` of them; the authors of the
/// quoted posts that `author` may read. With `before` (an edit's previous text), only those
/// it did not already name or quote.
pub(crate) fn addressed(
    conn: &mut DbConn,
    author: &MemberActor,
    names: &Names,
    before: Option<&str>,
    max_mentions: usize,
) -> Result<Addressed> {
    let earlier = before.map(hearth_markdown::references).unwrap_or_default();
    let named_before: HashSet<&str> = earlier
        .mentions
        .iter()
        .filter(|m| !m.only_quoted)
        .map(|m| m.name.as_str())
        .collect();
    let mentions: Vec<MemberId> = names
        .mentioned
        .iter()
        .filter(|(_, name, speaks)| *speaks && !named_before.contains(name.as_str()))
        .map(|(id, _, _)| *id)
        .take(max_mentions)
        .collect();
    let actor = author.actor();
    let mut replies_to = Vec::new();
    for &quoted in &names.quoted_posts {
        if earlier.quoted_posts.contains(&quoted.0) {
            continue;
        }
        // A post its author may not read (another private group, a hidden post) is not a
        // quote of anything: nobody is told.
        match posts::readable_by_id(conn, &actor, quoted) {
            Ok((_, _, post)) if !replies_to.contains(&post.author_id) => {
                replies_to.push(post.author_id);
            }
            Ok(_) | Err(Error::NotFound | Error::Denied(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Addressed {
        mentions,
        replies_to,
    })
}

#[cfg(test)]
mod tests;
