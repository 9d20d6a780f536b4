//! Sessions end: expired ones are deleted, live ones stay.

use chrono::TimeDelta;

use super::*;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

#[test]
fn purging_deletes_expired_sessions_and_keeps_live_ones() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_sessions", SiteRole::Member);
    let live = start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    let expired = start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    diesel::update(sessions::table.find(expired.session.id))
        .set(sessions::expires_at.eq(clock::now() - TimeDelta::minutes(1)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(purge_expired(&mut conn).unwrap(), 1);
    assert!(resume(&mut conn, &live.token).is_ok());
    assert!(resume(&mut conn, &expired.token).is_err());
    let left: i64 = sessions::table.count().get_result(&mut conn).unwrap();
    assert_eq!(left, 1);
}

#[test]
fn last_seen_is_written_at_most_once_per_interval() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_seen", SiteRole::Member);
    let every = TimeDelta::minutes(5);
    let started = start_on(&mut conn, &ana, TimeDelta::days(30), "Firefox on Android").unwrap();
    let session = resume(&mut conn, &started.token).unwrap();
    let now = clock::now();
    // Just started: nothing to write for the next five minutes.
    assert!(!needs_touch(&session, now + TimeDelta::minutes(4), every));
    assert!(!touch(&mut conn, session.id, now + TimeDelta::minutes(4), every).unwrap());
    // Five minutes on, one write; a second request at the same time writes nothing.
    let later = now + TimeDelta::minutes(6);
    assert!(needs_touch(&session, later, every));
    assert!(touch(&mut conn, session.id, later, every).unwrap());
    assert!(!touch(&mut conn, session.id, later + TimeDelta::seconds(30), every).unwrap());
    let resumed = resume(&mut conn, &started.token).unwrap();
    assert_eq!(resumed.last_seen_at, later);
    assert!(!needs_touch(&resumed, later + TimeDelta::minutes(1), every));

    let listed = list_for(&mut conn, ana.id).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].device_hint, "Firefox on Android");
    assert_eq!(listed[0].last_seen(), later);
}

#[test]
fn a_member_ends_only_their_own_sessions() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let ana = member(&mut conn, "ana_end", SiteRole::Member);
    let ben = member(&mut conn, "ben_end", SiteRole::Member);
    let here = start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    let phone = start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    let laptop = start(&mut conn, &ana, TimeDelta::days(30)).unwrap();
    let bens = start(&mut conn, &ben, TimeDelta::days(30)).unwrap();
    assert!(matches!(
        end_own(&mut conn, ana.id, bens.session.id),
        Err(Error::NotFound)
    ));
    assert!(resume(&mut conn, &bens.token).is_ok());
    end_own(&mut conn, ana.id, phone.session.id).unwrap();
    assert!(resume(&mut conn, &phone.token).is_err());
    assert_eq!(
        end_all_except(&mut conn, ana.id, here.session.id).unwrap(),
        1
    );
    assert!(resume(&mut conn, &laptop.token).is_err());
    assert!(resume(&mut conn, &here.token).is_ok());
    assert!(resume(&mut conn, &bens.token).is_ok());
}
