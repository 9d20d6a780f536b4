//! The setup link makes one administrator, however many forms are sent with it at once.

use diesel::prelude::*;

use super::*;
use crate::db::schema::members as members_table;
use crate::test_support::{any_pool, registration};

#[test]
fn two_forms_sent_at_once_with_the_link_make_one_administrator() {
    let (_database, pool) = any_pool();
    let token = issue_token_if_needed(&mut pool.get().unwrap())
        .unwrap()
        .expect("a fresh site issues a setup link");
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let senders: Vec<_> = ["first_admin", "second_admin"]
        .into_iter()
        .map(|name| {
            let (pool, token, start) = (pool.clone(), token.clone(), start.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                start.wait();
                create_first_admin(&mut conn, &token, &registration(name))
            })
        })
        .collect();
    let outcomes: Vec<_> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let made = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(made, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().any(|o| matches!(o, Err(Error::NotFound))),
        "the other form finds the link spent: {outcomes:?}"
    );
    let admins: i64 = members_table::table
        .filter(members_table::site_role.eq(SiteRole::Admin.as_str()))
        .count()
        .get_result(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(admins, 1);
    let mut conn = pool.get().unwrap();
    assert!(
        !token_is_valid(&mut conn, &token).unwrap(),
        "the link is spent"
    );
}
