//! A member: an account as the rest of Hearth sees it, and the little of one shown beside
//! what they wrote.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::members;
use crate::ids::MemberId;
use crate::text_enum::text_enum;

text_enum! {
    /// A member's standing on the whole site.
    #[derive(PartialOrd, Ord, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum SiteRole ("site role") {
        Member = "member",
        Moderator = "moderator",
        Admin = "admin",
    }
}

text_enum! {
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum MemberStatus ("member status") {
        Active = "active",
        Suspended = "suspended",
        Deleted = "deleted",
    }
}

/// A member as the rest of Hearth sees them. The password hash is never loaded into it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = members)]
pub struct Member {
    pub id: MemberId,
    pub username: String,
    pub display_name: String,
    pub pronouns: String,
    pub bio: String,
    /// The bio rendered by `hearth-markdown` when it was saved.
    pub bio_html: String,
    pub time_zone: String,
    #[diesel(deserialize_as = String)]
    pub site_role: SiteRole,
    #[diesel(deserialize_as = String)]
    pub status: MemberStatus,
    pub suspended_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub post_count: i64,
}

impl Member {
    /// Whether the member may write right now (a suspension ends by itself at its date).
    pub fn is_suspended(&self, now: NaiveDateTime) -> bool {
        match self.status {
            MemberStatus::Active => false,
            MemberStatus::Deleted => true,
            MemberStatus::Suspended => self.suspended_until.is_none_or(|until| until > now),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.site_role == SiteRole::Admin
    }
}

/// The start of a former member's username (`accounts::leaving`): `~` is not allowed in a
/// username, so no registration can ever take one.
pub const TOMBSTONE_PREFIX: &str = "~former-";

/// The little of a member shown beside what they wrote.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = members)]
pub struct AuthorRef {
    pub id: MemberId,
    pub username: String,
    pub display_name: String,
    pub pronouns: String,
}

impl AuthorRef {
    /// The author to name, or `None` for a former member (whose row is a tombstone, see
    /// `accounts::leaving`): shown as "a former member".
    pub fn present(self) -> Option<AuthorRef> {
        (!self.username.starts_with(TOMBSTONE_PREFIX)).then_some(self)
    }
}
