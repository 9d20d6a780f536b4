//! A browser as far as Hearth can tell: a cookie jar, forms read from the pages it was sent
//! (hidden CSRF tokens and submission keys included), redirects followed like a browser.

use std::sync::Arc;

use reqwest::blocking::Client;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use reqwest::Url;
use scraper::{Html, Selector};

/// Cloning a browser gives the same browser: one cookie jar, one session.
#[derive(Clone)]
pub struct Browser {
    client: Client,
    jar: Arc<Jar>,
    base: Url,
}

/// One HTTP response, with helpers to read its HTML.
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
    pub url: String,
}

/// A followed page (the end of any redirects).
pub type Page = Reply;

impl Reply {
    /// The path this page was served at, without query or fragment (`/t/12-losing-milo`).
    pub fn path(&self) -> String {
        Url::parse(&self.url)
            .map(|url| url.path().to_owned())
            .unwrap_or_default()
    }

    /// The thread id at the front of a thread page's address: `/t/12-losing-milo` → `12`.
    pub fn thread_id(&self) -> String {
        let path = self.path();
        let segment = path.trim_start_matches("/t/");
        segment.split('-').next().unwrap_or_default().to_owned()
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The trimmed text of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).expect("a valid selector");
        self.html()
            .select(&selector)
            .map(|e| {
                e.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    pub fn count(&self, css: &str) -> usize {
        let selector = Selector::parse(css).expect("a valid selector");
        self.html().select(&selector).count()
    }

    /// The value of `attribute` on every element matching `css`.
    pub fn attrs(&self, css: &str, attribute: &str) -> Vec<String> {
        let selector = Selector::parse(css).expect("a valid selector");
        self.html()
            .select(&selector)
            .filter_map(|e| e.value().attr(attribute).map(str::to_owned))
            .collect()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Reply {
        assert_eq!(
            self.status, status,
            "unexpected status for {}; body:\n{}",
            self.url, self.body
        );
        self
    }

    /// Asserts a Post/Redirect/Get redirect and returns where it points.
    #[track_caller]
    pub fn assert_redirect(&self) -> String {
        assert_eq!(
            self.status, 303,
            "expected a 303 redirect from {}; body:\n{}",
            self.url, self.body
        );
        self.location.clone().expect("a Location header")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Browser {
    pub fn new(base_url: &str) -> Browser {
        Browser::with_headers(base_url, HeaderMap::new())
    }

    /// A browser whose every request says, in `X-Forwarded-For`, that it comes from
    /// `address` (a server that trusts that header then counts it as that address).
    pub fn forwarded_for(base_url: &str, address: &str) -> Browser {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            address.parse().expect("an address as a header value"),
        );
        Browser::with_headers(base_url, headers)
    }

    /// A browser that says it is `user_agent` (to see the device hints of its sessions).
    pub fn with_user_agent(base_url: &str, user_agent: &str) -> Browser {
        let mut headers = HeaderMap::new();
        headers.insert(
            "user-agent",
            user_agent.parse().expect("a user agent as a header value"),
        );
        Browser::with_headers(base_url, headers)
    }

    fn with_headers(base_url: &str, headers: HeaderMap) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .redirect(Policy::none())
            .build()
            .expect("an HTTP client");
        Browser {
            client,
            jar,
            base: Url::parse(base_url).expect("a base URL"),
        }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a path on the test server")
    }

    fn read(&self, response: reqwest::blocking::Response) -> Reply {
        Self::try_read(response).expect("a readable body")
    }

    fn try_read(response: reqwest::blocking::Response) -> Option<Reply> {
        let status = response.status().as_u16();
        let url = response.url().to_string();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().ok()?;
        Some(Reply {
            status,
            location,
            headers,
            body,
            url,
        })
    }

    /// A form POST that reports a lost connection as `None` instead of failing the test
    /// (for tests that kill the server on purpose).
    pub fn try_post(&self, path: &str, fields: &[(&str, &str)]) -> Option<Reply> {
        let response = self.client.post(self.url(path)).form(fields).send().ok()?;
        Self::try_read(response)
    }

    /// One GET, redirects not followed.
    pub fn get(&self, path: &str) -> Reply {
        self.read(
            self.client
                .get(self.url(path))
                .send()
                .expect("the server answers"),
        )
    }

    /// One GET with extra headers (an `Authorization`, say), redirects not followed.
    pub fn get_with_headers(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.read(request.send().expect("the server answers"))
    }

    /// A GET that follows redirects, as a browser does.
    pub fn visit(&self, path: &str) -> Page {
        self.follow(self.get(path))
    }

    pub fn follow(&self, mut reply: Reply) -> Page {
        for _ in 0..5 {
            match (&reply.location, reply.status) {
                (Some(location), 301..=308) => {
                    let next = self
                        .url(&reply.url)
                        .join(location)
                        .expect("a valid Location");
                    reply = self.read(self.client.get(next).send().expect("the server answers"));
                }
                _ => return reply,
            }
        }
        panic!("too many redirects");
    }

    /// A raw form POST with exactly these fields.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.read(
            self.client
                .post(self.url(path))
                .form(fields)
                .send()
                .expect("the server answers"),
        )
    }

    /// A raw POST with extra headers (for cross-site tests).
    pub fn post_with_headers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.post(self.url(path)).form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.read(request.send().expect("the server answers"))
    }

    /// Sends the form whose `action` is `action` on `page`: its hidden fields as the page gave
    /// them, then `fields` (which replace hidden fields of the same name).
    pub fn submit(&self, page: &Page, action: &str, fields: &[(&str, &str)]) -> Reply {
        let html = page.html();
        let form_selector =
            Selector::parse(&format!("form[action=\"{action}\"]")).expect("selector");
        let form = html.select(&form_selector).next().unwrap_or_else(|| {
            panic!(
                "no form with action {action} on {}:\n{}",
                page.url, page.body
            )
        });
        let hidden = Selector::parse("input[type=hidden]").expect("selector");
        let mut values: Vec<(String, String)> = form
            .select(&hidden)
            .filter_map(|input| {
                let name = input.value().attr("name")?;
                let value = input.value().attr("value").unwrap_or_default();
                Some((name.to_owned(), value.to_owned()))
            })
            .filter(|(name, _)| !fields.iter().any(|(given, _)| given == name))
            .collect();
        values.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.read(
            self.client
                .post(self.url(action))
                .form(&values)
                .send()
                .expect("the server answers"),
        )
    }

    /// Opens `path` and sends its form at `action`.
    pub fn fill(&self, path: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let page = self.visit(path);
        assert_eq!(page.status, 200, "{path} did not open: {}", page.body);
        self.submit(&page, action, fields)
    }

    /// The value of a cookie this browser holds for the site.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.base)?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }

    /// Puts a cookie in this browser's jar (to replay a stolen or old cookie).
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &self.base);
    }

    pub fn sign_in(&self, username: &str, password: &str) -> Reply {
        self.fill(
            "/signin",
            "/signin",
            &[("username", username), ("password", password)],
        )
    }

    pub fn register(&self, username: &str, password: &str) -> Reply {
        self.fill(
            "/register",
            "/register",
            &[
                ("username", username),
                ("password", password),
                ("time_zone", "UTC"),
            ],
        )
    }

    pub fn create_board(&self, slug: &str, name: &str) -> Page {
        let reply = self.fill(
            "/admin/boards/new",
            "/admin/boards/new",
            &[
                ("slug", slug),
                ("name", name),
                ("description", "A place to talk"),
                ("visibility", "public"),
            ],
        );
        assert_eq!(reply.assert_redirect(), format!("/b/{slug}"));
        self.follow(reply)
    }

    /// Starts a thread; returns the thread page it lands on.
    pub fn start_thread(&self, board_slug: &str, title: &str, body: &str) -> Page {
        let path = format!("/b/{board_slug}/new");
        let reply = self.fill(&path, &path, &[("title", title), ("body", body)]);
        reply.assert_redirect();
        self.follow(reply)
    }

    /// Reports post `post_id` with a reason (and an optional note) through the report form.
    pub fn report(&self, post_id: &str, reason: &str, note: &str) -> Reply {
        let path = format!("/p/{post_id}/report");
        self.fill(&path, &path, &[("reason", reason), ("note", note)])
    }

    /// Sends a moderator's `decision` on post `post_id` (`hide`, `restore`, `approve`,
    /// `handled`, …) through its moderation form on `page` (the review queue or the thread, as
    /// opened: an old page sends what it saw then), with the decision's other `fields`.
    pub fn decide(
        &self,
        page: &Page,
        post_id: &str,
        decision: &str,
        fields: &[(&str, &str)],
    ) -> Reply {
        let mut values = vec![("decision", decision)];
        values.extend_from_slice(fields);
        self.submit(page, &format!("/p/{post_id}/moderate"), &values)
    }

    /// Replies from the thread page at `thread_path`; returns the raw response.
    pub fn reply_to(&self, thread_path: &str, body: &str) -> Reply {
        let page = self.visit(thread_path);
        let action = page
            .attrs("section.reply form", "action")
            .into_iter()
            .next()
            .expect("a reply form");
        self.submit(&page, &action, &[("body", body)])
    }
}
