//! Site roles given and taken back: a member made a site moderator or an admin, or returned
//! to member. One transaction under the `site-admins` lock (the one leaving takes), so the
//! site never loses its last administrator to two changes at once; logged, and the member is
//! told. The operator at the command line acts as [`operator`], the site's first admin.

use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{actors, leaving};
use crate::clock;
use crate::db::schema::{account_departures, members as members_table};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::model::{Member, MemberStatus, SiteRole};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::policy::{self, Action, MemberActor};

/// A role changed: what it was and what it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoleChange {
    pub from: SiteRole,
    pub to: SiteRole,
}

fn role_words(role: SiteRole) -> &'static str {
    match role {
        SiteRole::Member => "a member",
        SiteRole::Moderator => "a site moderator",
        SiteRole::Admin => "an administrator",
    }
}

/// The error for taking the role of the site's last administrator.
fn last_admin_error() -> Error {
    Error::invalid(
        "role",
        "this is the site's only administrator (not counting those leaving): make another \
         administrator first",
    )
}

/// Gives `target` the site role `role` (an admin's action: see [`Action::ChangeSiteRole`]).
/// The member's role is read again under the `site-admins` lock and changed only from what
/// was read (`UPDATE … WHERE site_role = <seen>`), so of two changes at once the second sees
/// the first; an admin is never demoted when no other admin would be left. Writes
/// `reason` (optional) in the log beside the change, and tells the member. Giving the role a
/// member already has is an error that changes nothing.
pub fn set_site_role(
    conn: &mut DbConn,
    actor: &MemberActor,
    target: &Member,
    role: SiteRole,
    reason: &str,
) -> Result<RoleChange> {
    policy::authorize(&actor.actor(), Action::ChangeSiteRole(target))?;
    let reason = reason.trim();
    if target.status == MemberStatus::Deleted {
        return Err(Error::NotFound);
    }
    write_tx(conn, |conn| {
        leaving::lock_admins(conn)?;
        let seen: String = members_table::table
            .find(target.id)
            .select(members_table::site_role)
            .get_result(conn)?;
        let from = SiteRole::try_from(seen.clone()).map_err(Error::Internal)?;
        if from == role {
            return Err(Error::invalid(
                "role",
                format!("{} is already {}", target.username, role_words(role)),
            ));
        }
        if from == SiteRole::Admin && leaving::is_last_admin(conn, target.id)? {
            return Err(last_admin_error());
        }
        let changed = diesel::update(
            members_table::table
                .find(target.id)
                .filter(members_table::site_role.eq(&seen)),
        )
        .set(members_table::site_role.eq(role.as_str()))
        .execute(conn)?;
        if changed == 0 {
            return Err(Error::invalid(
                "role",
                "the member's role changed meanwhile; look again",
            ));
        }
        let now = clock::now();
        let body = format!(
            "Your role on this site changed: you are now {} (you were {}).",
            role_words(role),
            role_words(from)
        );
        notices::send(conn, target.id, &body, now)?;
        let logged_reason = if reason.is_empty() {
            format!("{} → {}", from.as_str(), role.as_str())
        } else {
            format!("{} → {}: {reason}", from.as_str(), role.as_str())
        };
        let mut entry = Entry::new(LoggedAction::ChangeSiteRole, None);
        entry.member_id = Some(target.id);
        entry.reason = &logged_reason;
        log::write(conn, actor, entry, now)?;
        Ok(RoleChange { from, to: role })
    })
}

/// Who the operator at the command line acts as, for actions the log records with an actor:
/// the site's first administrator (the oldest account) whose suspension does not hold and who
/// has not asked to leave. None: create one with `hearth admin create`.
pub fn operator(conn: &mut DbConn) -> Result<MemberActor> {
    let leaving_ids = account_departures::table.select(account_departures::member_id);
    let admins: Vec<Member> = members_table::table
        .filter(members_table::site_role.eq(SiteRole::Admin.as_str()))
        .filter(members_table::status.ne(MemberStatus::Deleted.as_str()))
        .filter(diesel::dsl::not(members_table::id.eq_any(leaving_ids)))
        .order(members_table::id.asc())
        .select(Member::as_select())
        .load(conn)?;
    let now = clock::now();
    let first = admins
        .into_iter()
        .find(|admin| !admin.is_suspended(now))
        .ok_or_else(|| {
            Error::invalid(
                "operator",
                "no administrator can act for the command line (the log names one): create \
                 one with `hearth admin create NAME`",
            )
        })?;
    actors::actor_for(conn, first)
}

#[cfg(test)]
mod tests;
