//! What search engines may index: `/robots.txt` and each page's `<meta name="robots">`, from
//! the operator's `search_engines` setting.
//!
//! Members write about their health, grief and families; a search engine that kept a thread
//! would tie those words to their names for good. So by default only the pages that help
//! someone find a group are indexable — the directory, a group's front page (its name,
//! description and facts, as people outside it see it) and the help page — and threads, posts,
//! profiles, meetings and logs are not. A page that lists threads' titles and who started them
//! (a public group's page, the home page) counts as members' words: their titles are often the
//! most personal line of all ("Since my son died").
//! `robots.txt` asks crawlers not to fetch the rest at all; the meta tag covers a crawler that
//! arrives by a link anyway.

use serde::Deserialize;

/// The `search_engines` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchEngines {
    /// Nothing is indexed.
    None,
    /// The group directory, groups' front pages and the help page.
    #[default]
    Directory,
    /// Also the home page, public groups' pages and threads, members' profiles and meetings.
    Public,
}

/// What a page is, as far as search engines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Helps people find a group.
    Directory,
    /// Members' words or names.
    Content,
    /// Forms, settings, moderation: never indexed.
    Private,
}

fn kind_of(template: &str) -> Kind {
    match template {
        "groups.html" | "group_front.html" | "help.html" => Kind::Directory,
        "home.html" | "board.html" | "thread.html" | "profile.html" | "meetings.html"
        | "meeting.html" | "log.html" => Kind::Content,
        _ => Kind::Private,
    }
}

/// The `content` of the page's `<meta name="robots">`. `first_page` is false for a listing's
/// later pages, which add nothing a search engine should keep.
pub fn meta_for(setting: SearchEngines, template: &str, first_page: bool) -> &'static str {
    let indexable = match (setting, kind_of(template)) {
        (_, Kind::Private) | (SearchEngines::None, _) => false,
        (SearchEngines::Directory, Kind::Content) => false,
        (SearchEngines::Directory | SearchEngines::Public, _) => true,
    };
    if indexable && first_page {
        "index, follow"
    } else {
        "noindex, nofollow"
    }
}

/// The text of `/robots.txt`. Crawlers take the longest matching rule, so `Disallow: /`
/// covers every path the `Allow` lines do not.
pub fn robots_txt(setting: SearchEngines) -> &'static str {
    match setting {
        SearchEngines::None => "User-agent: *\nDisallow: /\n",
        SearchEngines::Directory => concat!(
            "User-agent: *\n",
            "Allow: /groups$\n",
            "Allow: /help$\n",
            "Allow: /b/\n",
            "Allow: /static/\n",
            "Disallow: /b/*/\n",
            "Disallow: /b/*?\n",
            "Disallow: /\n",
        ),
        SearchEngines::Public => concat!(
            "User-agent: *\n",
            "Disallow: /admin\n",
            "Disallow: /b/*/edit\n",
            "Disallow: /b/*/members\n",
            "Disallow: /b/*/new\n",
            "Disallow: /b/*/review\n",
            "Disallow: /calendar\n",
            "Disallow: /groups/propose\n",
            "Disallow: /m/*/\n",
            "Disallow: /notices\n",
            "Disallow: /p/*/\n",
            "Disallow: /register\n",
            "Disallow: /review\n",
            "Disallow: /search\n",
            "Disallow: /settings\n",
            "Disallow: /setup/\n",
            "Disallow: /signin\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_only_pages_that_help_find_a_group_are_indexable() {
        let default = SearchEngines::default();
        for template in ["groups.html", "group_front.html", "help.html"] {
            assert_eq!(
                meta_for(default, template, true),
                "index, follow",
                "{template}"
            );
        }
        let content = [
            "home.html",
            "board.html",
            "thread.html",
            "profile.html",
            "meeting.html",
        ];
        for template in content.into_iter().chain(["settings.html"]) {
            assert_eq!(
                meta_for(default, template, true),
                "noindex, nofollow",
                "{template}"
            );
        }
        for template in content {
            let public = meta_for(SearchEngines::Public, template, true);
            assert_eq!(public, "index, follow", "{template}");
        }
        let later = meta_for(SearchEngines::Public, "board.html", false);
        assert_eq!(later, "noindex, nofollow");
        let form = meta_for(SearchEngines::Public, "signin.html", true);
        assert_eq!(form, "noindex, nofollow");
        let none = meta_for(SearchEngines::None, "groups.html", true);
        assert_eq!(none, "noindex, nofollow");
    }
}
