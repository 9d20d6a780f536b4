//! What happens to a new post or an edit before and while it is stored: watched words (block,
//! mask, hold, flag), crisis phrases (the post is published, and a check-in goes to the top of
//! the queue), posting and edit limits and slow mode, and pre-moderation of members new to a
//! board or to the site. An edit passes the same gate as a new post: it cannot publish what a
//! new post could not.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{posts, threads};
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::ids::{BoardId, PostId};
use crate::model::{Board, Moderation, Post, Thread};
use crate::moderation::review::{self, ItemKind};
use crate::notifications::{facilitators, Kind};
use crate::policy::MemberActor;
use crate::safety::crisis;
use crate::safety::limits::{self, EditLimits, PostingLimits};
use crate::safety::screening::PhraseList;
use crate::safety::watched::{self, WatchLists};

/// The operator's site-wide posting rules.
#[derive(Debug, Clone)]
pub struct PostingRules {
    /// The first this-many posts of a new account, anywhere, await approval (0: none do).
    pub new_account_premod_posts: i32,
    /// Posts per minute and per day (moderators of the board are not limited).
    pub limits: PostingLimits,
    /// Edits per minute and per day, and the versions a post keeps.
    pub edits: EditLimits,
    /// A post's text has at most this many bytes (UTF-8), as well as at most
    /// [`MAX_BODY_CHARS`](crate::forum::posts::MAX_BODY_CHARS) characters.
    pub max_body_bytes: usize,
    /// Phrases that suggest someone may be at risk.
    pub crisis: PhraseList,
    /// A reply with the same text as one its author made in the same thread this many minutes
    /// before is that post (a form sent again after Back, with a new key); 0 turns it off.
    pub same_reply_minutes: u32,
    /// A post notifies at most this many of the members it mentions (the first ones named).
    pub mentions_notified: usize,
    /// A member gives reactions ("I hear you", …) at most this many times an hour (a reaction
    /// taken back and given again counts again), counted in `action_counts`; 0 turns the
    /// limit off.
    pub reactions_per_hour: u32,
    /// A member previews a post (the Preview button) at most this many times an hour, counted
    /// in `action_counts` (`db::counters`); 0 turns the limit off.
    pub previews_per_hour: u32,
}

/// The default of [`PostingRules::max_body_bytes`]: 50,000 characters of most languages'
/// scripts fit, a wall of emoji does not.
pub const DEFAULT_MAX_BODY_BYTES: usize = 100_000;

impl Default for PostingRules {
    fn default() -> Self {
        PostingRules {
            new_account_premod_posts: 0,
            limits: PostingLimits::default(),
            edits: EditLimits::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            crisis: crisis::default_phrases(),
            same_reply_minutes: 10,
            mentions_notified: 10,
            reactions_per_hour: 60,
            previews_per_hour: 120,
        }
    }
}

/// What screening found in a post's text, before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Screened<'a> {
    /// The text to store: the member's own, or with masked words replaced.
    pub source: Cow<'a, str>,
    /// A new thread's title, masked like the text.
    pub title: String,
    /// Watched words that hold the post for approval.
    pub hold: Vec<String>,
    /// Watched words that flag the post for review.
    pub flag: Vec<String>,
    /// Crisis phrases matched: a check-in for the moderators, resources for the author.
    pub check_in: bool,
}

/// Screens a post's text (and a new thread's title) against the watched words and the crisis
/// phrases. A blocked word refuses the post with the reason; the form keeps the text.
pub(crate) fn screen<'a>(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    board: &Board,
    title: &str,
    body: &'a str,
) -> Result<Screened<'a>> {
    let words = watched::lists(conn)?;
    let source = block_and_mask(&words, title, body)?;
    // Moderators of the board are not held or flagged; everyone may be in crisis.
    let moderates = member.moderates(board.id);
    let found = |list: &PhraseList| -> Vec<String> {
        if moderates {
            return Vec::new();
        }
        let mut found = list.matches(title);
        found.extend(list.matches(body));
        found.sort();
        found.dedup();
        found
    };
    Ok(Screened {
        hold: found(&words.hold),
        flag: found(&words.flag),
        check_in: rules.crisis.is_match(title) || rules.crisis.is_match(body),
        title: words.mask.mask(title),
        source,
    })
}

fn block_and_mask<'a>(words: &WatchLists, title: &str, body: &'a str) -> Result<Cow<'a, str>> {
    for (field, text) in [("title", title), ("body", body)] {
        if let Some(word) = words.block.matches(text).first() {
            return Err(Error::invalid(
                field,
                format!(
                    "this community does not allow “{word}” in posts; please change it and post again (your text is kept)"
                ),
            ));
        }
    }
    Ok(if words.mask.is_match(body) {
        Cow::Owned(words.mask.mask(body))
    } else {
        Cow::Borrowed(body)
    })
}

/// What the gate decided for one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub moderation: Moderation,
    /// Why it awaits approval, for the review queue.
    pub hold_reason: Option<String>,
    pub flag: Vec<String>,
    pub check_in: bool,
}

/// What is being written: a new post (a reply, or a new thread's opening post), or an edit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Writing<'a> {
    /// A new post; `thread` is the thread replied to (`None` for a new thread).
    New { thread: Option<&'a Thread> },
    /// A new text for this post, as stored now.
    Edit { post: &'a Post },
}

/// Refuses a post or an edit over the member's limits (or a thread's slow mode), with
/// [`Error::RateLimited`]. Moderators of the board are not limited. The pipeline asks before it
/// renders, so a refused request costs nothing, and [`judge`] asks again in the transaction.
pub(crate) fn check_limits(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    board: &Board,
    writing: Writing<'_>,
    now: NaiveDateTime,
) -> Result<()> {
    if member.moderates(board.id) {
        return Ok(());
    }
    match writing {
        Writing::New { thread } => limits::check_posting(
            conn,
            member.id,
            member.created_at,
            thread.map(|t| (t.id, t.slow_mode_seconds)),
            &rules.limits,
            now,
        ),
        Writing::Edit { .. } => limits::check_editing(conn, member.id, &rules.edits, now),
    }
}

/// Inside the posting transaction: refuses a post or edit over the member's limits or the
/// thread's slow mode, and decides whether it is published at once or awaits approval.
/// Moderators of the board are neither limited nor held. An edit is held as a new post would be
/// (watched words, pre-moderation); an edit of a post that awaits approval still awaits it.
pub(crate) fn judge(
    conn: &mut DbConn,
    rules: &PostingRules,
    member: &MemberActor,
    board: &Board,
    writing: Writing<'_>,
    screened: &Screened<'_>,
    now: NaiveDateTime,
) -> Result<Judgement> {
    // A post already awaiting approval keeps waiting, with its open item; only watched words
    // in its new text add a reason.
    let already_awaiting =
        matches!(writing, Writing::Edit { post } if post.moderation == Moderation::Awaiting);
    let mut hold_reason = None;
    if !member.moderates(board.id) {
        check_limits(conn, rules, member, board, writing, now)?;
        let site_wide = i64::from(rules.new_account_premod_posts);
        let on_board = i64::from(board.premod_first_posts);
        if !screened.hold.is_empty() {
            hold_reason = Some(format!("watched words: {}", screened.hold.join(", ")));
        } else if already_awaiting {
            // Pre-moderation already holds it.
        } else if site_wide > 0 && approved_posts(conn, member, None, site_wide)? < site_wide {
            hold_reason = Some(format!(
                "one of the first {site_wide} posts of a new account"
            ));
        } else if on_board > 0 && approved_posts(conn, member, Some(board.id), on_board)? < on_board
        {
            hold_reason = Some(format!(
                "one of the first {on_board} posts of a member new to this group"
            ));
        }
    }
    Ok(Judgement {
        moderation: if hold_reason.is_some() || already_awaiting {
            Moderation::Awaiting
        } else {
            Moderation::Visible
        },
        hold_reason,
        flag: screened.flag.clone(),
        check_in: screened.check_in,
    })
}

/// Opens the review items the judgement calls for, in the posting transaction.
pub(crate) fn record(
    conn: &mut DbConn,
    judgement: &Judgement,
    board_id: BoardId,
    post_id: PostId,
    now: NaiveDateTime,
) -> Result<()> {
    if let Some(reason) = &judgement.hold_reason {
        review::open(conn, board_id, post_id, ItemKind::Awaiting, reason, now)?;
    }
    if !judgement.flag.is_empty() {
        let words = judgement.flag.join(", ");
        review::open(conn, board_id, post_id, ItemKind::WatchedWord, &words, now)?;
    }
    if judgement.check_in {
        review::open(conn, board_id, post_id, ItemKind::CheckIn, "", now)?;
        // The group's facilitators hear that a check-in waits: no words of the post, no name,
        // and muting its author does not silence it. Its author is not told of their own.
        let board = crate::forum::boards::by_id(conn, board_id)?;
        let author = crate::forum::posts::by_id(conn, post_id)?.author_id;
        facilitators::tell(conn, &board, Kind::CheckIn, None, Some(author), now)?;
    }
    Ok(())
}

/// How many of the member's posts were published (on one board, or anywhere), counting no
/// further than `enough`: a long-standing member's thousands of posts are not all read.
fn approved_posts(
    conn: &mut DbConn,
    member: &MemberActor,
    board: Option<BoardId>,
    enough: i64,
) -> Result<i64> {
    let mut query = posts::table
        .inner_join(threads::table)
        .filter(posts::author_id.eq(member.id))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()))
        .select(posts::id)
        .limit(enough)
        .into_boxed();
    if let Some(board) = board {
        query = query.filter(threads::board_id.eq(board));
    }
    let ids: Vec<PostId> = query.load(conn)?;
    Ok(ids.len() as i64)
}
