//! Links expire: a reset link after `reset_link_minutes`, a verification link after
//! `verification_link_hours`; each works once.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::clock;
use crate::db::schema::outbox;
use crate::mail::verification;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

const NEW_PASSWORD: &str = "harbour lantern violet thistle";

fn settings() -> EmailSettings {
    EmailSettings {
        smtp_host: Some("127.0.0.1".to_owned()),
        from_address: "hearth@example.org".to_owned(),
        ..EmailSettings::default()
    }
}

fn site() -> Site {
    Site {
        name: "Hearth".to_owned(),
        url: "https://forum.example.org".to_owned(),
    }
}

/// The token of the newest queued mail's link under `path`.
fn newest_token(conn: &mut DbConn, path: &str) -> String {
    let text: String = outbox::table
        .order(outbox::id.desc())
        .select(outbox::text_body)
        .first(conn)
        .unwrap();
    let start = text.find(path).unwrap() + path.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[test]
fn links_work_once_and_only_until_they_expire() {
    let (_database, pool) = any_pool();
    let mut conn = pool.get().unwrap();
    let settings = settings();
    let ana = member(&mut conn, "ana_links", SiteRole::Member).member;
    let now = clock::now();

    verification::request(&mut conn, &ana, "ana@example.org", &settings, &site(), now).unwrap();
    let verify_token = newest_token(&mut conn, "/email/verify/");
    let hours = i64::from(settings.verification_link_hours);
    let too_late = now + TimeDelta::hours(hours) + TimeDelta::seconds(1);
    assert!(matches!(
        verification::verify(&mut conn, &verify_token, too_late),
        Err(Error::NotFound)
    ));
    let in_time = now + TimeDelta::hours(hours) - TimeDelta::seconds(1);
    assert_eq!(
        verification::verify(&mut conn, &verify_token, in_time).unwrap(),
        "ana@example.org"
    );
    assert!(matches!(
        verification::verify(&mut conn, &verify_token, in_time),
        Err(Error::NotFound)
    ));

    let from = IpAddr::V4(Ipv4Addr::LOCALHOST);
    request(&mut conn, "ana_links", from, &settings, &site(), now).unwrap();
    let reset_token = newest_token(&mut conn, "/forgot/email/");
    let minutes = i64::from(settings.reset_link_minutes);
    let too_late = now + TimeDelta::minutes(minutes) + TimeDelta::seconds(1);
    assert!(matches!(
        complete(&mut conn, &reset_token, NEW_PASSWORD, too_late),
        Err(Error::NotFound)
    ));
    let in_time = now + TimeDelta::minutes(minutes) - TimeDelta::seconds(1);
    complete(&mut conn, &reset_token, NEW_PASSWORD, in_time).unwrap();
    assert!(matches!(
        complete(&mut conn, &reset_token, NEW_PASSWORD, in_time),
        Err(Error::NotFound)
    ));
    assert!(members::authenticate(&mut conn, "ana_links", NEW_PASSWORD).is_ok());
}
