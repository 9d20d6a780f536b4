//! The dashboard's figures: a few indexed fetches over the scope's groups, tallied per group
//! and in all in Rust (medians and the days of the site's zone are easier and the same on both
//! backends there; the rows are a window's posts' times, not their text).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamp};
use serde::Serialize;

use super::first_posts::{self, answers_from, counted_from, WaitingPost};
use super::unanswered::{self, UnansweredPost};
use super::{days_of, median, scope_for, wait_in_words, GroupRef, Scope, Window};
use crate::db::schema::{members, memberships, posts, review_items, threads};
use crate::db::{per_connection, DbConn};
use crate::error::Result;
use crate::groups::memberships::MembershipState;
use crate::ids::BoardId;
use crate::model::{Moderation, Publication};
use crate::moderation::review::{ItemKind, ItemState};
use crate::policy::MemberActor;

/// How many of something happened on one day of the site's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub count: i64,
}

/// One count per day of the window, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub days: Vec<DayCount>,
    pub total: i64,
    /// The largest day's count (the chart's scale).
    pub max: i64,
}

/// How many wait, and the longest wait of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub count: i64,
    /// Seconds the oldest has waited, if any waits.
    pub oldest_seconds: Option<i64>,
    pub oldest_words: Option<String>,
}

/// What the dashboard shows of one scope (the site, a facilitator's groups, one group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Visible, published posts (first posts and replies) per day.
    pub posts: Series,
    /// New accounts per day (the site's), or members joining the groups.
    pub new_members: Series,
    /// First posts made in the window (still visible).
    pub first_posts: i64,
    /// Of those, the ones someone else has answered.
    pub answered: i64,
    /// The median time from such a first post to its first visible reply by someone else.
    pub median_first_reply_seconds: Option<i64>,
    pub median_first_reply_words: Option<String>,
    /// First posts no one else has answered yet, made at any time.
    pub unanswered: Waiting,
    /// Crisis check-ins still open (on posts and in private conversations).
    pub check_ins: Waiting,
    /// Reports resolved in the window.
    pub reports_handled: i64,
    /// The median time from a report to its handling, of those.
    pub median_report_seconds: Option<i64>,
    pub median_report_words: Option<String>,
}

/// One group's figures in the list of groups.
#[derive(Debug, Clone, Serialize)]
pub struct GroupFigures {
    pub group: GroupRef,
    pub figures: Figures,
}

/// The whole dashboard for one viewer and window.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub window: Window,
    pub days: i64,
    /// The viewer sees the site's figures (staff); otherwise the totals are their groups'.
    pub site_wide: bool,
    /// The one group asked for, whose figures `total` then is.
    pub focus: Option<GroupRef>,
    /// The site's, the viewer's groups' together, or the focused group's.
    pub total: Figures,
    /// Every group of the viewer's scope, in the operator's order.
    pub groups: Vec<GroupFigures>,
    /// The first posts of `total` that have waited longest, at most [`WAITING_SHOWN`]: which
    /// ones they are, at a glance (the lane has them all).
    pub waiting: Vec<UnansweredPost>,
}

/// How many of the longest waiting first posts the dashboard names.
pub const WAITING_SHOWN: usize = 3;

/// The dashboard of `member` over `window`, days counted in `zone`; with `group`, that one
/// group's figures as the total (not found unless it is in the member's scope).
pub fn dashboard(
    conn: &mut DbConn,
    member: &MemberActor,
    group: Option<&str>,
    window: Window,
    zone: Tz,
    now: NaiveDateTime,
) -> Result<Dashboard> {
    let scope = scope_for(conn, member)?;
    let focused = match group {
        Some(slug) => Some(scope.narrowed_to(slug)?),
        None => None,
    };
    let days = days_of(window, zone, now);
    let tallies = tally(conn, &scope, &days, now)?;
    let figures_of = |board: BoardId| {
        tallies.per_group.get(&board).map_or_else(
            || Tally::new(days.len()).figures(&days, now),
            |t| t.figures(&days, now),
        )
    };
    let groups: Vec<GroupFigures> = scope
        .groups
        .iter()
        .map(|group| GroupFigures {
            group: group.clone(),
            figures: figures_of(group.id),
        })
        .collect();
    let waiting: Vec<WaitingPost> = tallies
        .waiting
        .iter()
        .filter(|post| {
            focused
                .as_ref()
                .is_none_or(|one| one.groups[0].id == post.board_id)
        })
        .take(WAITING_SHOWN)
        .cloned()
        .collect();
    let waiting = unanswered::shown(conn, &scope, waiting, now)?;
    let (focus, total) = match focused {
        Some(one) => {
            let group = one.groups[0].clone();
            let total = figures_of(group.id);
            (Some(group), total)
        }
        None => {
            let mut total = tallies.all;
            if scope.site_wide {
                total.joined = new_accounts(conn, &days, now)?;
            }
            (None, total.figures(&days, now))
        }
    };
    Ok(Dashboard {
        window,
        days: window.days(),
        site_wide: scope.site_wide && focus.is_none(),
        focus,
        total,
        groups,
        waiting,
    })
}

/// The raw counts of one scope, before they become [`Figures`].
#[derive(Debug, Clone)]
struct Tally {
    posts: Vec<i64>,
    joined: Vec<i64>,
    first_posts: i64,
    reply_delays: Vec<i64>,
    unanswered: Vec<NaiveDateTime>,
    check_ins: Vec<NaiveDateTime>,
    report_delays: Vec<i64>,
}

impl Tally {
    fn new(n_days: usize) -> Tally {
        Tally {
            posts: vec![0; n_days],
            joined: vec![0; n_days],
            first_posts: 0,
            reply_delays: Vec::new(),
            unanswered: Vec::new(),
            check_ins: Vec::new(),
            report_delays: Vec::new(),
        }
    }

    fn figures(&self, days: &[(NaiveDate, NaiveDateTime)], now: NaiveDateTime) -> Figures {
        let series = |counts: &[i64]| Series {
            days: days
                .iter()
                .zip(counts)
                .map(|((day, _), count)| DayCount {
                    day: *day,
                    count: *count,
                })
                .collect(),
            total: counts.iter().sum(),
            max: counts.iter().copied().max().unwrap_or(0),
        };
        let waiting = |since: &[NaiveDateTime]| {
            let oldest = since
                .iter()
                .min()
                .map(|at| (now - *at).num_seconds().max(0));
            Waiting {
                count: since.len() as i64,
                oldest_seconds: oldest,
                oldest_words: oldest.map(wait_in_words),
            }
        };
        let reply = median(self.reply_delays.clone());
        let report = median(self.report_delays.clone());
        Figures {
            posts: series(&self.posts),
            new_members: series(&self.joined),
            first_posts: self.first_posts,
            answered: self.reply_delays.len() as i64,
            median_first_reply_seconds: reply,
            median_first_reply_words: reply.map(wait_in_words),
            unanswered: waiting(&self.unanswered),
            check_ins: waiting(&self.check_ins),
            reports_handled: self.report_delays.len() as i64,
            median_report_seconds: report,
            median_report_words: report.map(wait_in_words),
        }
    }
}

struct Tallies {
    per_group: HashMap<BoardId, Tally>,
    all: Tally,
    /// The first posts waiting, the longest waiting first.
    waiting: Vec<WaitingPost>,
}

impl Tallies {
    /// Adds one row of `board` to its group's tally and to the whole.
    fn add(&mut self, n_days: usize, board: BoardId, add: impl Fn(&mut Tally)) {
        add(&mut self.all);
        add(self
            .per_group
            .entry(board)
            .or_insert_with(|| Tally::new(n_days)));
    }
}

/// Which day of `days` an instant falls on, if it is in the window.
fn day_index(days: &[(NaiveDate, NaiveDateTime)], at: NaiveDateTime) -> Option<usize> {
    days.partition_point(|(_, start)| *start <= at)
        .checked_sub(1)
}

fn tally(
    conn: &mut DbConn,
    scope: &Scope,
    days: &[(NaiveDate, NaiveDateTime)],
    now: NaiveDateTime,
) -> Result<Tallies> {
    let n_days = days.len();
    let mut tallies = Tallies {
        per_group: HashMap::new(),
        all: Tally::new(n_days),
        waiting: Vec::new(),
    };
    let Some(&(_, start)) = days.first() else {
        return Ok(tallies);
    };
    let ids = scope.ids();

    let mut posted = posts::table
        .inner_join(threads::table)
        .filter(posts::created_at.ge(start))
        .filter(posts::created_at.le(now))
        .filter(posts::moderation.eq(Moderation::Visible.as_str()))
        .filter(posts::state.eq(Publication::Published.as_str()))
        .select((threads::board_id, posts::created_at))
        .into_boxed();
    if let Some(ids) = scope.post_filter() {
        posted = posted.filter(threads::board_id.eq_any(ids));
    }
    let posted: Vec<(BoardId, NaiveDateTime)> = posted.load(conn)?;
    for (board, at) in posted {
        if let Some(day) = day_index(days, at) {
            tallies.add(n_days, board, |t| t.posts[day] += 1);
        }
    }

    let joined: Vec<(BoardId, Option<NaiveDateTime>)> = memberships::table
        .filter(memberships::board_id.eq_any(&ids))
        .filter(memberships::state.eq(MembershipState::Member.as_str()))
        .filter(memberships::joined_at.ge(start))
        .filter(memberships::joined_at.le(now))
        .select((memberships::board_id, memberships::joined_at))
        .load(conn)?;
    for (board, at) in joined {
        if let Some(day) = at.and_then(|at| day_index(days, at)) {
            tallies.add(n_days, board, |t| t.joined[day] += 1);
        }
    }

    let filter = scope.post_filter();
    for first in first_posts_since(conn, filter.as_deref(), start, now)? {
        let delay = first
            .replied_at
            .map(|replied| (replied - first.created_at).num_seconds().max(0));
        tallies.add(n_days, first.board_id, |t| {
            t.first_posts += 1;
            t.reply_delays.extend(delay);
        });
    }

    // Every first post of the groups waiting, of any age: read group by group
    // (`threads_board_listing`), the longest waiting first.
    let waiting = first_posts::waiting(conn, Some(&ids), now)?;
    for post in &waiting {
        let since = post.created_at;
        tallies.add(n_days, post.board_id, |t| t.unanswered.push(since));
    }
    tallies.waiting = waiting;

    let check_ins: Vec<(BoardId, NaiveDateTime)> = review_items::table
        .filter(review_items::board_id.eq_any(&ids))
        .filter(review_items::kind.eq(ItemKind::CheckIn.as_str()))
        .filter(review_items::state.eq(ItemState::Open.as_str()))
        .filter(review_items::created_at.le(now))
        .select((review_items::board_id, review_items::created_at))
        .load(conn)?;
    for (board, since) in check_ins {
        tallies.add(n_days, board, |t| t.check_ins.push(since));
    }

    let handled: Vec<(BoardId, NaiveDateTime, Option<NaiveDateTime>)> = review_items::table
        .filter(review_items::board_id.eq_any(&ids))
        .filter(review_items::kind.eq(ItemKind::Report.as_str()))
        .filter(review_items::state.eq(ItemState::Resolved.as_str()))
        .filter(review_items::resolved_at.ge(start))
        .filter(review_items::resolved_at.le(now))
        .select((
            review_items::board_id,
            review_items::created_at,
            review_items::resolved_at,
        ))
        .load(conn)?;
    for (board, reported, resolved) in handled {
        let delay = resolved.map_or(0, |at| (at - reported).num_seconds().max(0));
        tallies.add(n_days, board, |t| t.report_delays.push(delay));
    }
    Ok(tallies)
}

/// New accounts per day of the window, for the site's figures.
fn new_accounts(
    conn: &mut DbConn,
    days: &[(NaiveDate, NaiveDateTime)],
    now: NaiveDateTime,
) -> Result<Vec<i64>> {
    let mut counts = vec![0; days.len()];
    let Some(&(_, start)) = days.first() else {
        return Ok(counts);
    };
    let created: Vec<NaiveDateTime> = members::table
        .filter(members::created_at.ge(start))
        .filter(members::created_at.le(now))
        .select(members::created_at)
        .load(conn)?;
    for at in created {
        if let Some(day) = day_index(days, at) {
            counts[day] += 1;
        }
    }
    Ok(counts)
}

#[derive(QueryableByName)]
struct FirstPost {
    #[diesel(sql_type = BigInt)]
    board_id: BoardId,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    replied_at: Option<NaiveDateTime>,
}

/// The first posts made between `start` and `now`, each with its first reply by someone else:
/// the first by position, which is the order replies arrived in, so the walk of a thread's
/// replies stops at it (`MIN(created_at)` read every reply of a long thread).
fn first_posts_since(
    conn: &mut DbConn,
    ids: Option<&[BoardId]>,
    start: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Vec<FirstPost>> {
    let sql = format!(
        "SELECT t.board_id AS board_id, p.created_at AS created_at, \
         (SELECT r.created_at {answers} ORDER BY r.position LIMIT 1) AS replied_at \
         {counted} AND p.created_at >= $2",
        answers = answers_from(),
        counted = counted_from(ids),
    );
    let query = diesel::sql_query(sql)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(start);
    Ok(per_connection!(conn, |c| query.load::<FirstPost>(c))?)
}
