//! Community health (issue 16): how a community is doing, for the people who look after it.
//! Posts and new members per day, how long a first post waits for someone else's reply, the
//! first posts still waiting, open check-ins and handled reports, per group and in all
//! (`figures`); and the unanswered lane, the first posts no one has answered yet, oldest
//! first (`unanswered`).
//!
//! Both are read only over the viewer's [`Scope`]: the groups the policy lets them moderate
//! (`Action::Moderate`: a facilitator's own groups, every group for the site's staff). A
//! facilitator's totals are the sum of their groups; only the staff (`Action::ModerateSite`)
//! see the site's, and the site's new accounts. Someone who moderates nothing finds neither
//! page (not found, as a thing that does not exist).
//!
//! **A first post** is a thread's opening post (position 1). It is *answered* once a reply by
//! someone else is visible (published, not hidden or awaiting approval); it counts at all only
//! while it is visible itself. That definition is written once, in `first_posts`, and read by
//! the figures, the lane and `maintenance::gauges`' count for Prometheus alike.

mod figures;
mod first_posts;
mod unanswered;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::boards;
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::ids::BoardId;
use crate::model::{Board, Visibility};
use crate::policy::{self, Action, MemberActor};

pub use figures::{
    dashboard, Dashboard, DayCount, Figures, GroupFigures, Series, Waiting, WAITING_SHOWN,
};
pub use first_posts::count_waiting;
pub use unanswered::{unanswered, UnansweredPage, UnansweredPost, POSTS_PER_PAGE};

/// How far back the figures look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Window {
    Days30,
    Days90,
}

impl Window {
    /// The window a page's `?days=` asks for: 90, or 30 for anything else.
    pub fn from_days(days: Option<&str>) -> Window {
        match days.map(str::trim) {
            Some("90") => Window::Days90,
            _ => Window::Days30,
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Window::Days30 => 30,
            Window::Days90 => 90,
        }
    }
}

/// A group as the health pages name it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupRef {
    pub id: BoardId,
    pub slug: String,
    pub name: String,
    pub visibility: Visibility,
}

impl GroupRef {
    fn of(board: &Board) -> GroupRef {
        GroupRef {
            id: board.id,
            slug: board.slug.clone(),
            name: board.name.clone(),
            visibility: board.visibility,
        }
    }
}

/// The groups whose figures a member may see, and whether they see the whole site's.
#[derive(Debug, Clone)]
pub struct Scope {
    /// In the operator's order.
    pub groups: Vec<GroupRef>,
    /// The site's staff: totals are the site's, new members are new accounts.
    pub site_wide: bool,
    /// The scope is every group there is, so a query over posts needs no list of groups (and
    /// reads a window of days through `posts_created` rather than every group's threads).
    every_group: bool,
}

impl Scope {
    fn ids(&self) -> Vec<BoardId> {
        self.groups.iter().map(|g| g.id).collect()
    }

    /// The groups to filter posts on, or `None` when the scope is every group.
    fn post_filter(&self) -> Option<Vec<BoardId>> {
        (!self.every_group).then(|| self.ids())
    }

    /// The scope narrowed to the group at `slug`, which must be in it: a group outside it is
    /// not found, whether it exists or not.
    fn narrowed_to(&self, slug: &str) -> Result<Scope> {
        let group = self
            .groups
            .iter()
            .find(|g| g.slug == slug)
            .ok_or(Error::NotFound)?;
        Ok(Scope {
            groups: vec![group.clone()],
            site_wide: false,
            every_group: false,
        })
    }
}

/// The groups `member` moderates, as the policy decides each one. Not found when there are
/// none: a member, or a suspended facilitator, has no such page.
pub fn scope_for(conn: &mut DbConn, member: &MemberActor) -> Result<Scope> {
    let actor = member.actor();
    let all: Vec<Board> = boards::table
        .order((boards::position.asc(), boards::name.asc(), boards::id.asc()))
        .select(Board::as_select())
        .load(conn)?;
    let groups: Vec<GroupRef> = all
        .iter()
        .filter(|board| policy::allows(&actor, Action::Moderate(board)))
        .map(GroupRef::of)
        .collect();
    if groups.is_empty() {
        return Err(Error::NotFound);
    }
    Ok(Scope {
        every_group: groups.len() == all.len(),
        groups,
        site_wide: policy::allows(&actor, Action::ModerateSite),
    })
}

/// The window's days in `zone`, oldest first, each with the UTC instant it starts; the last is
/// today (until `now`).
fn days_of(window: Window, zone: Tz, now: NaiveDateTime) -> Vec<(NaiveDate, NaiveDateTime)> {
    let today = zone.from_utc_datetime(&now).date_naive();
    (0..window.days())
        .rev()
        .filter_map(|back| today.checked_sub_signed(TimeDelta::days(back)))
        .map(|day| (day, start_of(zone, day)))
        .collect()
}

/// When `day` starts in `zone`, in UTC: its midnight, or where a clock change skips midnight
/// (a few zones move their clocks then), the first hour that exists.
fn start_of(zone: Tz, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|hour| {
            zone.from_local_datetime(&(midnight + TimeDelta::hours(hour)))
                .earliest()
        })
        .map_or(midnight, |start| start.naive_utc())
}

/// The site's zone by name; an unknown name is UTC (the settings check names at start-up).
pub fn zone_named(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

/// A wait in words for a phone: "less than a minute", "12 minutes", "5 hours", "2 days",
/// "3 months", "2 years" (rounded down: a wait is never said to be longer than it was).
pub fn wait_in_words(seconds: i64) -> String {
    fn plural(n: i64, unit: &str) -> String {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    }
    match seconds {
        s if s < 60 => "less than a minute".to_owned(),
        s if s < 3_600 => plural(s / 60, "minute"),
        s if s < 2 * 86_400 => plural(s / 3_600, "hour"),
        s if s < 60 * 86_400 => plural(s / 86_400, "day"),
        s if s < 730 * 86_400 => plural(s / (30 * 86_400), "month"),
        s => plural(s / (365 * 86_400), "year"),
    }
}

/// The middle value (the mean of the two middle ones for an even count), or `None` for none.
fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2
    })
}

#[cfg(test)]
mod tests;
