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
    let bytes = if path.ends_with(".css") {
        match String::from_utf8(bytes) {
            Ok(text) => compact_css(&text).into_bytes(),
            Err(not_text) => not_text.into_bytes(),
        }
    } else {
        bytes
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime.essence_str().to_owned()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(bytes))
}

/// A stylesheet as browsers need it: without its comments (written for the people who edit
/// the theme) and without the indentation and blank lines. Nothing else is touched, so every
/// rule reads as written; a comment's opening inside a string would be cut, and the theme has none.
fn compact_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::compact_css;

    #[test]
    fn a_compact_stylesheet_keeps_every_rule_and_drops_comments_and_indentation() {
        let css = "/* the header */\n.a {\n  color: red; /* why */\n}\n\n\n@media (min-width: 30rem) {\n  .b { margin: 0 }\n}\n";
        assert_eq!(
            compact_css(css),
            ".a {\ncolor: red;\n}\n@media (min-width: 30rem) {\n.b { margin: 0 }\n}"
        );
        let theme = include_str!("../../../../themes/default/static/hearth.css");
        let compact = compact_css(theme);
        assert!(!compact.contains("/*"));
        assert_eq!(compact.matches('{').count(), theme.matches('{').count());
        assert_eq!(compact.matches('}').count(), theme.matches('}').count());
    }
}
