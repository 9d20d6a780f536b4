//! The common worlds of the suite: a group made by the site's admin, its facilitators and its
//! members, each with a signed-in browser.
//!
//! ```no_run
//! # let app = hearth_tests::TestApp::new();
//! let world = app.group("pet-loss").private().facilitated_by("fran").with_members(["joan"]).build();
//! world.browser("fran").visit(&format!("/b/{}/members", world.slug));
//! ```
//!
//! Everything is done as the hand-written set-ups did it: the group through the admin's form
//! (or, with [`GroupBuilder::made_in_database`], straight through the core), facilitators
//! through the group's settings page, members joining in the database.

use hearth_core::accounts::members;
use hearth_core::forum::boards::{self, NewBoardForm};
use hearth_core::groups::GroupProfile;
use hearth_core::model::SiteRole;
use hearth_core::{accounts::actors, groups::memberships};

use crate::{Browser, Page, TestApp};

/// A group about to be made; [`GroupBuilder::build`] makes it.
pub struct GroupBuilder<'a> {
    app: &'a TestApp,
    slug: String,
    name: String,
    description: Option<String>,
    visibility: String,
    fields: Vec<(String, String)>,
    in_database: bool,
    facilitators: Vec<String>,
    members: Vec<String>,
    joiners: Vec<String>,
}

/// A made group: the admin who made it, and the browsers of its facilitators and members.
pub struct World {
    /// The site admin's browser (the same session as [`TestApp::admin`]).
    pub admin: Browser,
    pub slug: String,
    people: Vec<(String, Browser)>,
}

impl<'a> GroupBuilder<'a> {
    pub(crate) fn new(app: &'a TestApp, slug: &str) -> GroupBuilder<'a> {
        GroupBuilder {
            app,
            slug: slug.to_owned(),
            name: format!("Board {slug}"),
            description: None,
            visibility: "public".to_owned(),
            fields: Vec::new(),
            in_database: false,
            facilitators: Vec::new(),
            members: Vec::new(),
            joiners: Vec::new(),
        }
    }

    /// The group's name (`Board <slug>` unless given).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// The group's description (none unless given).
    pub fn described(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// `public` (the default), `members` or `private`.
    pub fn visibility(mut self, visibility: &str) -> Self {
        self.visibility = visibility.to_owned();
        self
    }

    pub fn private(self) -> Self {
        self.visibility("private")
    }

    /// More fields of the new-group form: `ground_rules`, `category`, `tags`, `language`,
    /// `meeting_format`, `city`, `country`, `time_zone`.
    pub fn fields(mut self, fields: &[(&str, &str)]) -> Self {
        self.fields.extend(
            fields
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        self
    }

    /// Makes the group straight through the core instead of the admin's form (for tests about
    /// something else than the form, which make many).
    pub fn made_in_database(mut self) -> Self {
        self.in_database = true;
        self
    }

    /// A new member, made facilitator of the group by the admin through its settings page.
    pub fn facilitated_by(mut self, username: &str) -> Self {
        self.facilitators.push(username.to_owned());
        self
    }

    /// New members who join the group in the database (a private group's request is approved
    /// there by the admin).
    pub fn with_members<const N: usize>(mut self, usernames: [&str; N]) -> Self {
        self.members
            .extend(usernames.iter().map(|name| (*name).to_owned()));
        self
    }

    /// Members who exist already (of another world on the same app) and join this group in
    /// the database too; their browsers are the ones they have.
    pub fn joined_by<const N: usize>(mut self, usernames: [&str; N]) -> Self {
        self.joiners
            .extend(usernames.iter().map(|name| (*name).to_owned()));
        self
    }

    pub fn build(self) -> World {
        let admin = self.app.admin();
        if self.in_database {
            self.insert();
        } else {
            self.submit_form(&admin);
        }
        let mut people = Vec::new();
        for username in &self.facilitators {
            self.app.member(username, SiteRole::Member);
            admin
                .fill(
                    &format!("/b/{}/settings", self.slug),
                    &format!("/b/{}/facilitators", self.slug),
                    &[("username", username), ("change", "add")],
                )
                .assert_redirect();
            let browser = self.app.browser();
            let reply = browser.sign_in(username, crate::PASSWORD);
            reply.assert_redirect();
            // Past the welcome page, as `TestApp::signed_in` is.
            browser.follow(reply).assert_status(200);
            people.push((username.clone(), browser));
        }
        for username in &self.members {
            let browser = self.app.signed_in(username, SiteRole::Member);
            self.join(username);
            people.push((username.clone(), browser));
        }
        for username in &self.joiners {
            self.join(username);
        }
        World {
            admin,
            slug: self.slug,
            people,
        }
    }

    fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(given, _)| given == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    fn submit_form(&self, admin: &Browser) {
        let mut fields = vec![("slug", self.slug.as_str()), ("name", self.name.as_str())];
        if let Some(description) = &self.description {
            fields.push(("description", description));
        }
        fields.push(("visibility", &self.visibility));
        fields.extend(
            self.fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        let reply = admin.fill("/admin/boards/new", "/admin/boards/new", &fields);
        assert_eq!(reply.assert_redirect(), format!("/b/{}", self.slug));
    }

    fn insert(&self) {
        let conn = &mut *self.app.conn();
        let admin = members::by_username(conn, "admin").unwrap();
        let admin = actors::actor_for(conn, admin).unwrap();
        let form = NewBoardForm {
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_default(),
            ground_rules: self.field("ground_rules"),
            visibility: self.visibility.clone(),
            profile: GroupProfile {
                category: self.field("category"),
                tags: self.field("tags"),
                language: self.field("language"),
                meeting_format: self.field("meeting_format"),
                city: self.field("city"),
                country: self.field("country"),
                time_zone: self.field("time_zone"),
            },
        };
        boards::create(conn, &admin, &form).unwrap();
    }

    fn join(&self, username: &str) {
        let conn = &mut *self.app.conn();
        let member = members::by_username(conn, username).unwrap();
        let actor = actors::actor_for(conn, member).unwrap();
        // As the join form does: a private group shows outsiders its public face only.
        let board = boards::group_by_slug(conn, &actor.actor(), &self.slug).unwrap();
        let standing = memberships::join(conn, &actor, &board, "").unwrap();
        if standing == memberships::Standing::Requested {
            let admin = members::by_username(conn, "admin").unwrap();
            let admin = actors::actor_for(conn, admin).unwrap();
            memberships::answer_request(conn, &admin, &board, username, true, "").unwrap();
        }
    }
}

impl World {
    /// The browser of one of the group's facilitators or members (a handle on the same
    /// session each time it is asked for).
    #[track_caller]
    pub fn browser(&self, username: &str) -> Browser {
        if username == "admin" {
            return self.admin.clone();
        }
        self.people
            .iter()
            .find(|(name, _)| name == username)
            .map(|(_, browser)| browser.clone())
            .unwrap_or_else(|| panic!("{username} is not in this world"))
    }

    /// Starts a thread in the group as `username`; returns its page.
    #[track_caller]
    pub fn start_thread(&self, username: &str, title: &str, body: &str) -> Page {
        self.browser(username).start_thread(&self.slug, title, body)
    }
}
