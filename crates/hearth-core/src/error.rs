//! The one error type of the core. `hearth-web` maps each variant to a status and a page, once.

use std::fmt;

/// A problem with what a person typed, tied to the form field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Every problem found in one form, so a person can fix them all in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was wrong, so validators can end with `invalid.into_result()?`.
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self))
        }
    }

    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join("; "))
    }
}

/// Why the policy refused an action on something the actor can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// A visitor tried something that needs an account.
    SignInRequired,
    /// The thread is locked; nobody but moderators may post in it.
    ThreadLocked,
    /// The member is suspended and may read but not post.
    Suspended,
    /// The actor may see the thing but this action on it is not theirs to take.
    NotYours,
    /// Only administrators may do this.
    AdminOnly,
    /// Moderators and one's own account cannot be muted.
    CannotMute,
    /// Members report others' posts, not their own.
    OwnPost,
    /// Only the board's facilitators and the site's moderators may do this.
    ModeratorsOnly,
    /// Moderators act on members below them, never on themselves or their peers.
    CannotActOnMember,
    /// The member is banned from this board.
    BannedFromBoard,
    /// A ban from a private group ended the membership; it cannot be asked for while it lasts.
    BannedFromPrivateGroup,
    /// The moderators hid this post.
    HiddenByModerators,
    /// Only the group's members may do or see this (its meeting details, answering for a meeting).
    GroupMembersOnly,
    /// A reviewer does not answer their own proposal for a group: another one does.
    OwnProposal,
    /// A private conversation is with someone else, never with oneself.
    CannotMessageSelf,
    /// A conversation between two members is answered by those two only.
    NotInConversation,
    /// The site does not allow private messages between members.
    MemberMessagesOff,
}

impl Denied {
    pub fn explanation(self) -> &'static str {
        match self {
            Denied::SignInRequired => "you need to sign in to do that",
            Denied::ThreadLocked => "this thread is locked, so no new replies can be added",
            Denied::Suspended => {
                "your account is suspended: for now you can read, but not post or moderate"
            }
            Denied::NotYours => "only the person who wrote this (or a moderator) can do that",
            Denied::AdminOnly => "only site administrators can do that",
            Denied::CannotMute => {
                "you can mute other members, but not yourself or the site's moderators"
            }
            Denied::OwnPost => "you cannot report your own post; you can edit or delete it",
            Denied::ModeratorsOnly => {
                "only this group's facilitators and the site's moderators can do that"
            }
            Denied::CannotActOnMember => {
                "moderators can act on members, but not on themselves or on other moderators"
            }
            Denied::BannedFromBoard => {
                "the facilitators have stopped you posting in this group; you can still read it"
            }
            Denied::BannedFromPrivateGroup => {
                "the facilitators of this group have ended your membership for now, so you cannot ask to join again yet"
            }
            Denied::HiddenByModerators => "the moderators hid this post",
            Denied::GroupMembersOnly => {
                "only this group's members can do that; join the group first"
            }
            Denied::OwnProposal => {
                "another moderator or administrator decides on a group you proposed"
            }
            Denied::CannotMessageSelf => "a private conversation is with someone else",
            Denied::NotInConversation => {
                "only the two members of this conversation can answer it"
            }
            Denied::MemberMessagesOff => {
                "this site does not allow private messages between members; you can message a group's facilitators"
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or the actor may not see it (which must look the same).
    #[error("not found")]
    NotFound,
    #[error("{}", .0.explanation())]
    Denied(Denied),
    #[error("{0}")]
    Invalid(Invalid),
    /// Sign-in failed; deliberately the same for an unknown name and a wrong password.
    #[error("that username and password do not match an account")]
    BadCredentials,
    /// Too much, too fast: a posting limit, slow mode or sign-in throttling. `reason` is a
    /// whole sentence saying which limit was reached and when the person can try again.
    #[error("{reason}")]
    RateLimited {
        retry_after_seconds: i64,
        reason: String,
    },
    /// The database or another resource is unreachable; the operator must act.
    #[error("{0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(format!("no database connection available: {error}"))
    }
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Error {
        let mut invalid = Invalid::default();
        invalid.add(field, message);
        Error::Invalid(invalid)
    }

    /// True when a database uniqueness rule refused the write (a race lost to another request).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Error::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
