//! The site's members as an operator lists them (`hearth admin list`): by site role, the
//! suspended ones, or those whose name holds some text; a limited number at a time, with how
//! many match in all. E-mail addresses only when asked for. Former members are left out.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::clock;
use crate::db::schema::{email_addresses, members, sessions};
use crate::db::DbConn;
use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::model::{MemberStatus, SiteRole};

diesel::define_sql_function! {
    /// SQL's `lower`, for matching display names without regard to case on both backends.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The most members one listing shows.
pub const MAX_LIMIT: i64 = 10_000;

/// Which members to list.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    pub role: Option<SiteRole>,
    /// Only members whose suspension holds now.
    pub suspended: bool,
    /// Text in the username or the display name (any case).
    pub search: Option<String>,
    /// At most this many (1 to [`MAX_LIMIT`]).
    pub limit: i64,
    /// Their e-mail addresses too.
    pub with_email: bool,
}

/// A member's address as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedAddress {
    pub address: String,
    pub verified: bool,
}

/// One member of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct ListedMember {
    pub id: MemberId,
    pub username: String,
    pub display_name: String,
    pub site_role: SiteRole,
    pub joined: NaiveDateTime,
    /// The latest request of any of their current sessions (or its start): unknown once they
    /// signed out everywhere.
    pub last_seen: Option<NaiveDateTime>,
    /// Whether a suspension holds now.
    pub suspended: bool,
    /// Its end, while one holds (none: until lifted).
    pub suspended_until: Option<NaiveDateTime>,
    /// Only when asked for, and only when they gave one.
    pub email: Option<ListedAddress>,
}

/// A listing: the first members that match, by username, and how many match in all.
#[derive(Debug, Clone, Serialize)]
pub struct MemberList {
    pub members: Vec<ListedMember>,
    pub total: i64,
}

type Row = (
    MemberId,
    String,
    String,
    String,
    String,
    Option<NaiveDateTime>,
    NaiveDateTime,
);

/// The members `query` asks for, ordered by username.
pub fn list(conn: &mut DbConn, query: &MemberQuery) -> Result<MemberList> {
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(Error::invalid(
            "limit",
            format!("the limit is a number from 1 to {MAX_LIMIT}"),
        ));
    }
    let now = clock::now();
    let pattern = query.search.as_deref().map(str::trim).map(|text| {
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    // The same filters for the page and for the count.
    macro_rules! matching {
        () => {{
            let mut filtered = members::table
                .filter(members::status.ne(MemberStatus::Deleted.as_str()))
                .into_boxed();
            if let Some(role) = query.role {
                filtered = filtered.filter(members::site_role.eq(role.as_str()));
            }
            if query.suspended {
                filtered = filtered
                    .filter(members::status.eq(MemberStatus::Suspended.as_str()))
                    .filter(
                        members::suspended_until
                            .is_null()
                            .or(members::suspended_until.gt(now)),
                    );
            }
            if let Some(pattern) = &pattern {
                filtered = filtered.filter(
                    members::username_lower
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower(members::display_name)
                            .like(pattern.clone())
                            .escape('\\')),
                );
            }
            filtered
        }};
    }
    let total: i64 = matching!().count().get_result(conn)?;
    let rows: Vec<Row> = matching!()
        .order(members::username_lower.asc())
        .limit(query.limit)
        .select((
            members::id,
            members::username,
            members::display_name,
            members::site_role,
            members::status,
            members::suspended_until,
            members::created_at,
        ))
        .load(conn)?;
    let ids: Vec<MemberId> = rows.iter().map(|row| row.0).collect();
    let seen = last_seen(conn, &ids)?;
    let addresses = if query.with_email {
        addresses_of(conn, &ids)?
    } else {
        HashMap::new()
    };
    let members = rows
        .into_iter()
        .map(
            |(id, username, display_name, role, status, until, joined)| {
                let suspended = status == MemberStatus::Suspended.as_str()
                    && until.is_none_or(|until| until > now);
                Ok(ListedMember {
                    id,
                    username,
                    display_name,
                    site_role: SiteRole::try_from(role).map_err(Error::Internal)?,
                    joined,
                    last_seen: seen.get(&id).copied(),
                    suspended,
                    suspended_until: until.filter(|_| suspended),
                    email: addresses.get(&id).cloned(),
                })
            },
        )
        .collect::<Result<Vec<_>>>()?;
    Ok(MemberList { members, total })
}

/// The latest sighting of each member among their current sessions.
fn last_seen(conn: &mut DbConn, ids: &[MemberId]) -> Result<HashMap<MemberId, NaiveDateTime>> {
    let mut seen = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(MemberId, Option<NaiveDateTime>, Option<NaiveDateTime>)> = sessions::table
            .filter(sessions::member_id.eq_any(chunk))
            .group_by(sessions::member_id)
            .select((
                sessions::member_id,
                diesel::dsl::max(sessions::last_seen_at),
                diesel::dsl::max(sessions::created_at),
            ))
            .load(conn)?;
        for (id, last_request, last_start) in rows {
            if let Some(at) = last_request.max(last_start) {
                seen.insert(id, at);
            }
        }
    }
    Ok(seen)
}

fn addresses_of(conn: &mut DbConn, ids: &[MemberId]) -> Result<HashMap<MemberId, ListedAddress>> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(MemberId, String, Option<NaiveDateTime>)> = email_addresses::table
            .filter(email_addresses::member_id.eq_any(chunk))
            .select((
                email_addresses::member_id,
                email_addresses::address,
                email_addresses::verified_at,
            ))
            .load(conn)?;
        for (id, address, verified_at) in rows {
            found.insert(
                id,
                ListedAddress {
                    address,
                    verified: verified_at.is_some(),
                },
            );
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
