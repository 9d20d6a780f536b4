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
    /// For the role badge beside their name: the site's roles, never anything they wrote.
    #[diesel(deserialize_as = String)]
    pub site_role: SiteRole,
    /// When they joined: "New member" beside what they wrote in their first
    /// [`NEW_MEMBER_DAYS`] days.
    pub created_at: NaiveDateTime,
}

/// A post written this many days after its author joined carries "New member".
pub const NEW_MEMBER_DAYS: i64 = 14;

/// A badge beside an author's name. Only ever from what Hearth knows of the member (their
/// site role, the group's facilitators, their account's age): a display name is the member's
/// own words, so someone who calls themself "Admin" gets no badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    Admin,
    Moderator,
    Facilitator,
    NewMember,
}

impl Badge {
    pub fn label(self) -> &'static str {
        match self {
            Badge::Admin => "Admin",
            Badge::Moderator => "Moderator",
            Badge::Facilitator => "Facilitator",
            Badge::NewMember => "New member",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Badge::Admin => "admin",
            Badge::Moderator => "moderator",
            Badge::Facilitator => "facilitator",
            Badge::NewMember => "new-member",
        }
    }
}

/// A badge is shown as `{ slug, label }`: its class and its words.
impl Serialize for Badge {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut shown = serializer.serialize_struct("Badge", 2)?;
        shown.serialize_field("slug", self.slug())?;
        shown.serialize_field("label", self.label())?;
        shown.end()
    }
}

/// The badges beside an author's name on something they wrote at `written_at`: their site
/// role, "Facilitator" when they facilitate the group it is in, and "New member" when they had
/// joined less than [`NEW_MEMBER_DAYS`] before (never beside staff or facilitators). Account
/// age rather than "their first post on the site": whether a member wrote before somewhere
/// would tell of posts in groups the reader may not see.
pub fn badges(
    site_role: SiteRole,
    facilitates_here: bool,
    joined_at: NaiveDateTime,
    written_at: Option<NaiveDateTime>,
) -> Vec<Badge> {
    let mut shown = Vec::new();
    match site_role {
        SiteRole::Admin => shown.push(Badge::Admin),
        SiteRole::Moderator => shown.push(Badge::Moderator),
        SiteRole::Member => {}
    }
    if facilitates_here {
        shown.push(Badge::Facilitator);
    }
    let new =
        written_at.is_some_and(|at| at - joined_at < chrono::TimeDelta::days(NEW_MEMBER_DAYS));
    if shown.is_empty() && new {
        shown.push(Badge::NewMember);
    }
    shown
}

impl AuthorRef {
    /// The author to name, or `None` for a former member (whose row is a tombstone, see
    /// `accounts::leaving`): shown as "a former member".
    pub fn present(self) -> Option<AuthorRef> {
        (!self.username.starts_with(TOMBSTONE_PREFIX)).then_some(self)
    }
}
