//! The day limit of exports holds when requests come at once (PostgreSQL's READ COMMITTED
//! lets two transactions count the same rows unless they take turns).

use std::time::Duration;

use super::*;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

#[test]
fn two_exports_counted_at_once_do_not_both_pass_a_limit_of_one() {
    let (_db, pool) = any_pool();
    let bea = member(&mut pool.get().unwrap(), "bea", SiteRole::Member);
    let rules = LeavingRules {
        exports_per_day: 1,
        ..LeavingRules::default()
    };
    let now = crate::clock::now();
    let mut first = pool.get().unwrap();
    // The first request counts and inserts, and while its transaction is still open a second
    // request counts on another connection.
    let second = write_tx(&mut first, |conn| {
        count_export(conn, bea.id, &rules, now)?;
        let pool = pool.clone();
        let id = bea.id;
        let second = std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            write_tx(&mut conn, |conn| count_export(conn, id, &rules, now))
        });
        std::thread::sleep(Duration::from_millis(400));
        Ok(second)
    })
    .unwrap();
    match second.join().unwrap() {
        Err(Error::RateLimited { reason, .. }) => assert!(reason.contains("1 time a day")),
        other => panic!("the second export passed the limit: {other:?}"),
    }
    let counted: i64 = data_exports::table
        .filter(data_exports::member_id.eq(bea.id))
        .count()
        .get_result(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(counted, 1);
}
