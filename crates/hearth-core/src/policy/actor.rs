//! Who is asking: a visitor, or a signed-in member with the boards they facilitate, are banned
//! from and belong to (loaded by `accounts::actors::actor_for`).

use std::ops::Deref;

use crate::clock;
use crate::ids::BoardId;
use crate::model::{Member, MemberStatus, Post, SiteRole};

/// A signed-in member with what the policy needs to know about them beyond their account.
#[derive(Debug, Clone)]
pub struct MemberActor {
    pub member: Member,
    /// The boards this member facilitates.
    pub facilitates: Vec<BoardId>,
    /// The boards this member is banned from right now.
    pub banned_from: Vec<BoardId>,
    /// The groups this member has joined (requests not yet approved are not here).
    pub member_of: Vec<BoardId>,
}

impl MemberActor {
    /// A member who facilitates no board and is banned from none.
    pub fn plain(member: Member) -> MemberActor {
        MemberActor {
            member,
            facilitates: Vec::new(),
            banned_from: Vec::new(),
            member_of: Vec::new(),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Member(Box::new(self.clone()))
    }

    /// Whether a suspension holds right now. While it lasts the member holds no power: they
    /// moderate nothing, run nothing and read as an ordinary member of their groups.
    pub fn is_suspended_now(&self) -> bool {
        // Nearly everyone is active: no clock read for them (this runs for every post of a page).
        self.member.status != MemberStatus::Active && self.member.is_suspended(clock::now())
    }

    /// Site moderators and admins, while not suspended.
    pub fn is_staff(&self) -> bool {
        self.has_staff_role() && !self.is_suspended_now()
    }

    /// Admins, while not suspended.
    pub fn is_admin(&self) -> bool {
        self.member.is_admin() && !self.is_suspended_now()
    }

    /// Whether this member moderates the board: its facilitators and the site's staff, while
    /// not suspended.
    pub fn moderates(&self, board: BoardId) -> bool {
        self.has_moderator_role(board) && !self.is_suspended_now()
    }

    /// Whether this member belongs to the group: joined it, facilitates it (even while
    /// suspended: a suspension takes powers, not membership), or moderates it.
    pub fn belongs_to(&self, board: BoardId) -> bool {
        self.member_of.contains(&board)
            || self.facilitates.contains(&board)
            || self.moderates(board)
    }

    /// Whether this member moderates anything at all (the review queue link and count), while
    /// not suspended.
    pub fn moderates_any(&self) -> bool {
        self.has_moderator_role_anywhere() && !self.is_suspended_now()
    }

    /// The role alone, suspended or not: only to say why a power is refused
    /// ([`crate::error::Denied::Suspended`] rather than "moderators only").
    pub(crate) fn has_staff_role(&self) -> bool {
        self.member.site_role >= SiteRole::Moderator
    }

    /// The role alone, suspended or not (see [`MemberActor::has_staff_role`]).
    pub(crate) fn has_moderator_role(&self, board: BoardId) -> bool {
        self.has_staff_role() || self.facilitates.contains(&board)
    }

    /// The role alone, suspended or not (see [`MemberActor::has_staff_role`]).
    pub(crate) fn has_moderator_role_anywhere(&self) -> bool {
        self.has_staff_role() || !self.facilitates.is_empty()
    }
}

impl Deref for MemberActor {
    type Target = Member;
    fn deref(&self) -> &Member {
        &self.member
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Actor {
    Visitor,
    /// Boxed: a member carries their account and board lists; visitors carry nothing.
    Member(Box<MemberActor>),
}

impl Actor {
    pub fn member(&self) -> Option<&Member> {
        self.member_actor().map(|m| &m.member)
    }

    pub fn member_actor(&self) -> Option<&MemberActor> {
        match self {
            Actor::Visitor => None,
            Actor::Member(member) => Some(member),
        }
    }

    pub(super) fn is_staff(&self) -> bool {
        self.member_actor().is_some_and(|m| m.is_staff())
    }

    pub(super) fn moderates(&self, board: BoardId) -> bool {
        self.member_actor().is_some_and(|m| m.moderates(board))
    }

    pub(super) fn belongs_to(&self, board: BoardId) -> bool {
        self.member_actor().is_some_and(|m| m.belongs_to(board))
    }

    pub(super) fn is_banned_from(&self, board: BoardId) -> bool {
        self.member_actor()
            .is_some_and(|m| m.banned_from.contains(&board))
    }

    pub(super) fn is_author_of(&self, post: &Post) -> bool {
        self.member().is_some_and(|m| m.id == post.author_id)
    }
}
