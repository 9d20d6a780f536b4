//! Members' e-mail addresses. An address gets nothing but its verification link until it is
//! verified; every other mail goes only to [`verified_for`]'s answer.

use diesel::prelude::*;

use crate::db::schema::email_addresses;
use crate::db::DbConn;
use crate::error::Result;
use crate::ids::MemberId;

/// The member's verified address, if they have one.
pub fn verified_for(conn: &mut DbConn, member: MemberId) -> Result<Option<String>> {
    Ok(email_addresses::table
        .find(member)
        .filter(email_addresses::verified_at.is_not_null())
        .select(email_addresses::address)
        .first(conn)
        .optional()?)
}
