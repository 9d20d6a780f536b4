//! Groups as people find and join them: the directory, joining and leaving, the facilitators'
//! member list and join requests, editing a group's public face and ground rules, proposing a
//! new group and reviewing proposals.

use actix_web::{web, HttpResponse};
use hearth_core::forum::boards;
use hearth_core::groups::memberships;
use hearth_core::groups::proposals::{self, ProposalForm};
use hearth_core::groups::{self, DirectoryQuery, GroupEdit, GroupProfile};
use hearth_core::ids::ProposalId;
use serde::{Deserialize, Serialize};

use super::admin::{profile_choices, with_profile_choices};
use super::{form_again, format_choices, on_group, see_other, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

// ---- The directory ----

#[derive(Deserialize, Serialize, Default)]
pub struct DirectoryInput {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    online: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

impl DirectoryInput {
    /// The query string of this search on another page.
    fn on_page(&self, page: i64) -> String {
        let mut pairs = serde_urlencoded::to_string([
            ("q", self.q.as_str()),
            ("category", self.category.as_str()),
            ("format", self.format.as_str()),
            ("language", self.language.as_str()),
            ("place", self.place.as_str()),
        ])
        .unwrap_or_default();
        if self.online.is_some() {
            pairs.push_str("&online=1");
        }
        format!("/groups?{pairs}&page={page}")
    }
}

/// `GET /groups`: find a group by words, category, format, language and place.
pub async fn directory(
    state: State,
    viewer: Viewer,
    input: web::Query<DirectoryInput>,
) -> Result<HttpResponse, WebError> {
    let input = input.into_inner();
    let query = DirectoryQuery {
        words: input.q.clone(),
        category: input.category.clone(),
        meeting_format: input.format.clone(),
        language: input.language.clone(),
        place: input.place.clone(),
        or_online: input.online.is_some(),
        page: input.page.unwrap_or(1),
    };
    let actor = viewer.actor();
    let (found, categories) = read(&state, move |conn| {
        Ok((
            groups::directory(conn, &actor, &query)?,
            groups::categories(conn)?,
        ))
    })
    .await?;
    let next = found.has_more.then(|| input.on_page(found.page + 1));
    let previous = (found.page > 1).then(|| input.on_page(found.page - 1));
    Page::new(&state, &viewer, "groups.html")
        .with("groups", &found.groups)
        .with("page", &found.page)
        .with("next_url", &next)
        .with("previous_url", &previous)
        .with("categories", &categories)
        .with("formats", &format_choices())
        .with("search", &input)
        .render(&state)
}

// ---- Joining ----

#[derive(Deserialize)]
pub struct JoinInput {
    #[serde(default)]
    message: String,
}

/// `POST /b/{slug}/join`: joins, or asks to join a private group.
pub async fn join(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<JoinInput>,
) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let location = format!("/b/{slug}");
    let standing = on_group(&state, &viewer, slug, move |conn, member, board| {
        memberships::join(conn, member, board, &input.message)
    })
    .await?;
    viewer.flash(match standing {
        memberships::Standing::Requested => "Your request to join is sent",
        _ => "You are a member of this group",
    });
    Ok(see_other(&location))
}

/// `POST /b/{slug}/leave`: leaves, or withdraws a request.
pub async fn leave(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let location = format!("/b/{slug}");
    on_group(&state, &viewer, slug, memberships::leave).await?;
    viewer.flash("You are no longer in this group");
    Ok(see_other(&location))
}

/// `GET /b/{slug}/members`: the member list and join requests, for the group's facilitators.
pub async fn members(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    members_page(&state, &viewer, slug.into_inner(), None)
        .await?
        .render(&state)
}

async fn members_page(
    state: &State,
    viewer: &Viewer,
    slug: String,
    removing: Option<&RemoveInput>,
) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let (board, roster) = read(state, move |conn| {
        let board = boards::group_by_slug(conn, &actor, &slug)?;
        let roster = memberships::roster(conn, &member, &board)?;
        Ok((board, roster))
    })
    .await?;
    let mut page = Page::new(state, viewer, "group_members.html")
        .with("board", &board)
        .with("roster", &roster);
    if let Some(kept) = removing {
        page = page.with("removing", kept);
    }
    Ok(page)
}

#[derive(Deserialize, Serialize)]
pub struct RemoveInput {
    username: String,
    #[serde(default)]
    reason: String,
}

/// `POST /b/{slug}/members/remove`: a facilitator ends someone's membership.
pub async fn remove_member(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<RemoveInput>,
) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let input = input.into_inner();
    let (username, reason) = (input.username.clone(), input.reason.clone());
    let removed = on_group(&state, &viewer, slug.clone(), move |conn, member, board| {
        memberships::remove(conn, member, board, &username, &reason)
    })
    .await;
    match removed {
        Ok(()) => {
            viewer.flash("Member removed");
            Ok(see_other(&format!("/b/{slug}/members")))
        }
        Err(error) => {
            form_again(
                &state,
                error,
                members_page(&state, &viewer, slug, Some(&input)),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct AnswerInput {
    username: String,
    /// "approve" or "decline".
    answer: String,
    #[serde(default)]
    message: String,
}

/// `POST /b/{slug}/members`: approves or declines a request to join.
pub async fn answer(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<AnswerInput>,
) -> Result<HttpResponse, WebError> {
    let slug = slug.into_inner();
    let location = format!("/b/{slug}/members");
    viewer.flash(if input.answer == "approve" {
        "Request approved"
    } else {
        "Request declined"
    });
    on_group(&state, &viewer, slug, move |conn, member, board| {
        let approve = input.answer == "approve";
        memberships::answer_request(
            conn,
            member,
            board,
            &input.username,
            approve,
            &input.message,
        )
    })
    .await?;
    Ok(see_other(&location))
}

// ---- Editing a group ----

#[derive(Deserialize, Serialize, Default)]
pub struct EditInput {
    #[serde(default)]
    description: String,
    #[serde(default)]
    ground_rules: String,
    #[serde(flatten)]
    profile: GroupProfile,
}

async fn edit_page(
    state: &State,
    viewer: &Viewer,
    slug: String,
    input: Option<EditInput>,
) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let (board, categories) =
        read(state, move |conn| groups::for_edit(conn, &member, &slug)).await?;
    let input = input.unwrap_or_else(|| EditInput {
        description: board.description.clone(),
        ground_rules: board.ground_rules.clone(),
        profile: GroupProfile::of(&board, &categories),
    });
    Ok(
        with_profile_choices(Page::new(state, viewer, "group_edit.html"), &categories)
            .with("board", &board)
            .with("form", &input),
    )
}

/// `GET /b/{slug}/edit`.
pub async fn edit_form(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    edit_page(&state, &viewer, slug.into_inner(), None)
        .await?
        .render(&state)
}

/// `POST /b/{slug}/edit`: saves; changed ground rules become a new version.
pub async fn edit(
    state: State,
    viewer: Viewer,
    slug: web::Path<String>,
    input: web::Form<EditInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let actor = viewer.actor();
    let slug = slug.into_inner();
    let input = input.into_inner();
    let form = GroupEdit {
        description: input.description.clone(),
        ground_rules: input.ground_rules.clone(),
        profile: input.profile.clone(),
    };
    let lookup = slug.clone();
    let saved = db(&state, move |conn| {
        let board = boards::by_slug_for(conn, &actor, &lookup)?;
        Ok(groups::edit(conn, &member, &board, &form).map_err(WebError::from))
    })
    .await?;
    match saved {
        Ok(board) => {
            viewer.flash("Group saved");
            Ok(see_other(&format!("/b/{}", board.slug)))
        }
        Err(error) => {
            form_again(&state, error, edit_page(&state, &viewer, slug, Some(input))).await
        }
    }
}

// ---- Proposals ----

#[derive(Deserialize, Serialize)]
pub struct ProposalInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    ground_rules: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    why: String,
    #[serde(flatten)]
    profile: GroupProfile,
}

impl Default for ProposalInput {
    fn default() -> Self {
        ProposalInput {
            name: String::new(),
            slug: String::new(),
            description: String::new(),
            ground_rules: String::new(),
            visibility: "public".to_owned(),
            why: String::new(),
            profile: GroupProfile::default(),
        }
    }
}

async fn propose_page(
    state: &State,
    viewer: &Viewer,
    input: &ProposalInput,
) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let mine = read(state, move |conn| proposals::for_proposing(conn, &member)).await?;
    Ok(
        profile_choices(state, Page::new(state, viewer, "propose.html"))
            .await?
            .with("form", input)
            .with("mine", &mine),
    )
}

/// `GET /groups/propose`: the form, and the member's earlier proposals with their outcome.
pub async fn propose_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    propose_page(&state, &viewer, &ProposalInput::default())
        .await?
        .render(&state)
}

/// `POST /groups/propose`.
pub async fn propose(
    state: State,
    viewer: Viewer,
    input: web::Form<ProposalInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let form = ProposalForm {
        name: input.name.clone(),
        slug: input.slug.clone(),
        description: input.description.clone(),
        ground_rules: input.ground_rules.clone(),
        visibility: input.visibility.clone(),
        profile: input.profile.clone(),
        why: input.why.clone(),
    };
    let sent = db(&state, move |conn| proposals::propose(conn, &member, &form)).await;
    match sent {
        Ok(_) => {
            viewer.flash("Your proposal is sent");
            Ok(see_other("/groups/propose"))
        }
        Err(error) => form_again(&state, error, propose_page(&state, &viewer, &input)).await,
    }
}

/// `GET /admin/proposals`: open proposals, for site moderators and admins.
pub async fn review_proposals(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let open = read(&state, move |conn| proposals::open(conn, &member)).await?;
    Page::new(&state, &viewer, "proposals.html")
        .with("proposals", &open)
        .render(&state)
}

#[derive(Deserialize)]
pub struct ProposalAnswerInput {
    /// "approve" or "decline".
    decision: String,
    #[serde(default)]
    mentor: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/proposals/{id}`: approve (the group opens) or decline with a reason.
pub async fn answer_proposal(
    state: State,
    viewer: Viewer,
    id: web::Path<ProposalId>,
    input: web::Form<ProposalAnswerInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let answer = if input.decision == "approve" {
        proposals::Answer::Approve {
            mentor: input.mentor,
        }
    } else {
        proposals::Answer::Decline {
            reason: input.reason,
        }
    };
    let id = id.into_inner();
    let made = db(&state, move |conn| {
        proposals::answer(conn, &member, id, &answer)
    })
    .await?;
    viewer.flash(if made.is_some() {
        "Proposal approved: the group is open"
    } else {
        "Proposal answered"
    });
    Ok(see_other(&match made {
        Some(board) => format!("/b/{}", board.slug),
        None => "/admin/proposals".to_owned(),
    }))
}

// ---- Categories ----

#[derive(Deserialize)]
pub struct CategoryInput {
    slug: String,
    name: String,
}

/// `POST /admin/categories`: renames a category, or adds one.
pub async fn save_category(
    state: State,
    viewer: Viewer,
    input: web::Form<CategoryInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    db(&state, move |conn| {
        groups::save_category(conn, &member, &input.slug, &input.name)
    })
    .await?;
    viewer.flash("Category saved");
    Ok(see_other("/admin"))
}
