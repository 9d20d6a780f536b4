//! Site roles given and taken back, on both backends: logged, told, never the last admin.

use super::*;
use crate::accounts::members;
use crate::db::schema::{moderation_log, notifications};
use crate::error::Denied;
use crate::test_support::{any_pool, member};

fn role_of(conn: &mut DbConn, username: &str) -> SiteRole {
    members::by_username(conn, username).unwrap().site_role
}

fn log_of(conn: &mut DbConn) -> Vec<(i64, String, Option<i64>, String)> {
    moderation_log::table
        .order(moderation_log::id.asc())
        .select((
            moderation_log::actor_id,
            moderation_log::action,
            moderation_log::member_id,
            moderation_log::reason,
        ))
        .load::<(
            crate::ids::MemberId,
            String,
            Option<crate::ids::MemberId>,
            String,
        )>(conn)
        .unwrap()
        .into_iter()
        .map(|(actor, action, member, reason)| (actor.0, action, member.map(|m| m.0), reason))
        .collect()
}

fn notices_of(conn: &mut DbConn, member: &MemberActor) -> Vec<String> {
    notifications::table
        .filter(notifications::member_id.eq(member.id))
        .select(notifications::body)
        .load(conn)
        .unwrap()
}

#[test]
fn an_admin_makes_a_member_a_moderator_logged_and_told() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let ana = member(conn, "ana", SiteRole::Member);
    let change = set_site_role(conn, &ada, &ana.member, SiteRole::Moderator, "at the CLI").unwrap();
    assert_eq!(
        change,
        RoleChange {
            from: SiteRole::Member,
            to: SiteRole::Moderator
        }
    );
    assert_eq!(role_of(conn, "ana"), SiteRole::Moderator);
    assert_eq!(
        log_of(conn),
        [(
            ada.id.0,
            "change_site_role".to_owned(),
            Some(ana.id.0),
            "member → moderator: at the CLI".to_owned()
        )]
    );
    assert_eq!(
        notices_of(conn, &ana),
        ["Your role on this site changed: you are now a site moderator (you were a member)."]
    );
    // The same role again changes nothing and says so.
    let ana_now = members::by_username(conn, "ana").unwrap();
    let again = set_site_role(conn, &ada, &ana_now, SiteRole::Moderator, "").unwrap_err();
    assert!(
        again.to_string().contains("already a site moderator"),
        "{again}"
    );
    assert_eq!(log_of(conn).len(), 1);
}

#[test]
fn only_an_admin_changes_roles() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    member(conn, "ada", SiteRole::Admin);
    let mo = member(conn, "moe", SiteRole::Moderator);
    let ana = member(conn, "ana", SiteRole::Member);
    let refused = set_site_role(conn, &mo, &ana.member, SiteRole::Moderator, "").unwrap_err();
    assert!(
        matches!(refused, Error::Denied(Denied::AdminOnly)),
        "{refused:?}"
    );
    assert_eq!(role_of(conn, "ana"), SiteRole::Member);
    assert!(log_of(conn).is_empty());
}

#[test]
fn the_last_admin_cannot_be_demoted_and_one_leaving_does_not_count() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let refused = set_site_role(conn, &ada, &ada.member, SiteRole::Member, "").unwrap_err();
    assert!(
        refused.to_string().contains("only administrator"),
        "{refused}"
    );
    assert_eq!(role_of(conn, "ada"), SiteRole::Admin);

    // A second admin who asked to leave is no second admin.
    let bea = member(conn, "bea", SiteRole::Admin);
    let now = clock::now();
    diesel::insert_into(account_departures::table)
        .values((
            account_departures::member_id.eq(bea.id),
            account_departures::mode.eq("delete"),
            account_departures::requested_at.eq(now),
            account_departures::due_at.eq(now + chrono::TimeDelta::days(7)),
        ))
        .execute(conn)
        .unwrap();
    let refused = set_site_role(conn, &ada, &ada.member, SiteRole::Moderator, "").unwrap_err();
    assert!(
        refused.to_string().contains("only administrator"),
        "{refused}"
    );
    assert_eq!(role_of(conn, "ada"), SiteRole::Admin);

    // A third, staying, admin: now ada may step down to moderator, and the log says so.
    member(conn, "cyd", SiteRole::Admin);
    set_site_role(conn, &ada, &ada.member, SiteRole::Moderator, "").unwrap();
    assert_eq!(role_of(conn, "ada"), SiteRole::Moderator);
    assert_eq!(
        log_of(conn),
        [(
            ada.id.0,
            "change_site_role".to_owned(),
            Some(ada.id.0),
            "admin → moderator".to_owned()
        )]
    );
    assert!(log_of(conn).iter().all(|(_, _, m, _)| *m != Some(bea.id.0)));
}

#[test]
fn the_operator_is_the_first_admin_who_can_act() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let nobody = operator(conn).unwrap_err();
    assert!(
        nobody.to_string().contains("hearth admin create"),
        "{nobody}"
    );
    member(conn, "moe", SiteRole::Moderator);
    let ada = member(conn, "ada", SiteRole::Admin);
    let bea = member(conn, "bea", SiteRole::Admin);
    assert_eq!(operator(conn).unwrap().id, ada.id);
    // A suspended first admin does not act; the next one does.
    diesel::update(members_table::table.find(ada.id))
        .set((
            members_table::status.eq(MemberStatus::Suspended.as_str()),
            members_table::suspended_until.eq(clock::now() + chrono::TimeDelta::days(3)),
        ))
        .execute(conn)
        .unwrap();
    assert_eq!(operator(conn).unwrap().id, bea.id);
}

/// Two admins demoting each other at once: under the `site-admins` lock the second sees the
/// first's change, so one of them stays an admin (on PostgreSQL READ COMMITTED alone would let
/// both count the other as the admin who remains). Run many times to give the race a chance.
#[test]
fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let (_db, pool) = any_pool();
    for round in 0..10 {
        let (ada, bea) = {
            let conn = &mut *pool.get().unwrap();
            (
                member(conn, &format!("ada{round:02}"), SiteRole::Admin),
                member(conn, &format!("bea{round:02}"), SiteRole::Admin),
            )
        };
        // Earlier rounds' admins step down first, so these two are the only ones.
        {
            let conn = &mut *pool.get().unwrap();
            diesel::update(
                members_table::table
                    .filter(members_table::id.ne(ada.id))
                    .filter(members_table::id.ne(bea.id)),
            )
            .set(members_table::site_role.eq(SiteRole::Member.as_str()))
            .execute(conn)
            .unwrap();
        }
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<bool> = std::thread::scope(|scope| {
            let runs: Vec<_> = [(&ada, &bea), (&bea, &ada)]
                .into_iter()
                .map(|(actor, target)| {
                    let (pool, barrier) = (&pool, &barrier);
                    scope.spawn(move || {
                        let mut conn = pool.get().unwrap();
                        barrier.wait();
                        set_site_role(&mut conn, actor, &target.member, SiteRole::Member, "")
                            .is_ok()
                    })
                })
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|ok| **ok).count(),
            1,
            "round {round}: {results:?}"
        );
        let conn = &mut *pool.get().unwrap();
        let admins: i64 = members_table::table
            .filter(members_table::site_role.eq(SiteRole::Admin.as_str()))
            .count()
            .get_result(conn)
            .unwrap();
        assert_eq!(admins, 1, "round {round}");
    }
}
