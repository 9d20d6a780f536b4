//! Meetings on a real SQLite file: recurrence across daylight-saving changes, monthly rules and
//! ends, exceptions, answers with a waiting list, who sees the link and place, the feeds.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, Timelike};

use super::*;
use crate::accounts::actors;
use crate::clock;
use crate::forum::boards::{self, NewBoardForm};
use crate::groups::memberships;
use crate::model::SiteRole;
use crate::notifications;
use crate::policy::MemberActor;
use crate::test_support::{member, sqlite_pool};

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

fn weekly(start: &str, zone: Tz, end: End) -> Schedule {
    Schedule {
        start: local(start),
        zone,
        repeat: Repeat::Weekly { interval: 1 },
        end,
    }
}

/// A weekly 19:00 meeting keeps its local hour across the change; its UTC instant moves by one
/// hour (the week across the change is 167 or 169 hours long in UTC).
fn assert_keeps_local_hour(schedule: Schedule, change_hours: i64) {
    let starts: Vec<NaiveDateTime> = schedule.local_starts().take(2).collect();
    assert!(starts.iter().all(|s| s.hour() == 19 && s.minute() == 0));
    let utc: Vec<NaiveDateTime> = starts
        .iter()
        .map(|s| recurrence::to_utc(schedule.zone, *s))
        .collect();
    assert_eq!(
        (utc[1] - utc[0]).num_hours(),
        7 * 24 + change_hours,
        "{:?}",
        utc
    );
    for u in &utc {
        assert_eq!(recurrence::to_local(schedule.zone, *u).hour(), 19);
    }
}

#[test]
fn a_weekly_meeting_keeps_its_local_hour_across_daylight_saving_changes() {
    use chrono_tz::{America::New_York, Europe::Berlin};
    // New York springs forward on 8 March 2026 and falls back on 1 November 2026.
    assert_keeps_local_hour(weekly("2026-03-05 19:00", New_York, End::Never), -1);
    assert_keeps_local_hour(weekly("2026-10-29 19:00", New_York, End::Never), 1);
    // Berlin: 29 March and 25 October 2026.
    assert_keeps_local_hour(weekly("2026-03-26 19:00", Berlin, End::Never), -1);
    assert_keeps_local_hour(weekly("2026-10-22 19:00", Berlin, End::Never), 1);
    let ny = weekly("2026-03-05 19:00", New_York, End::Never);
    let utc: Vec<String> = ny
        .local_starts()
        .take(2)
        .map(|s| recurrence::to_utc(New_York, s).to_string())
        .collect();
    assert_eq!(utc, ["2026-03-06 00:00:00", "2026-03-12 23:00:00"]);
}

#[test]
fn times_the_clocks_skip_or_repeat_are_read_as_rfc_5545_reads_them() {
    use chrono_tz::America::New_York;
    // 02:30 on 8 March 2026 does not exist in New York: read with the offset before (EST).
    assert!(recurrence::is_gap(New_York, local("2026-03-08 02:30")));
    assert_eq!(
        recurrence::to_utc(New_York, local("2026-03-08 02:30")).to_string(),
        "2026-03-08 07:30:00"
    );
    // 01:30 on 1 November 2026 happens twice: the first (EDT, UTC-4).
    assert_eq!(
        recurrence::to_utc(New_York, local("2026-11-01 01:30")).to_string(),
        "2026-11-01 05:30:00"
    );
    // A Sunday 02:30 series is refused when it meets a gap.
    let sundays = weekly("2026-02-22 02:30", New_York, End::Never);
    assert_eq!(sundays.first_gap(100), Some(local("2026-03-08 02:30")));
}

#[test]
fn monthly_on_the_nth_or_last_weekday_with_until_and_count() {
    let second_tuesday = Schedule {
        start: local("2038-01-12 18:30"),
        zone: chrono_tz::Europe::London,
        repeat: Repeat::Monthly {
            week: MonthWeek::Nth(2),
        },
        end: End::Count(4),
    };
    let dates: Vec<String> = second_tuesday
        .local_starts()
        .map(|s| s.date().to_string())
        .collect();
    assert_eq!(
        dates,
        ["2038-01-12", "2038-02-09", "2038-03-09", "2038-04-13"]
    );
    let last_friday = Schedule {
        start: local("2038-01-29 10:00"),
        zone: chrono_tz::Europe::London,
        repeat: Repeat::Monthly {
            week: MonthWeek::Last,
        },
        end: End::Until(NaiveDate::from_ymd_opt(2038, 4, 30).unwrap()),
    };
    let dates: Vec<String> = last_friday
        .local_starts()
        .map(|s| s.date().to_string())
        .collect();
    assert_eq!(
        dates,
        ["2038-01-29", "2038-02-26", "2038-03-26", "2038-04-30"]
    );
    assert_eq!(last_friday.last_start(), Some(local("2038-04-30 10:00")));
    let every_two_weeks = Schedule {
        start: local("2038-01-07 19:00"),
        zone: chrono_tz::Europe::London,
        repeat: Repeat::Weekly { interval: 2 },
        end: End::Until(NaiveDate::from_ymd_opt(2038, 2, 17).unwrap()),
    };
    let dates: Vec<String> = every_two_weeks
        .local_starts()
        .map(|s| s.date().to_string())
        .collect();
    assert_eq!(dates, ["2038-01-07", "2038-01-21", "2038-02-04"]);
}

struct Group {
    _dir: tempfile::TempDir,
    pool: crate::db::Pool,
    admin: MemberActor,
    board: Board,
}

impl Group {
    fn conn(&self) -> crate::db::PooledConn {
        self.pool.get().unwrap()
    }

    /// A signed-in member who joined the group.
    fn joined(&self, name: &str) -> MemberActor {
        let conn = &mut *self.conn();
        let m = member(conn, name, SiteRole::Member);
        memberships::join(conn, &m, &self.board, "").unwrap();
        actors::actor_for(conn, m.member).unwrap()
    }
}

fn group(visibility: &str) -> Group {
    let (dir, pool) = sqlite_pool();
    let conn = &mut *pool.get().unwrap();
    let admin = member(conn, "ada", SiteRole::Admin);
    let board = boards::create(
        conn,
        &admin,
        &NewBoardForm {
            slug: "grief".to_owned(),
            name: "Grief, together".to_owned(),
            visibility: visibility.to_owned(),
            ..Default::default()
        },
    )
    .unwrap();
    Group {
        _dir: dir,
        pool,
        admin,
        board,
    }
}

fn form(date: &str, time: &str, zone: &str) -> MeetingForm {
    MeetingForm {
        title: "Evening circle; all welcome".to_owned(),
        agenda: "Check-in, then *sharing*.".to_owned(),
        date: date.to_owned(),
        time: time.to_owned(),
        time_zone: zone.to_owned(),
        duration_minutes: "90".to_owned(),
        repeat: "weekly".to_owned(),
        interval_weeks: "1".to_owned(),
        end: "never".to_owned(),
        online_url: "https://meet.example.org/grief-circle".to_owned(),
        place: "Room 4, Community Centre".to_owned(),
        ..MeetingForm::default()
    }
}

fn far() -> NaiveDateTime {
    local("2040-01-01 00:00")
}

#[test]
fn a_stored_series_keeps_its_local_hour_in_new_york_and_berlin() {
    let g = group("public");
    let conn = &mut *g.conn();
    for (zone, first, change) in [
        ("America/New_York", "2038-03-11", "2038-03-18"),
        ("Europe/Berlin", "2038-03-25", "2038-04-01"),
    ] {
        let meeting = schedule(conn, &g.admin, &g.board, &form(first, "19:00", zone)).unwrap();
        assert_eq!(
            meeting.agenda_html,
            "<p>Check-in, then <em>sharing</em>.</p>\n"
        );
        let found = upcoming_of(conn, &meeting, clock::now(), far(), 3).unwrap();
        assert_eq!(found[0].local_start.date().to_string(), first);
        assert_eq!(found[1].local_start.date().to_string(), change);
        assert!(found.iter().all(|o| o.local_start.hour() == 19));
        assert_eq!((found[1].starts_at - found[0].starts_at).num_hours(), 167);
        assert_eq!((found[2].starts_at - found[1].starts_at).num_hours(), 168);
    }
}

#[test]
fn forms_are_checked_field_by_field() {
    let g = group("public");
    let conn = &mut *g.conn();
    let mut bad = form("2038-01-13", "25:00", "Mars/Olympus");
    bad.title = " ".to_owned();
    bad.online_url = "http://insecure.example".to_owned();
    bad.capacity = "0".to_owned();
    let Err(Error::Invalid(invalid)) = schedule(conn, &g.admin, &g.board, &bad) else {
        panic!("accepted a bad form");
    };
    for field in ["title", "time", "time_zone", "online_url", "capacity"] {
        assert!(invalid.message_for(field).is_some(), "{field}: {invalid}");
    }
    // 13 January 2038 is a Wednesday, and the second Wednesday of its month.
    let mut monthly = form("2038-01-13", "19:00", "Europe/London");
    monthly.repeat = "monthly".to_owned();
    monthly.month_week = "3".to_owned();
    let Err(Error::Invalid(invalid)) = schedule(conn, &g.admin, &g.board, &monthly) else {
        panic!("accepted a date that is not the third Wednesday");
    };
    assert!(invalid
        .message_for("month_week")
        .unwrap()
        .contains("third Wednesday"));
    monthly.month_week = "2".to_owned();
    monthly.end = "count".to_owned();
    monthly.count = "3".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &monthly).unwrap();
    assert_eq!(
        meeting.repeat_description(),
        "Monthly on the second Wednesday, 3 times"
    );
    let all = upcoming_of(conn, &meeting, clock::now(), far(), 10).unwrap();
    let dates: Vec<String> = all
        .iter()
        .map(|o| o.local_start.date().to_string())
        .collect();
    assert_eq!(dates, ["2038-01-13", "2038-02-10", "2038-03-10"]);
    assert_eq!(meeting.series_ends_at, Some(local("2038-03-10 20:30")));
    // A Sunday 02:30 in Berlin meets the spring-forward gap.
    let gap = form("2038-03-07", "02:30", "Europe/Berlin");
    let Err(Error::Invalid(invalid)) = schedule(conn, &g.admin, &g.board, &gap) else {
        panic!("accepted a time the clocks skip");
    };
    assert!(invalid.message_for("time").unwrap().contains("28 Mar 2038"));
    // Only the group's facilitators and the staff schedule.
    let plain = member(conn, "bob", SiteRole::Member);
    assert!(matches!(
        schedule(conn, &plain, &g.board, &form("2038-01-13", "19:00", "UTC")),
        Err(Error::Denied(crate::error::Denied::ModeratorsOnly))
    ));
}

#[test]
fn cancelling_and_moving_one_meeting_of_a_series() {
    let g = group("public");
    let conn = &mut *g.conn();
    let mut f = form("2038-01-07", "19:00", "Europe/London");
    f.end = "until".to_owned();
    f.until = "2038-01-28".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &f).unwrap();
    cancel_occurrence(conn, &g.admin, meeting.id, "20380114T1900").unwrap();
    let moved = move_occurrence(
        conn,
        &g.admin,
        meeting.id,
        "20380121T1900",
        "2038-01-22",
        "18:00",
    )
    .unwrap();
    assert_eq!(moved.key, "20380121T1900");
    assert_eq!(moved.local_start, local("2038-01-22 18:00"));
    assert!(matches!(
        cancel_occurrence(conn, &g.admin, meeting.id, "20380115T1900"),
        Err(Error::NotFound)
    ));
    let all = upcoming_of(conn, &meeting, clock::now(), far(), 10).unwrap();
    let seen: Vec<(String, bool, bool)> = all
        .iter()
        .map(|o| (o.local_start.to_string(), o.cancelled, o.moved))
        .collect();
    assert_eq!(
        seen,
        [
            ("2038-01-07 19:00:00".to_owned(), false, false),
            ("2038-01-14 19:00:00".to_owned(), true, false),
            ("2038-01-22 18:00:00".to_owned(), false, true),
            ("2038-01-28 19:00:00".to_owned(), false, false),
        ]
    );
    let next = next_occurrence(conn, g.board.id, local("2038-01-08 00:00"))
        .unwrap()
        .unwrap();
    assert_eq!(
        next.occurrence.key, "20380121T1900",
        "the cancelled one is skipped"
    );
    // The whole series.
    cancel_series(conn, &g.admin, meeting.id).unwrap();
    assert!(next_occurrence(conn, g.board.id, clock::now())
        .unwrap()
        .is_none());
}

/// A group whose only meeting is over a year away still has a next meeting: its bar and card
/// show the date, not "No meeting scheduled".
#[test]
fn a_meeting_two_years_away_is_still_the_groups_next() {
    let g = group("public");
    let conn = &mut *g.conn();
    let date = (clock::now() + TimeDelta::days(730)).date().to_string();
    let mut once = form(&date, "19:00", "Europe/London");
    once.repeat = "none".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &once).unwrap();
    let next = next_occurrence(conn, g.board.id, clock::now())
        .unwrap()
        .expect("the meeting two years away");
    assert_eq!(next.meeting.id, meeting.id);
    assert_eq!(next.occurrence.local_start.date().to_string(), date);
}

fn unread(conn: &mut DbConn, m: &MemberActor) -> Vec<String> {
    notifications::list(conn, m, None)
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.body)
        .collect()
}

#[test]
fn a_full_meeting_keeps_a_waiting_list_and_the_first_moves_up() {
    let g = group("public");
    let (ana, bo, cy, di) = (
        g.joined("ana"),
        g.joined("bob"),
        g.joined("cyd"),
        g.joined("dia"),
    );
    let conn = &mut *g.conn();
    let mut f = form("2038-01-07", "19:00", "Europe/London");
    f.capacity = "2".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &f).unwrap();
    let key = "20380114T1900";
    assert_eq!(
        rsvp(conn, &ana, meeting.id, key, Response::Going).unwrap(),
        Response::Going
    );
    assert_eq!(
        rsvp(conn, &bo, meeting.id, key, Response::Going).unwrap(),
        Response::Going
    );
    assert_eq!(
        rsvp(conn, &cy, meeting.id, key, Response::Going).unwrap(),
        Response::Waiting
    );
    assert_eq!(
        rsvp(conn, &di, meeting.id, key, Response::Going).unwrap(),
        Response::Waiting
    );
    // Another week of the series has its own places.
    assert_eq!(
        rsvp(conn, &di, meeting.id, "20380107T1900", Response::Going).unwrap(),
        Response::Going
    );
    // Saying going again keeps one's place in the queue.
    assert_eq!(
        rsvp(conn, &cy, meeting.id, key, Response::Going).unwrap(),
        Response::Waiting
    );
    assert!(unread(conn, &cy).is_empty());
    // Ana withdraws: Cy, first on the list, moves up and is told.
    assert_eq!(
        rsvp(conn, &ana, meeting.id, key, Response::Maybe).unwrap(),
        Response::Maybe
    );
    let occurrences = upcoming_of(conn, &meeting, clock::now(), far(), 2).unwrap();
    let counts = answers(conn, &cy.actor(), &g.board, &meeting, &occurrences).unwrap();
    let this = &counts[key];
    assert_eq!((this.going, this.maybe, this.waiting), (2, 1, 1));
    assert_eq!(this.mine, Some(Response::Going));
    let names: Vec<&str> = this
        .going_people
        .iter()
        .map(|p| p.username.as_str())
        .collect();
    assert_eq!(names, ["bob", "cyd"]);
    let notices = unread(conn, &cy);
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("now going"), "{notices:?}");
    assert!(
        notices[0].contains("Thu 14 Jan 2038, 19:00 (UTC)"),
        "{notices:?}"
    );
    let di_view = answers(conn, &di.actor(), &g.board, &meeting, &occurrences).unwrap();
    assert_eq!(di_view[key].my_waiting_place, Some(1));
    // Bo leaves the group: Di moves up.
    memberships::leave(conn, &bo, &g.board).unwrap();
    let counts = answers(conn, &di.actor(), &g.board, &meeting, &occurrences).unwrap();
    assert_eq!(counts[key].mine, Some(Response::Going));
    assert_eq!((counts[key].going, counts[key].waiting), (2, 0));
    assert_eq!(unread(conn, &di).len(), 1);
    // Those outside the group do not answer, nor see who is going.
    let outsider = member(conn, "eve", SiteRole::Member);
    assert!(matches!(
        rsvp(conn, &outsider, meeting.id, key, Response::Going),
        Err(Error::Denied(crate::error::Denied::GroupMembersOnly))
    ));
    let theirs = answers(conn, &outsider.actor(), &g.board, &meeting, &occurrences).unwrap();
    assert!(theirs[key].going_people.is_empty());
    assert_eq!(theirs[key].going, 2);
    // Cancelled meetings take no answers.
    cancel_occurrence(conn, &g.admin, meeting.id, key).unwrap();
    assert!(matches!(
        rsvp(conn, &ana, meeting.id, key, Response::Going),
        Err(Error::Invalid(_))
    ));
    assert!(unread(conn, &di).iter().any(|n| n.contains("is cancelled")));
}

fn parse(ics: &str) -> icalendar::parser::Calendar<'static> {
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
    }
    assert!(ics.ends_with("\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF");
    let unfolded = icalendar::parser::unfold(ics);
    let leaked: &'static str = Box::leak(unfolded.into_boxed_str());
    icalendar::parser::read_calendar(leaked).expect("the feed parses")
}

fn props<'a>(component: &'a icalendar::parser::Component<'a>, name: &str) -> Vec<String> {
    component
        .properties
        .iter()
        .filter(|p| p.name.as_str() == name)
        .map(|p| {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|a| {
                    format!(
                        "{}={}",
                        a.key.as_str(),
                        a.val.as_ref().map_or("", |v| v.as_str())
                    )
                })
                .collect();
            if params.is_empty() {
                p.val.as_str().to_owned()
            } else {
                format!("{};{}", params.join(";"), p.val.as_str())
            }
        })
        .collect()
}

#[test]
fn the_public_feed_has_rules_zones_and_exceptions_but_no_link_or_place() {
    let g = group("public");
    let conn = &mut *g.conn();
    let mut f = form("2038-03-04", "19:00", "Europe/Berlin");
    f.end = "count".to_owned();
    f.count = "6".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &f).unwrap();
    cancel_occurrence(conn, &g.admin, meeting.id, "20380311T1900").unwrap();
    move_occurrence(
        conn,
        &g.admin,
        meeting.id,
        "20380318T1900",
        "2038-03-19",
        "20:00",
    )
    .unwrap();
    let mut monthly = form("2038-01-26", "18:00", "America/New_York");
    monthly.repeat = "monthly".to_owned();
    monthly.month_week = "last".to_owned();
    monthly.end = "until".to_owned();
    monthly.until = "2038-12-31".to_owned();
    schedule(conn, &g.admin, &g.board, &monthly).unwrap();
    let ics = group_feed(conn, &g.board, "hearth.test", clock::now()).unwrap();
    assert!(!ics.contains("meet.example.org"), "{ics}");
    assert!(!ics.contains("Community Centre"), "{ics}");
    assert!(!ics.contains("LOCATION") && !ics.contains("URL:"), "{ics}");
    let calendar = parse(&ics);
    assert_eq!(props_of(&calendar.properties, "VERSION"), ["2.0"]);
    let zones: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VTIMEZONE")
        .collect();
    let tzids: Vec<String> = zones.iter().flat_map(|z| props(z, "TZID")).collect();
    assert_eq!(tzids, ["America/New_York", "Europe/Berlin"]);
    let berlin = zones[1];
    let kinds: Vec<&str> = berlin.components.iter().map(|c| c.name.as_str()).collect();
    assert!(
        kinds.contains(&"DAYLIGHT") && kinds.contains(&"STANDARD"),
        "{kinds:?}"
    );
    let spring = berlin
        .components
        .iter()
        .find(|c| props(c, "DTSTART") == ["20380328T020000"])
        .expect("the 2038 spring change");
    assert_eq!(props(spring, "TZOFFSETFROM"), ["+0100"]);
    assert_eq!(props(spring, "TZOFFSETTO"), ["+0200"]);
    // The series that goes on has its zone's changes for years ahead.
    let never = schedule(
        conn,
        &g.admin,
        &g.board,
        &form("2038-06-01", "19:00", "Australia/Sydney"),
    )
    .unwrap();
    let ics = group_feed(conn, &g.board, "hearth.test", clock::now()).unwrap();
    assert!(ics.contains(&format!("UID:meeting-{}@hearth.test", never.id)));
    let again = parse(&ics);
    let sydney = again
        .components
        .iter()
        .find(|c| props(c, "TZID") == ["Australia/Sydney"])
        .expect("Sydney's zone");
    let october = sydney
        .components
        .iter()
        .find(|c| props(c, "DTSTART") == ["20381003T020000"])
        .expect("the spring change of October 2038");
    assert_eq!(october.name.as_str(), "DAYLIGHT");
    assert_eq!(props(october, "TZOFFSETTO"), ["+1100"]);
    assert!(sydney.components.len() > 20, "ten years of changes");
    let berlin = again
        .components
        .iter()
        .find(|c| props(c, "TZID") == ["Europe/Berlin"])
        .unwrap();
    assert!(berlin.components.len() > 2);
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 3, "two series and one moved meeting");
    let series = events[0];
    let uid = format!("meeting-{}@hearth.test", meeting.id);
    assert_eq!(props(series, "UID"), std::slice::from_ref(&uid));
    assert_eq!(
        props(series, "DTSTART"),
        ["TZID=Europe/Berlin;20380304T190000"]
    );
    assert_eq!(
        props(series, "RRULE"),
        ["FREQ=WEEKLY;INTERVAL=1;BYDAY=TH;COUNT=6"]
    );
    assert_eq!(
        props(series, "EXDATE"),
        ["TZID=Europe/Berlin;20380311T190000"]
    );
    assert_eq!(props(series, "DURATION"), ["PT90M"]);
    assert_eq!(props(series, "SUMMARY"), ["Evening circle; all welcome"]);
    assert!(ics.contains("SUMMARY:Evening circle\\; all welcome\r\n"));
    assert_eq!(props(series, "DTSTAMP").len(), 1);
    let moved = events[1];
    assert_eq!(props(moved, "UID"), [uid]);
    assert_eq!(
        props(moved, "RECURRENCE-ID"),
        ["TZID=Europe/Berlin;20380318T190000"]
    );
    assert_eq!(
        props(moved, "DTSTART"),
        ["TZID=Europe/Berlin;20380319T200000"]
    );
    let monthly = events[2];
    assert_eq!(
        props(monthly, "RRULE"),
        ["FREQ=MONTHLY;BYDAY=-1TU;UNTIL=20381228T230000Z"]
    );
}

fn props_of(properties: &[icalendar::parser::Property<'_>], name: &str) -> Vec<String> {
    properties
        .iter()
        .filter(|p| p.name.as_str() == name)
        .map(|p| p.val.as_str().to_owned())
        .collect()
}

#[test]
fn only_public_groups_have_a_public_feed_and_only_members_see_details() {
    for visibility in ["members", "private"] {
        let g = group(visibility);
        let conn = &mut *g.conn();
        assert!(matches!(
            group_feed(conn, &g.board, "hearth.test", clock::now()),
            Err(Error::NotFound)
        ));
    }
    let g = group("public");
    let ana = g.joined("ana");
    let conn = &mut *g.conn();
    let meeting = schedule(
        conn,
        &g.admin,
        &g.board,
        &form("2038-01-07", "19:00", "UTC"),
    )
    .unwrap();
    let outsider = member(conn, "eve", SiteRole::Member);
    assert!(details_for(&Actor::Visitor, &g.board, &meeting).is_none());
    assert!(details_for(&outsider.actor(), &g.board, &meeting).is_none());
    let seen = details_for(&ana.actor(), &g.board, &meeting).unwrap();
    assert_eq!(seen.online_url, "https://meet.example.org/grief-circle");
    let json = serde_json::to_string(&meeting).unwrap_or_default();
    assert!(!json.contains("meet.example.org") && !json.contains("Community"));
}

#[test]
fn the_private_feed_has_what_the_member_goes_to_and_a_reset_ends_the_old_address() {
    let g = group("members");
    let ana = g.joined("ana");
    let conn = &mut *g.conn();
    let going = schedule(
        conn,
        &g.admin,
        &g.board,
        &form("2038-01-07", "19:00", "Europe/London"),
    )
    .unwrap();
    let mut other = form("2038-01-08", "12:00", "Europe/London");
    other.title = "Lunch walk".to_owned();
    let not_going = schedule(conn, &g.admin, &g.board, &other).unwrap();
    rsvp(conn, &ana, going.id, "20380114T1900", Response::Going).unwrap();
    rsvp(conn, &ana, not_going.id, "20380108T1200", Response::Maybe).unwrap();
    assert!(feed_created_at(conn, ana.id).unwrap().is_none());
    let token = reset_feed_token(conn, &ana).unwrap();
    let ics = member_feed(conn, &token, "hearth.test", clock::now()).unwrap();
    let calendar = parse(&ics);
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1, "{ics}");
    assert_eq!(
        props(events[0], "DTSTART"),
        ["TZID=Europe/London;20380114T190000"]
    );
    assert_eq!(
        props(events[0], "URL"),
        ["https://meet.example.org/grief-circle"]
    );
    assert_eq!(props(events[0], "LOCATION"), ["Room 4, Community Centre"]);
    assert!(!ics.contains("Lunch walk"));
    let again = reset_feed_token(conn, &ana).unwrap();
    assert!(matches!(
        member_feed(conn, &token, "hearth.test", clock::now()),
        Err(Error::NotFound)
    ));
    assert!(member_feed(conn, &again, "hearth.test", clock::now()).is_ok());
    // Leaving the group takes the meeting out of the feed.
    memberships::leave(conn, &ana, &g.board).unwrap();
    let ics = member_feed(conn, &again, "hearth.test", clock::now()).unwrap();
    assert!(!ics.contains("BEGIN:VEVENT"), "{ics}");
}

#[test]
fn editing_a_series_drops_what_its_new_dates_do_not_have_and_more_room_moves_people_up() {
    let g = group("public");
    let (ana, bob) = (g.joined("ana"), g.joined("bob"));
    let conn = &mut *g.conn();
    let mut f = form("2038-01-07", "19:00", "UTC");
    f.capacity = "1".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &f).unwrap();
    rsvp(conn, &ana, meeting.id, "20380114T1900", Response::Going).unwrap();
    rsvp(conn, &bob, meeting.id, "20380114T1900", Response::Going).unwrap();
    cancel_occurrence(conn, &g.admin, meeting.id, "20380121T1900").unwrap();
    // More room: Bob moves up from the waiting list.
    f.capacity = "2".to_owned();
    let edited = update(conn, &g.admin, meeting.id, &f).unwrap();
    assert!(edited.sequence > meeting.sequence);
    let dates = upcoming_of(conn, &edited, clock::now(), far(), 3).unwrap();
    let counts = answers(conn, &bob.actor(), &g.board, &edited, &dates).unwrap();
    assert_eq!(counts["20380114T1900"].mine, Some(Response::Going));
    assert!(dates[2].cancelled);
    // An hour earlier: the old dates, their answers and exceptions are gone.
    f.time = "18:00".to_owned();
    let moved = update(conn, &g.admin, meeting.id, &f).unwrap();
    let dates = upcoming_of(conn, &moved, clock::now(), far(), 3).unwrap();
    assert!(dates
        .iter()
        .all(|d| !d.cancelled && d.local_start.hour() == 18));
    let counts = answers(conn, &bob.actor(), &g.board, &moved, &dates).unwrap();
    assert!(counts.values().all(|a| a.going == 0 && a.mine.is_none()));
    assert!(matches!(
        rsvp(conn, &ana, meeting.id, "20380114T1900", Response::Going),
        Err(Error::NotFound)
    ));
}

#[test]
fn editing_a_series_can_clear_its_capacity_end_and_month_week() {
    let g = group("public");
    let conn = &mut *g.conn();
    // 7 January 2038 is the first Thursday of its month.
    let mut f = form("2038-01-07", "19:00", "UTC");
    f.repeat = "monthly".to_owned();
    f.month_week = "1".to_owned();
    f.end = "count".to_owned();
    f.count = "3".to_owned();
    f.capacity = "5".to_owned();
    let meeting = schedule(conn, &g.admin, &g.board, &f).unwrap();
    assert_eq!(
        (
            meeting.month_week,
            meeting.occurrence_count,
            meeting.capacity
        ),
        (Some(1), Some(3), Some(5))
    );
    assert!(meeting.series_ends_at.is_some());
    f.repeat = "weekly".to_owned();
    f.end = "never".to_owned();
    f.capacity = String::new();
    let edited = update(conn, &g.admin, meeting.id, &f).unwrap();
    assert_eq!(
        (edited.month_week, edited.occurrence_count, edited.capacity),
        (None, None, None)
    );
    assert_eq!(edited.series_ends_at, None);
    assert_eq!(edited.repeat, "weekly");
}

#[test]
fn those_going_are_told_once_when_the_series_time_or_place_changes_and_not_for_its_agenda() {
    let g = group("public");
    let (ana, bob) = (g.joined("ana"), g.joined("bob"));
    let conn = &mut *g.conn();
    let f = form("2038-01-07", "19:00", "Europe/London");
    let meeting = schedule(conn, &g.admin, &g.board, &f).unwrap();
    for key in ["20380107T1900", "20380114T1900"] {
        rsvp(conn, &ana, meeting.id, key, Response::Going).unwrap();
    }
    let changed = |conn: &mut DbConn, m: &MemberActor| {
        unread(conn, m)
            .into_iter()
            .filter(|body| body.contains("was changed by its organisers"))
            .count()
    };
    let mut later = f.clone();
    later.time = "19:30".to_owned();
    update(conn, &g.admin, meeting.id, &later).unwrap();
    assert_eq!(changed(conn, &ana), 1, "once, for both dates she answered");
    assert!(
        unread(conn, &ana)[0].contains("19:30"),
        "{:?}",
        unread(conn, &ana)
    );
    assert_eq!(changed(conn, &bob), 0, "bob did not answer");
    let mut agenda = later.clone();
    agenda.agenda = "Check-in, then a walk.".to_owned();
    update(conn, &g.admin, meeting.id, &agenda).unwrap();
    assert_eq!(changed(conn, &ana), 1, "a new agenda is not news");
}
