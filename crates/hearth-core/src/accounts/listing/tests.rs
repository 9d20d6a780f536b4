//! The operator's list of members on both backends: filters, order, limit, addresses only
//! when asked for, former members left out.

use super::*;
use crate::accounts::sessions;
use crate::test_support::{any_pool, member};

fn names(list: &MemberList) -> Vec<&str> {
    list.members.iter().map(|m| m.username.as_str()).collect()
}

fn query() -> MemberQuery {
    MemberQuery {
        limit: 50,
        ..MemberQuery::default()
    }
}

#[test]
fn members_are_listed_by_role_suspension_and_name() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    member(conn, "Zed", SiteRole::Member);
    let ada = member(conn, "ada", SiteRole::Admin);
    let mo = member(conn, "moe", SiteRole::Moderator);
    let ana = member(conn, "ana_b", SiteRole::Member);
    member(conn, "anab", SiteRole::Member);
    diesel::update(members::table.find(mo.id))
        .set(members::display_name.eq("Morgan Analyst"))
        .execute(conn)
        .unwrap();
    let everyone = list(conn, &query()).unwrap();
    assert_eq!(names(&everyone), ["ada", "ana_b", "anab", "moe", "Zed"]);
    assert_eq!(everyone.total, 5);
    assert!(everyone.members.iter().all(|m| m.email.is_none()));

    let staff = list(
        conn,
        &MemberQuery {
            role: Some(SiteRole::Moderator),
            ..query()
        },
    )
    .unwrap();
    assert_eq!(names(&staff), ["moe"]);
    assert_eq!(staff.members[0].display_name, "Morgan Analyst");

    // Text in a name, any case; `_` is a letter, not a wildcard.
    let search = |conn: &mut DbConn, text: &str| {
        list(
            conn,
            &MemberQuery {
                search: Some(text.to_owned()),
                ..query()
            },
        )
        .unwrap()
    };
    assert_eq!(names(&search(conn, "ANA_")), ["ana_b"]);
    assert_eq!(names(&search(conn, "ANALYST")), ["moe"]);
    assert_eq!(names(&search(conn, "%")), Vec::<&str>::new());

    // Suspended: only while the suspension holds.
    crate::moderation::actions::suspend(
        conn,
        &ada,
        &ana.member,
        Some(clock::now() + chrono::TimeDelta::days(3)),
        "testing",
    )
    .unwrap();
    let suspended = list(
        conn,
        &MemberQuery {
            suspended: true,
            ..query()
        },
    )
    .unwrap();
    assert_eq!(names(&suspended), ["ana_b"]);
    assert!(suspended.members[0].suspended);
    assert!(suspended.members[0].suspended_until.unwrap() > clock::now());
    diesel::update(members::table.find(ana.id))
        .set(members::suspended_until.eq(clock::now() - chrono::TimeDelta::days(1)))
        .execute(conn)
        .unwrap();
    let over = list(
        conn,
        &MemberQuery {
            suspended: true,
            ..query()
        },
    )
    .unwrap();
    assert_eq!(over.total, 0, "a suspension that ended is not listed");

    // A limit shows the first ones and still counts them all.
    let two = list(
        conn,
        &MemberQuery {
            limit: 2,
            ..query()
        },
    )
    .unwrap();
    assert_eq!(names(&two), ["ada", "ana_b"]);
    assert_eq!(two.total, 5);
    assert!(list(
        conn,
        &MemberQuery {
            limit: 0,
            ..query()
        }
    )
    .is_err());
}

#[test]
fn last_seen_and_addresses_only_when_asked_for_and_no_former_members() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ana = member(conn, "ana", SiteRole::Member);
    let ben = member(conn, "ben", SiteRole::Member);
    sessions::start(conn, &ana.member, chrono::TimeDelta::days(30)).unwrap();
    diesel::insert_into(email_addresses::table)
        .values((
            email_addresses::member_id.eq(ana.id),
            email_addresses::address.eq("Ana@example.org"),
            email_addresses::address_lower.eq("ana@example.org"),
            email_addresses::created_at.eq(clock::now()),
        ))
        .execute(conn)
        .unwrap();
    let plain = list(conn, &query()).unwrap();
    assert!(plain.members[0].last_seen.is_some(), "ana has a session");
    assert!(plain.members[1].last_seen.is_none(), "ben never signed in");
    assert!(plain.members.iter().all(|m| m.email.is_none()));
    let with_email = list(
        conn,
        &MemberQuery {
            with_email: true,
            ..query()
        },
    )
    .unwrap();
    assert_eq!(
        with_email.members[0].email,
        Some(ListedAddress {
            address: "Ana@example.org".to_owned(),
            verified: false
        })
    );
    assert_eq!(with_email.members[1].email, None);

    // A member who left is gone from the list.
    diesel::update(members::table.find(ben.id))
        .set(members::status.eq(MemberStatus::Deleted.as_str()))
        .execute(conn)
        .unwrap();
    assert_eq!(names(&list(conn, &query()).unwrap()), ["ana"]);
}
