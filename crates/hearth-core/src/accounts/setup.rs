//! The one-time link that creates the first administrator in the browser.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::accounts::members::{self, Registration};
use crate::db::schema::setup_tokens;
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::model::{Member, SiteRole};
use crate::{accounts::tokens, clock};

const SETUP_LINK_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// Issues a new setup token when no administrator exists yet; `None` once one does.
/// Older unused tokens are replaced, so only the link printed last works.
pub fn issue_token_if_needed(conn: &mut DbConn) -> Result<Option<String>> {
    if members::any_admin_exists(conn)? {
        return Ok(None);
    }
    let token = tokens::random_token();
    let now = clock::now();
    write_tx(conn, |conn| {
        diesel::delete(setup_tokens::table).execute(conn)?;
        diesel::insert_into(setup_tokens::table)
            .values((
                setup_tokens::token_hash.eq(tokens::hash_token(&token)),
                setup_tokens::created_at.eq(now),
                setup_tokens::expires_at.eq(now + SETUP_LINK_LIFETIME),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(Some(token))
}

/// Whether `token` is a live setup token (and no administrator exists yet).
pub fn token_is_valid(conn: &mut DbConn, token: &str) -> Result<bool> {
    if members::any_admin_exists(conn)? {
        return Ok(false);
    }
    let expires: Option<NaiveDateTime> = setup_tokens::table
        .find(tokens::hash_token(token))
        .select(setup_tokens::expires_at)
        .get_result(conn)
        .optional()?;
    Ok(expires.is_some_and(|at| at > clock::now()))
}

/// Creates the first administrator and spends the token, in one transaction: of two forms
/// sent at once with the same link, one makes the administrator and the other finds the link
/// spent.
pub fn create_first_admin(conn: &mut DbConn, token: &str, form: &Registration) -> Result<Member> {
    if !token_is_valid(conn, token)? {
        return Err(Error::NotFound);
    }
    let password_hash = members::check_and_hash(conn, form)?;
    write_tx(conn, |conn| {
        let spent = diesel::delete(
            setup_tokens::table
                .find(tokens::hash_token(token))
                .filter(setup_tokens::expires_at.gt(clock::now())),
        )
        .execute(conn)?;
        if spent == 0 || members::any_admin_exists(conn)? {
            return Err(Error::NotFound);
        }
        diesel::delete(setup_tokens::table).execute(conn)?;
        members::insert(conn, form, SiteRole::Admin, &password_hash)
    })
}

#[cfg(test)]
mod tests;
