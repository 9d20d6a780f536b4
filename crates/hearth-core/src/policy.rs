//! The one place that decides who may do what. `hearth-web` asks; it never decides.
//!
//! A decision is one of three: allowed; denied with a reason the person can act on; or hidden —
//! the actor may not even know the thing exists, which callers must show as "not found".

use crate::boards::{Board, Visibility};
use crate::clock;
use crate::error::{Denied, Error, Result};
use crate::members::{Member, SiteRole};
use crate::posts::{Post, PostState};
use crate::threads::{Thread, ThreadState};

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Actor {
    Visitor,
    Member(Member),
}

impl Actor {
    pub fn member(&self) -> Option<&Member> {
        match self {
            Actor::Visitor => None,
            Actor::Member(member) => Some(member),
        }
    }

    fn role(&self) -> Option<SiteRole> {
        self.member().map(|m| m.site_role)
    }

    fn is_staff(&self) -> bool {
        self.role() >= Some(SiteRole::Moderator)
    }
}

/// Everything an actor can try to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    ReadBoard(&'a Board),
    ReadThread(&'a Board, &'a Thread),
    StartThread(&'a Board),
    Reply(&'a Board, &'a Thread),
    EditPost(&'a Board, &'a Thread, &'a Post),
    DeletePost(&'a Board, &'a Thread, &'a Post),
    CreateBoard,
    /// Collapse another member's posts for oneself.
    Mute(&'a Member),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Denied),
    Hide,
}

pub fn decide(actor: &Actor, action: Action<'_>) -> Decision {
    match action {
        Action::ReadBoard(board) => read_board(actor, board),
        Action::ReadThread(board, thread) => read_thread(actor, board, thread),
        Action::StartThread(board) => then(read_board(actor, board), || may_write(actor)),
        Action::Reply(board, thread) => then(read_thread(actor, board, thread), || {
            then(may_write(actor), || {
                if thread.locked && !actor.is_staff() {
                    Decision::Deny(Denied::ThreadLocked)
                } else {
                    Decision::Allow
                }
            })
        }),
        Action::EditPost(board, thread, post) | Action::DeletePost(board, thread, post) => {
            then(read_thread(actor, board, thread), || {
                change_own_post(actor, post)
            })
        }
        Action::Mute(target) => match actor.member() {
            None => Decision::Deny(Denied::SignInRequired),
            Some(me) if me.id == target.id || target.site_role >= SiteRole::Moderator => {
                Decision::Deny(Denied::CannotMute)
            }
            Some(_) => Decision::Allow,
        },
        Action::CreateBoard => match actor.role() {
            Some(SiteRole::Admin) => Decision::Allow,
            Some(_) => Decision::Deny(Denied::AdminOnly),
            None => Decision::Deny(Denied::SignInRequired),
        },
    }
}

/// [`decide`] as a `Result`: hidden becomes not-found, so the two cannot be told apart.
pub fn authorize(actor: &Actor, action: Action<'_>) -> Result<()> {
    match decide(actor, action) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(Error::Denied(reason)),
        Decision::Hide => Err(Error::NotFound),
    }
}

pub fn allows(actor: &Actor, action: Action<'_>) -> bool {
    decide(actor, action) == Decision::Allow
}

/// The board visibilities an actor may read, for queries that list boards.
pub fn readable_visibilities(actor: &Actor) -> &'static [&'static str] {
    match actor {
        Actor::Visitor => &["public"],
        Actor::Member(_) if actor.is_staff() => &["public", "members", "private"],
        Actor::Member(_) => &["public", "members"],
    }
}

fn then(first: Decision, next: impl FnOnce() -> Decision) -> Decision {
    match first {
        Decision::Allow => next(),
        other => other,
    }
}

fn read_board(actor: &Actor, board: &Board) -> Decision {
    let visible = match board.visibility {
        Visibility::Public => true,
        Visibility::Members => actor.member().is_some(),
        // Private groups get their memberships in a later change; until then only staff see them.
        Visibility::Private => actor.is_staff(),
    };
    if visible {
        Decision::Allow
    } else {
        Decision::Hide
    }
}

fn read_thread(actor: &Actor, board: &Board, thread: &Thread) -> Decision {
    then(read_board(actor, board), || match thread.state {
        ThreadState::Published => Decision::Allow,
        ThreadState::Deleted if actor.is_staff() => Decision::Allow,
        ThreadState::Deleted => Decision::Hide,
    })
}

fn may_write(actor: &Actor) -> Decision {
    match actor.member() {
        None => Decision::Deny(Denied::SignInRequired),
        Some(member) if member.is_suspended(clock::now()) => Decision::Deny(Denied::Suspended),
        Some(_) => Decision::Allow,
    }
}

/// Authors edit and delete their own published posts; moderation of others' posts is a
/// separate set of actions with its own log.
fn change_own_post(actor: &Actor, post: &Post) -> Decision {
    then(may_write(actor), || {
        let is_author = actor.member().is_some_and(|m| m.id == post.author_id);
        match post.state {
            PostState::Deleted => Decision::Hide,
            PostState::Published if is_author => Decision::Allow,
            PostState::Published => Decision::Deny(Denied::NotYours),
        }
    })
}

#[cfg(test)]
mod tests;
