use actix_web::{web, HttpResponse};
use hearth_core::forum::boards::{self, NewBoardForm};
use hearth_core::groups::{self, Category, GroupProfile};
use hearth_core::ids::WatchedWordId;
use hearth_core::safety::watched::{self, WatchAction};
use serde::{Deserialize, Serialize};

use super::{form_again, format_choices, see_other, Choice, Page};
use crate::errors::WebError;
use crate::state::{db, read, State};
use crate::viewer::Viewer;

#[derive(Deserialize, Serialize)]
pub struct NewBoardInput {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    ground_rules: String,
    #[serde(default = "public")]
    visibility: String,
    #[serde(flatten)]
    profile: GroupProfile,
}

fn public() -> String {
    "public".to_owned()
}

impl Default for NewBoardInput {
    fn default() -> Self {
        NewBoardInput {
            slug: String::new(),
            name: String::new(),
            description: String::new(),
            ground_rules: String::new(),
            visibility: public(),
            profile: GroupProfile::default(),
        }
    }
}

/// `GET /admin`: the administrator's overview.
pub async fn overview(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let (boards, categories) = read(&state, move |conn| boards::overview(conn, &member)).await?;
    Page::new(&state, &viewer, "admin.html")
        .with("boards", &boards)
        .with("categories", &categories)
        .render(&state)
}

/// `GET /admin/boards/new`.
pub async fn new_board_form(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let categories = read(&state, move |conn| boards::for_new_board(conn, &member)).await?;
    with_profile_choices(Page::new(&state, &viewer, "new_board.html"), &categories)
        .with("form", &NewBoardInput::default())
        .render(&state)
}

/// `POST /admin/boards/new`: creates the board and opens it.
pub async fn create_board(
    state: State,
    viewer: Viewer,
    input: web::Form<NewBoardInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let form = NewBoardForm {
        slug: input.slug.trim().to_owned(),
        name: input.name.clone(),
        description: input.description.clone(),
        ground_rules: input.ground_rules.clone(),
        visibility: input.visibility.clone(),
        profile: input.profile.clone(),
    };
    match db(&state, move |conn| boards::create(conn, &member, &form)).await {
        Ok(board) => {
            viewer.flash("Group created");
            Ok(see_other(&format!("/b/{}", board.slug)))
        }
        Err(error) => {
            form_again(&state, error, async {
                Ok(
                    profile_choices(&state, Page::new(&state, &viewer, "new_board.html"))
                        .await?
                        .with("form", &input.into_inner()),
                )
            })
            .await
        }
    }
}

#[derive(Deserialize, Serialize, Default)]
pub struct WatchedWordInput {
    #[serde(default)]
    phrase: String,
    #[serde(default)]
    action: String,
}

async fn watched_words_page(
    state: &State,
    viewer: &Viewer,
    form: &WatchedWordInput,
) -> Result<Page, WebError> {
    let member = viewer.require_member()?;
    let words = read(state, move |conn| watched::list_for(conn, &member)).await?;
    let actions: Vec<Choice> = WatchAction::ALL
        .iter()
        .map(|a| Choice {
            value: a.as_str(),
            label: a.label(),
        })
        .collect();
    Ok(Page::new(state, viewer, "watched_words.html")
        .with("words", &words)
        .with("actions", &actions)
        .with("form", form))
}

/// `GET /admin/watched-words`: the list, and a form to add one.
pub async fn watched_words(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    let form = WatchedWordInput {
        action: WatchAction::Flag.as_str().to_owned(),
        ..Default::default()
    };
    watched_words_page(&state, &viewer, &form)
        .await?
        .render(&state)
}

/// `POST /admin/watched-words`.
pub async fn add_watched_word(
    state: State,
    viewer: Viewer,
    input: web::Form<WatchedWordInput>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let input = input.into_inner();
    let (phrase, action) = (input.phrase.clone(), input.action.clone());
    let added = db(&state, move |conn| {
        watched::add(conn, &member, &phrase, &action)
    })
    .await;
    match added {
        Ok(()) => {
            viewer.flash("Watched word added");
            Ok(see_other("/admin/watched-words"))
        }
        Err(error) => form_again(&state, error, watched_words_page(&state, &viewer, &input)).await,
    }
}

/// `POST /admin/watched-words/{id}/delete`.
pub async fn remove_watched_word(
    state: State,
    viewer: Viewer,
    id: web::Path<WatchedWordId>,
) -> Result<HttpResponse, WebError> {
    let member = viewer.require_member()?;
    let id = id.into_inner();
    db(&state, move |conn| watched::remove(conn, &member, id)).await?;
    viewer.flash("Watched word removed");
    Ok(see_other("/admin/watched-words"))
}

/// What a group-profile form offers to choose from: categories, formats, time zones.
pub async fn profile_choices(state: &State, page: Page) -> Result<Page, WebError> {
    let categories = read(state, groups::categories).await?;
    Ok(with_profile_choices(page, &categories))
}

/// [`profile_choices`] with the categories already loaded.
pub fn with_profile_choices(page: Page, categories: &[Category]) -> Page {
    page.with("categories", categories)
        .with("formats", &format_choices())
        .with("time_zones", &super::auth::time_zone_names())
}
