use actix_web::{HttpResponse, Responder};
use hearth_core::forum::boards;

use super::{for_visitors, Built, Page};
use crate::errors::WebError;
use crate::state::{read, State};
use crate::viewer::Viewer;

/// `GET /`: the boards this reader may see, with their thread counts and latest activity.
pub async fn show(state: State, viewer: Viewer) -> Result<HttpResponse, WebError> {
    for_visitors(&state, &viewer, Some("/"), || async {
        let actor = viewer.actor();
        let boards = read(&state, move |conn| boards::list_for(conn, &actor)).await?;
        Ok(Built::Page(
            Page::new(&state, &viewer, "home.html").with("boards", &boards),
        ))
    })
    .await
}

/// `GET /healthz`: the process is up and the database answers.
pub async fn health(state: State) -> impl Responder {
    match read(&state, hearth_core::db::ping).await {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable"),
    }
}
