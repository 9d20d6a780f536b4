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
