//! Private conversations: the reader's list, one conversation with its reply form, the start
//! form (from the review queue's check-in, a post, a profile, or a group's "message the
//! facilitators"), and the moderators' decisions on messages. Who may see what is decided in
//! `hearth_core::conversations`; anything a reader may not read is a 404.

use actix_web::{web, HttpResponse};
use hearth_core::conversations::{
    self, ListCursor, MessageDecision, MessagesAt, ReplyForm, StartForm, StartQuery,
};
use hearth_core::forum::posts;
use hearth_core::ids::{ConversationId, MessageId};
use hearth_core::moderation::review::ReportReason;
use serde::{Deserialize, Serialize};

use super::moderation::queue;
use super::{form_again, see_other, Choice, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

fn conversation_url(id: ConversationId) -> String {
    format!("/c/{id}")
}

#[derive(Deserialize)]
pub struct ListQuery {
    /// Where the page starts ([`ListCursor::encode`]); none for the first page.
    after: Option<String>,
}

/// `GET /conversations?after=…`: a page of the reader's conversations, unread first.
pub async fn list(
    state: State,
    viewer: Viewer,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    // A cursor that does not read (edited by hand) is a missing page, not the first one.
    let after = match &query.after {
        None => None,
        Some(text) => Some(ListCursor::decode(text).ok_or(WebError::NotFound)?),
    };
    let list = read(&state, move |conn| {
        conversations::list_for(conn, &member, after)
    })
    .await?;
    let page = Page::new(&state, &viewer, "conversations.html");
    let page = if after.is_some() {
        page.later_page()
    } else {
        page
    };
    page.with("conversations", &list.lines)
        .with("next_cursor", &list.next.map(|c| c.encode()))
        .with("is_first_page", &after.is_none())
        .render(&state)
}

#[derive(Deserialize, Serialize, Default)]
pub struct ReplyInput {
    #[serde(default)]
    body: String,
    /// The form's key: a form sent twice posts once.
    #[serde(default)]
    submission_key: String,
}

impl ReplyInput {
    /// An empty reply form, with a key of its own.
    fn fresh() -> ReplyInput {
        ReplyInput {
            submission_key: posts::new_submission_key(),
            ..ReplyInput::default()
        }
    }
}

fn report_reasons() -> Vec<Choice> {
    ReportReason::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str(),
            label: r.label(),
        })
        .collect()
}

/// The conversation page, with the reply form holding `input`.
async fn conversation_page(
    state: &State,
    viewer: &Viewer,
    id: ConversationId,
    input: &ReplyInput,
) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let view = read(state, move |conn| {
        conversations::page_for(conn, &member, id, MessagesAt::Newest)
    })
    .await?;
    Ok(Page::new(state, viewer, "conversation.html")
        .with("view", &view)
        .with("form", input)
        .with("reasons", &report_reasons())
        .with("hide_reasons", queue::hide_reasons()))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    reported: Option<u8>,
    /// The page of messages just before this one (`?before=`) or just after it (`?after=`);
    /// neither for the newest.
    before: Option<MessageId>,
    after: Option<MessageId>,
}

impl ShowQuery {
    fn at(&self) -> MessagesAt {
        match (self.before, self.after) {
            (Some(before), _) => MessagesAt::Before(before),
            (None, Some(after)) => MessagesAt::After(after),
            (None, None) => MessagesAt::Newest,
        }
    }
}

/// `GET /c/{id}?before=…|after=…`: one conversation, a page of its messages; opening it marks
/// it read as far as it was shown.
pub async fn show(
    state: State,
    viewer: Viewer,
    id: web::Path<ConversationId>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, WebError> {
    // A visitor may not know whether a conversation exists: not found, as for any outsider.
    let member = viewer.require_member().map_err(|_| WebError::NotFound)?;
    let id = id.into_inner();
    let at = query.at();
    let view = read(&state, {
        let member = member.clone();
        move |conn| conversations::page_for(conn, &member, id, at)
    })
    .await?;
    if let Some(newest) = view.newest {
        db(&state, move |conn| {
            conversations::mark_read(conn, &member, id, newest)
        })
        .await?;
    }
    let page = Page::new(&state, &viewer, "conversation.html");
    let page = if at == MessagesAt::Newest {
        page
    } else {
        page.later_page()
    };
    page.with("view", &view)
        .with("form", &ReplyInput::fresh())
        .with("reasons", &report_reasons())
        .with("hide_reasons", queue::hide_reasons())
        .with("reported", &query.reported.is_some())
        .render(&state)
}

/// `POST /c/{id}/reply`: the message, then the conversation (or the help page after words of
/// crisis). A refused message shows the page again with the text kept.
pub async fn reply(
    state: State,
    viewer: Viewer,
    id: web::Path<ConversationId>,
    input: web::Form<ReplyInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let input = input.into_inner();
    let form = ReplyForm {
        body: input.body.clone(),
        submission_key: input.submission_key.clone(),
    };
    let (rules, posting) = (state.config.conversations, state.config.posting.clone());
    let outcome = db(&state, move |conn| {
        conversations::reply(conn, &rules, &posting, &member, id, &form)
    })
    .await;
    match outcome {
        Ok(sent) if sent.check_in => Ok(see_other(&help_after(sent.conversation_id))),
        Ok(sent) => {
            viewer.flash("Your message is sent");
            Ok(see_other(&format!(
                "{}#message-{}",
                conversation_url(sent.conversation_id),
                sent.message_id
            )))
        }
        Err(error) => {
            form_again(&state, error.keeping_text(&input.body), async {
                conversation_page(&state, &viewer, id, &input).await
            })
            .await
        }
    }
}

/// The crisis resources, with the way back to the conversation.
fn help_after(id: ConversationId) -> String {
    format!("/help?conversation={id}")
}

#[derive(Deserialize, Serialize, Default)]
pub struct StartInput {
    #[serde(default)]
    group: String,
    #[serde(default)]
    with: String,
    #[serde(default)]
    post: Option<hearth_core::ids::PostId>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// The form's key: a form sent twice starts one conversation.
    #[serde(default)]
    submission_key: String,
}

impl StartInput {
    fn query(&self) -> StartQuery {
        StartQuery {
            group: self.group.clone(),
            with: self.with.clone(),
            post: self.post,
        }
    }
}

async fn start_page(state: &State, viewer: &Viewer, input: &StartInput) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let rules = state.config.conversations;
    let query = input.query();
    let view = read(state, move |conn| {
        conversations::for_start(conn, &rules, &member, &query)
    })
    .await?;
    Ok(Page::new(state, viewer, "conversation_new.html")
        .with("start", &view)
        .with("form", input))
}

/// `GET /conversations/new?group=…&with=…&post=…`: the start form, for whoever it will be with.
pub async fn new_form(
    state: State,
    viewer: Viewer,
    query: web::Query<StartInput>,
) -> Result<HttpResponse, WebError> {
    let query = query.into_inner();
    // A check-in from a post starts with a subject, which the facilitator may change.
    let subject = if query.post.is_some() && query.subject.trim().is_empty() {
        "Checking in".to_owned()
    } else {
        query.subject
    };
    let input = StartInput {
        subject,
        submission_key: posts::new_submission_key(),
        ..query
    };
    start_page(&state, &viewer, &input).await?.render(&state)
}

/// `POST /conversations/new`.
pub async fn create(
    state: State,
    viewer: Viewer,
    input: web::Form<StartInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let form = StartForm {
        to: input.query(),
        subject: input.subject.clone(),
        body: input.body.clone(),
        submission_key: input.submission_key.clone(),
    };
    let (rules, posting) = (state.config.conversations, state.config.posting.clone());
    let outcome = db(&state, move |conn| {
        conversations::start(conn, &rules, &posting, &member, &form)
    })
    .await;
    match outcome {
        Ok(sent) if sent.check_in => Ok(see_other(&help_after(sent.conversation_id))),
        Ok(sent) => {
            viewer.flash("Your message is sent");
            Ok(see_other(&conversation_url(sent.conversation_id)))
        }
        Err(error) => {
            form_again(&state, error.keeping_text(&input.body), async {
                start_page(&state, &viewer, &input).await
            })
            .await
        }
    }
}

#[derive(Deserialize, Serialize)]
pub struct ModerateInput {
    #[serde(default)]
    message: Option<MessageId>,
    decision: String,
    /// A hide's reason, chosen from the list (`m::hide_reason`), and its optional detail.
    #[serde(default)]
    reason: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    note: String,
}

/// `POST /c/{id}/moderate`: hide, restore or approve a message, or close the check-in.
pub async fn moderate(
    state: State,
    viewer: Viewer,
    id: web::Path<ConversationId>,
    input: web::Form<ModerateInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let input = input.into_inner();
    let done = match input.decision.as_str() {
        "handled" => "Marked as handled",
        "hide" => "Message hidden",
        "restore" => "Message restored",
        _ => "Message approved",
    };
    // As for a post: a reason chosen from the list, never assumed.
    let reason = queue::hide_reason(&input.reason, &input.detail);
    let (message, note, kind) = (input.message, input.note.clone(), input.decision.clone());
    let decided = db(&state, move |conn| {
        let decision = match kind.as_str() {
            "handled" => {
                conversations::close_check_in(conn, &member, id, &note)?;
                return Ok(());
            }
            "hide" => MessageDecision::Hide { reason },
            "restore" => MessageDecision::Restore,
            "approve" => MessageDecision::Approve,
            _ => return Err(hearth_core::Error::invalid("decision", "choose a decision")),
        };
        let message =
            message.ok_or_else(|| hearth_core::Error::invalid("decision", "choose a message"))?;
        conversations::moderate_message(conn, &member, id, message, &decision)
    })
    .await;
    match decided {
        Ok(()) => {
            viewer.flash(done);
            Ok(see_other(&conversation_url(id)))
        }
        // No reason chosen: asked again on a page of its own, the detail kept.
        Err(error) if input.decision == "hide" => {
            let (action, back) = (format!("/c/{id}/moderate"), conversation_url(id));
            let page = queue::hide_again_page(&state, &viewer, "message", &action, &input, &back);
            form_again(&state, error, async { Ok(page) }).await
        }
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
pub struct ReportInput {
    message: MessageId,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /c/{id}/report`: a member reports a message to the group's moderators.
pub async fn report(
    state: State,
    viewer: Viewer,
    id: web::Path<ConversationId>,
    input: web::Form<ReportInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    let input = input.into_inner();
    let limits = state.config.report_limits;
    db(&state, move |conn| {
        conversations::report_message(
            conn,
            &limits,
            &member,
            id,
            input.message,
            &input.reason,
            &input.note,
        )
    })
    .await?;
    viewer.flash("Your report is sent");
    Ok(see_other(&format!("{}?reported=1", conversation_url(id))))
}
