use super::*;
use crate::model::MemberStatus;
use crate::test_support::{registration, sqlite_pool as test_db, PASSWORD};

#[test]
fn registration_stores_an_argon2id_hash_never_the_password() {
    let (_dir, pool) = test_db();
    let conn = &mut *pool.get().unwrap();
    let member = register(conn, &registration("Ana"), SiteRole::Member).unwrap();
    assert_eq!(
        member.display_name, "Ana",
        "the display name defaults to the username"
    );
    let stored: String = members::table
        .find(member.id)
        .select(members::password_hash)
        .first(conn)
        .unwrap();
    assert!(stored.starts_with("$argon2id$"));
    assert!(!stored.contains("lantern"));
}

#[test]
fn authentication_ignores_username_case_but_not_password_case() {
    let (_dir, pool) = test_db();
    let conn = &mut *pool.get().unwrap();
    register(conn, &registration("Ana"), SiteRole::Member).unwrap();
    assert_eq!(authenticate(conn, "aNa", PASSWORD).unwrap().username, "Ana");
    assert!(matches!(
        authenticate(conn, "ana", "Lantern meadow orbit kettle"),
        Err(Error::BadCredentials)
    ));
    assert!(matches!(
        authenticate(conn, "nobody", PASSWORD),
        Err(Error::BadCredentials)
    ));
}

#[test]
fn every_problem_in_a_registration_is_reported_at_once() {
    let (_dir, pool) = test_db();
    let conn = &mut *pool.get().unwrap();
    let form = Registration {
        username: "a".to_owned(),
        display_name: "x".repeat(65),
        password: "short".to_owned(),
        time_zone: "Mars/Olympus".to_owned(),
    };
    let Err(Error::Invalid(invalid)) = register(conn, &form, SiteRole::Member) else {
        panic!("an invalid form was accepted");
    };
    let fields: Vec<&str> = invalid.0.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["username", "display_name", "password", "time_zone"]
    );
}

#[test]
fn usernames_allow_letters_digits_and_a_little_punctuation() {
    for good in ["ana", "Ana_M", "jo.k", "zoë", "a-1"] {
        let mut invalid = Invalid::default();
        check_username(good, &mut invalid);
        assert!(invalid.is_empty(), "{good} was refused");
    }
    for bad in [
        "ab",
        "_ana",
        "ana smith",
        "ana/../x",
        "<b>",
        &"a".repeat(33),
    ] {
        let mut invalid = Invalid::default();
        check_username(bad, &mut invalid);
        assert!(!invalid.is_empty(), "{bad} was accepted");
    }
}

#[test]
fn a_suspension_ends_by_itself() {
    let (_dir, pool) = test_db();
    let conn = &mut *pool.get().unwrap();
    let mut member = register(conn, &registration("ana"), SiteRole::Member).unwrap();
    let now = clock::now();
    member.status = MemberStatus::Suspended;
    member.suspended_until = Some(now + chrono::TimeDelta::days(1));
    assert!(member.is_suspended(now));
    assert!(!member.is_suspended(now + chrono::TimeDelta::days(2)));
}
