//! Starting a group: a member proposes one (name, description, ground rules, how and where it
//! meets, and why it is needed); site moderators and admins review proposals (never their
//! own), may attach one of the site's staff as mentor, and approve or decline with a reason,
//! logged. On approval the group exists, the proposer is its facilitator (the mentor too), and
//! the proposer is told.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::accounts::{actors, members};
use crate::clock;
use crate::db::schema::{board_facilitators, group_proposals};
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Invalid, Result};
use crate::forum::boards::{self, NewBoardForm};
use crate::groups::memberships;
use crate::groups::{self, GroupProfile};
use crate::ids::{BoardId, MemberId, ProposalId};
use crate::model::{AuthorRef, Board, Member, Visibility};
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::moderation::notices;
use crate::policy::{self, Action, MemberActor};
use crate::text_enum::text_enum;

const MAX_WHY_CHARS: usize = 2_000;

/// What the proposal form carries.
#[derive(Debug, Clone, Default)]
pub struct ProposalForm {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub ground_rules: String,
    pub visibility: String,
    pub profile: GroupProfile,
    pub why: String,
}

impl ProposalForm {
    fn as_board(&self) -> NewBoardForm {
        NewBoardForm {
            slug: self.slug.trim().to_owned(),
            name: self.name.clone(),
            description: self.description.clone(),
            ground_rules: self.ground_rules.clone(),
            visibility: self.visibility.clone(),
            profile: self.profile.clone(),
        }
    }
}

text_enum! {
    /// Where a proposal stands: waiting for a reviewer, or answered.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ProposalState ("proposal state") {
        Open = "open",
        Approved = "approved",
        Declined = "declined",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = group_proposals)]
pub struct Proposal {
    pub id: ProposalId,
    pub proposer_id: MemberId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub ground_rules: String,
    pub category_id: Option<i64>,
    pub meeting_format: String,
    pub city: String,
    pub country: String,
    pub language: String,
    pub time_zone: String,
    pub visibility: String,
    pub why: String,
    #[diesel(deserialize_as = String)]
    pub state: ProposalState,
    pub mentor_id: Option<MemberId>,
    pub decision_reason: String,
    pub board_id: Option<BoardId>,
    pub created_at: NaiveDateTime,
}

impl Proposal {
    fn as_form(&self, category_slug: String) -> ProposalForm {
        ProposalForm {
            name: self.name.clone(),
            slug: self.slug.clone(),
            description: self.description.clone(),
            ground_rules: self.ground_rules.clone(),
            visibility: self.visibility.clone(),
            profile: GroupProfile {
                category: category_slug,
                tags: String::new(),
                language: self.language.clone(),
                meeting_format: self.meeting_format.clone(),
                city: self.city.clone(),
                country: self.country.clone(),
                time_zone: self.time_zone.clone(),
            },
            why: self.why.clone(),
        }
    }
}

/// Sends a proposal. It is checked like a new group (and the address must be free now), so
/// the reviewers see something they can approve as it is.
pub fn propose(conn: &mut DbConn, member: &MemberActor, form: &ProposalForm) -> Result<Proposal> {
    policy::authorize(&member.actor(), Action::ProposeGroup)?;
    let mut invalid = Invalid::default();
    let board_form = form.as_board();
    let checked = match boards::check_new_board(conn, &board_form) {
        Ok(checked) => Some(checked),
        Err(Error::Invalid(found)) => {
            invalid.0.extend(found.0);
            None
        }
        Err(other) => return Err(other),
    };
    let why = form.why.trim();
    if why.is_empty() || why.chars().count() > MAX_WHY_CHARS {
        invalid.add(
            "why",
            format!("say in a few sentences why this group is needed (up to {MAX_WHY_CHARS} characters)"),
        );
    }
    if boards::slug_taken(conn, &board_form.slug)? {
        invalid.add("slug", "another group already uses that address");
    }
    invalid.into_result()?;
    let (visibility, profile) = checked.ok_or_else(|| Error::Internal("unchecked".to_owned()))?;
    let profile = profile.ok_or_else(|| Error::Internal("unchecked profile".to_owned()))?;
    write_tx(conn, |conn| {
        let id: ProposalId = diesel::insert_into(group_proposals::table)
            .values((
                group_proposals::proposer_id.eq(member.id),
                group_proposals::name.eq(board_form.name.trim()),
                group_proposals::slug.eq(&board_form.slug),
                group_proposals::description.eq(board_form.description.trim()),
                group_proposals::ground_rules.eq(&board_form.ground_rules),
                group_proposals::category_id.eq(profile.category_id),
                group_proposals::meeting_format.eq(profile.meeting_format.as_str()),
                group_proposals::city.eq(&profile.city),
                group_proposals::country.eq(&profile.country),
                group_proposals::language.eq(&profile.language),
                group_proposals::time_zone.eq(&profile.time_zone),
                group_proposals::visibility.eq(visibility.as_str()),
                group_proposals::why.eq(why),
                group_proposals::created_at.eq(clock::now()),
            ))
            .returning(group_proposals::id)
            .get_result(conn)?;
        by_id(conn, id)
    })
}

fn by_id(conn: &mut DbConn, id: ProposalId) -> Result<Proposal> {
    group_proposals::table
        .find(id)
        .select(Proposal::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// A proposal as the reviewers see it.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub proposal: Proposal,
    pub proposer: Option<AuthorRef>,
    pub category: Option<String>,
}

/// Open proposals, oldest first (site moderators and admins).
pub fn open(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<ProposalView>> {
    policy::authorize(&member.actor(), Action::ReviewProposals)?;
    let rows: Vec<Proposal> = group_proposals::table
        .filter(group_proposals::state.eq(ProposalState::Open.as_str()))
        .order(group_proposals::created_at.asc())
        .select(Proposal::as_select())
        .load(conn)?;
    let ids: Vec<MemberId> = rows.iter().map(|p| p.proposer_id).collect();
    let people = members::authors_by_ids(conn, &ids)?;
    let categories = groups::categories(conn)?;
    Ok(rows
        .into_iter()
        .map(|proposal| ProposalView {
            proposer: people.get(&proposal.proposer_id).cloned(),
            category: categories
                .iter()
                .find(|c| Some(c.id) == proposal.category_id)
                .map(|c| c.name.clone()),
            proposal,
        })
        .collect())
}

/// The member's own proposals, newest first, with their outcome.
pub fn mine(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<Proposal>> {
    Ok(group_proposals::table
        .filter(group_proposals::proposer_id.eq(member.id))
        .order(group_proposals::id.desc())
        .select(Proposal::as_select())
        .load(conn)?)
}

/// A reviewer's answer to a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Create the group; an optional mentor (a username) facilitates it alongside the proposer.
    Approve {
        mentor: String,
    },
    Decline {
        reason: String,
    },
}

/// Approves (creating the group, with the proposer as facilitator and member) or declines (with
/// a reason the proposer reads) a proposal, in one transaction.
pub fn answer(
    conn: &mut DbConn,
    member: &MemberActor,
    id: ProposalId,
    answer: &Answer,
) -> Result<Option<Board>> {
    policy::authorize(&member.actor(), Action::ReviewProposals)?;
    let proposal = by_id(conn, id)?;
    policy::authorize(
        &member.actor(),
        Action::AnswerProposal(proposal.proposer_id),
    )?;
    if proposal.state != ProposalState::Open {
        return Err(Error::invalid(
            "decision",
            "someone has already decided on this proposal",
        ));
    }
    match answer {
        Answer::Decline { reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(Error::invalid(
                    "reason",
                    "say why, in a sentence; the member who proposed it will read it",
                ));
            }
            write_tx(conn, |conn| {
                let now = clock::now();
                claim(conn, id)?;
                diesel::update(group_proposals::table.find(id))
                    .set((
                        group_proposals::state.eq(ProposalState::Declined.as_str()),
                        group_proposals::decided_by.eq(member.id),
                        group_proposals::decided_at.eq(now),
                        group_proposals::decision_reason.eq(reason),
                    ))
                    .execute(conn)?;
                notices::send(
                    conn,
                    proposal.proposer_id,
                    &format!(
                        "Your proposal for the group “{}” was not accepted. The reason: {reason}",
                        proposal.name
                    ),
                    now,
                )?;
                let logged_reason = format!("“{}”: {reason}", proposal.name);
                let mut entry = Entry::new(LoggedAction::DeclineProposal, None);
                entry.member_id = Some(proposal.proposer_id);
                entry.reason = &logged_reason;
                log::write(conn, member, entry, now)?;
                Ok(None)
            })
        }
        Answer::Approve { mentor } => {
            let mentor = match mentor.trim() {
                "" => None,
                name => Some(check_mentor(conn, name, proposal.proposer_id)?),
            };
            let category_slug = groups::categories(conn)?
                .into_iter()
                .find(|c| Some(c.id) == proposal.category_id)
                .map(|c| c.slug)
                .unwrap_or_default();
            let form = proposal.as_form(category_slug).as_board();
            let checked = boards::check_new_board(conn, &form)?;
            let proposer = members::by_id(conn, proposal.proposer_id)?;
            let board = write_tx(conn, |conn| {
                let now = clock::now();
                claim(conn, id)?;
                let board = boards::insert(conn, proposal.proposer_id, &form, &checked)?;
                let mut facilitators = vec![proposal.proposer_id];
                if let Some(m) = &mentor {
                    if m.id != proposal.proposer_id {
                        facilitators.push(m.id);
                    }
                }
                for facilitator in &facilitators {
                    diesel::insert_into(board_facilitators::table)
                        .values((
                            board_facilitators::board_id.eq(board.id),
                            board_facilitators::member_id.eq(*facilitator),
                            board_facilitators::added_by.eq(member.id),
                            board_facilitators::created_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                memberships::add_member(conn, board.id, proposer.id, now)?;
                diesel::update(group_proposals::table.find(id))
                    .set((
                        group_proposals::state.eq(ProposalState::Approved.as_str()),
                        group_proposals::decided_by.eq(member.id),
                        group_proposals::decided_at.eq(now),
                        group_proposals::mentor_id.eq(mentor.as_ref().map(|m| m.id)),
                        group_proposals::board_id.eq(board.id),
                    ))
                    .execute(conn)?;
                let mentor_note = mentor
                    .as_ref()
                    .map(|m| {
                        format!(
                            " {} will facilitate it with you as your mentor.",
                            m.display_name
                        )
                    })
                    .unwrap_or_default();
                notices::send(
                    conn,
                    proposal.proposer_id,
                    &format!(
                        "Your group “{}” is open, at /b/{}. You are its facilitator.{mentor_note}",
                        board.name, board.slug
                    ),
                    now,
                )?;
                let logged_reason = mentor
                    .as_ref()
                    .map(|m| format!("mentor: {}", m.username))
                    .unwrap_or_default();
                let mut entry = Entry::new(LoggedAction::ApproveProposal, Some(board.id));
                entry.member_id = Some(proposal.proposer_id);
                entry.reason = &logged_reason;
                log::write(conn, member, entry, now)?;
                boards::by_id(conn, board.id)
            })?;
            Ok(Some(board))
        }
    }
}

/// The mentor named on an approval: a member of the site's staff (a mentor facilitates the
/// new group at once, so it must be someone the site already trusts with every group), not
/// the proposer.
fn check_mentor(conn: &mut DbConn, username: &str, proposer: MemberId) -> Result<Member> {
    let mentor = members::by_username(conn, username).map_err(|e| match e {
        Error::NotFound => Error::invalid("mentor", "there is no member with that username"),
        other => other,
    })?;
    if mentor.id == proposer {
        return Err(Error::invalid(
            "mentor",
            "the proposer facilitates the group already; name someone else, or no mentor",
        ));
    }
    let as_actor = actors::actor_for(conn, mentor.clone())?;
    if !policy::allows(&as_actor.actor(), Action::MentorGroup) {
        return Err(Error::invalid(
            "mentor",
            "a mentor must be one of the site's moderators or administrators",
        ));
    }
    Ok(mentor)
}

/// Inside an answer's transaction: the proposal is still open (and now ours to decide; the
/// row lock makes a concurrent decision wait and then find it decided).
fn claim(conn: &mut DbConn, id: ProposalId) -> Result<()> {
    let still_open = diesel::update(
        group_proposals::table
            .find(id)
            .filter(group_proposals::state.eq(ProposalState::Open.as_str())),
    )
    .set(group_proposals::state.eq(ProposalState::Open.as_str()))
    .execute(conn)?;
    if still_open == 0 {
        return Err(Error::invalid(
            "decision",
            "someone has already decided on this proposal",
        ));
    }
    Ok(())
}

/// Whether a proposed group would be private (for the reviewers' page).
pub fn is_private(proposal: &Proposal) -> bool {
    proposal.visibility == Visibility::Private.as_str()
}

/// The member's own proposals, for the form that proposes another, if they may propose one
/// (see [`propose`]).
pub fn for_proposing(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<Proposal>> {
    policy::authorize(&member.actor(), Action::ProposeGroup)?;
    mine(conn, member)
}
