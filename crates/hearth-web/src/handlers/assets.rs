use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::errors::WebError;
use crate::state::State;
use crate::templates::DefaultTheme;

/// `GET /static/{path}`: the operator's theme file if there is one, else the embedded default.
pub async fn serve(state: State, path: web::Path<String>) -> Result<HttpResponse, WebError> {
    theme_file(&state, path.into_inner())
}

/// `GET /favicon.ico`, which browsers ask for whatever a page says: the theme's icon.
pub async fn favicon(state: State) -> Result<HttpResponse, WebError> {
    theme_file(&state, "favicon.svg".to_owned())
}

/// `GET /robots.txt`: what crawlers may fetch, from the `search_engines` setting.
pub async fn robots(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(crate::robots::robots_txt(state.config.search_engines))
}

fn theme_file(state: &State, path: String) -> Result<HttpResponse, WebError> {
    if path
        .split('/')
        .any(|part| part.is_empty() || part == ".." || part.starts_with('.'))
    {
        return Err(WebError::NotFound);
    }
    let from_theme = state
        .config
        .theme_dir
        .as_ref()
        .and_then(|dir| std::fs::read(dir.join("static").join(&path)).ok());
    let bytes = match from_theme {
        Some(bytes) => bytes,
        None => DefaultTheme::get(&format!("static/{path}"))
            .ok_or(WebError::NotFound)?
            .data
            .into_owned(),
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime.essence_str().to_owned()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(bytes))
}
