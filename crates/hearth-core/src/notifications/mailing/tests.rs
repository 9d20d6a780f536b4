//! The notification mail scheduler on both backends, with a fixed clock: batches per thread,
//! digests at a member's hour across daylight-saving changes, quiet hours, the daily limit,
//! read and hidden news never mailed, private groups' words kept out, two schedulers racing.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use diesel::prelude::*;

use super::*;
use crate::accounts::tokens::random_token;
use crate::clock;
use crate::conversations::{self, ConversationRules, StartForm, StartQuery};
use crate::db::schema::{email_addresses, members, outbox};
use crate::db::Pool;
use crate::forum::boards::{self, NewBoardForm};
use crate::forum::posts::{self, ReplyForm};
use crate::forum::threads::{self, NewThreadForm};
use crate::groups::memberships;
use crate::model::{Board, Post, SiteRole, Thread};
use crate::moderation::actions::{self, ThreadChange};
use crate::moderation::review::{self, Decision, Seen};
use crate::notifications::email::{save_mail_preferences, QuietHours};
use crate::policy::MemberActor;
use crate::safety::gate::PostingRules;
use crate::safety::limits::PostingLimits;
use crate::test_support::{any_pool, member};

struct Site {
    _db: crate::db::testing::TestDatabase,
    pool: Pool,
    admin: MemberActor,
    schedule: MailSchedule,
}

fn site() -> Site {
    let (db, pool) = any_pool();
    let admin = member(&mut pool.get().unwrap(), "ada", SiteRole::Admin);
    Site {
        _db: db,
        pool,
        admin,
        schedule: MailSchedule {
            enabled: true,
            site_name: "Hearth".to_owned(),
            public_url: "https://hearth.example/".to_owned(),
            limits: MailLimits::default(),
        },
    }
}

fn rules() -> PostingRules {
    PostingRules {
        same_reply_minutes: 0,
        limits: PostingLimits::NONE,
        ..PostingRules::default()
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

/// A mail as the outbox holds it.
#[derive(Debug)]
struct Queued {
    kind: String,
    subject: String,
    text: String,
    html: String,
    send_after: NaiveDateTime,
    unsubscribe_url: Option<String>,
}

impl Queued {
    fn says(&self, words: &str) -> bool {
        self.subject.contains(words) || self.text.contains(words) || self.html.contains(words)
    }
}

impl Site {
    fn conn(&self) -> crate::db::PooledConn {
        self.pool.get().unwrap()
    }

    fn board(&self, slug: &str, visibility: &str) -> Board {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: format!("The {slug} circle"),
            visibility: visibility.to_owned(),
            ..Default::default()
        };
        boards::create(&mut self.conn(), &self.admin, &form).unwrap()
    }

    /// A member with a verified address who chose `prefs`, in `zone`.
    fn mailed_member(&self, name: &str, zone: &str, prefs: MailPreferences) -> MemberActor {
        let conn = &mut self.conn();
        let who = member(conn, name, SiteRole::Member);
        diesel::update(members::table.find(who.id))
            .set(members::time_zone.eq(zone))
            .execute(conn)
            .unwrap();
        let address = format!("{name}@example.org");
        diesel::insert_into(email_addresses::table)
            .values((
                email_addresses::member_id.eq(who.id),
                email_addresses::address.eq(&address),
                email_addresses::address_lower.eq(&address),
                email_addresses::verified_at.eq(Some(clock::now())),
                email_addresses::created_at.eq(clock::now()),
            ))
            .execute(conn)
            .unwrap();
        save_mail_preferences(conn, who.id, &prefs).unwrap();
        self.again(&who)
    }

    fn plain(&self, name: &str) -> MemberActor {
        member(&mut self.conn(), name, SiteRole::Member)
    }

    fn again(&self, m: &MemberActor) -> MemberActor {
        let account = crate::accounts::members::by_username(&mut self.conn(), &m.username).unwrap();
        actors::actor_for(&mut self.conn(), account).unwrap()
    }

    fn join(&self, who: &MemberActor, board: &Board) -> MemberActor {
        let conn = &mut self.conn();
        memberships::join(conn, who, board, "").unwrap();
        memberships::answer_request(conn, &self.admin, board, &who.username, true, "").unwrap();
        let who = self.again(who);
        // "Your request was approved" is not what these tests are about.
        crate::notifications::mark_all_read(conn, who.id, clock::now()).unwrap();
        who
    }

    fn start(&self, who: &MemberActor, board: &Board, title: &str) -> Thread {
        let form = NewThreadForm {
            title: title.to_owned(),
            body: "Is anyone else awake?".to_owned(),
            submission_key: random_token(),
            ..Default::default()
        };
        threads::start(&mut self.conn(), &rules(), who, board, &form)
            .unwrap()
            .thread
    }

    fn reply(&self, who: &MemberActor, thread: &Thread, body: &str) -> Post {
        let form = ReplyForm {
            body: body.to_owned(),
            submission_key: random_token(),
            accept_rules_version: None,
        };
        posts::reply(&mut self.conn(), &rules(), who, thread.id, &form)
            .unwrap()
            .post
    }

    /// What `who` was told just now happened at `when` (the clock of these tests).
    fn happened_at(&self, who: &MemberActor, when: NaiveDateTime) {
        diesel::update(notifications::table)
            .filter(notifications::member_id.eq(who.id))
            .filter(notifications::mail_pending_since.gt(when))
            .set(notifications::mail_pending_since.eq(when))
            .execute(&mut self.conn())
            .unwrap();
    }

    fn run(&self, now: NaiveDateTime) -> usize {
        send_due(&mut self.conn(), &self.schedule, None, now)
            .unwrap()
            .mails
    }

    fn mail_of(&self, who: &MemberActor) -> Vec<Queued> {
        outbox::table
            .filter(outbox::member_id.eq(who.id))
            .order(outbox::id)
            .select((
                outbox::kind,
                outbox::subject,
                outbox::text_body,
                outbox::html_body,
                outbox::send_after,
                outbox::unsubscribe_url,
            ))
            .load::<(
                String,
                String,
                String,
                String,
                NaiveDateTime,
                Option<String>,
            )>(&mut self.conn())
            .unwrap()
            .into_iter()
            .map(
                |(kind, subject, text, html, send_after, unsubscribe_url)| Queued {
                    kind,
                    subject,
                    text,
                    html,
                    send_after,
                    unsubscribe_url,
                },
            )
            .collect()
    }
}

fn as_it_happens() -> MailPreferences {
    MailPreferences {
        mode: EmailMode::Now,
        ..MailPreferences::default()
    }
}

fn daily_at(hour: u32) -> MailPreferences {
    MailPreferences {
        mode: EmailMode::Daily,
        digest_hour: hour,
        ..MailPreferences::default()
    }
}

/// A time well before the real clock (the replies' own), on the hour.
fn days_ago(days: i64) -> NaiveDateTime {
    let now = clock::now() - TimeDelta::days(days);
    now.date().and_hms_opt(12, 0, 0).unwrap()
}

#[test]
fn news_of_a_thread_waits_a_quarter_hour_and_goes_as_one_mail_per_thread() {
    let site = site();
    let board = site.board("night", "public");
    let ana = site.mailed_member("ana", "UTC", as_it_happens());
    let (bo, cy) = (site.plain("bob"), site.plain("cyd"));
    let first = site.start(&ana, &board, "Awake again at 3am");
    let second = site.start(&ana, &board, "Walking helped today");
    let t0 = days_ago(2);
    site.reply(&bo, &first, "I'm up too, the kettle is on.");
    site.reply(&cy, &second, "So glad the walk helped.");
    site.happened_at(&ana, t0);
    site.reply(&cy, &first, "Same here, you are not alone.");
    site.happened_at(&ana, t0 + TimeDelta::minutes(5));

    assert_eq!(site.run(t0 + TimeDelta::minutes(14)), 0, "still collecting");
    assert_eq!(
        site.run(t0 + TimeDelta::minutes(15)),
        2,
        "one mail per thread"
    );
    let mails = site.mail_of(&ana);
    assert_eq!(mails.len(), 2);
    let about_first = mails
        .iter()
        .find(|m| m.says("Awake again at 3am"))
        .expect("a mail about the first thread");
    assert!(
        about_first.text.contains("2 new replies"),
        "{about_first:?}"
    );
    assert!(
        about_first.text.contains("the kettle is on"),
        "{}",
        about_first.text
    );
    assert_eq!(about_first.kind, "notification");
    assert_eq!(about_first.send_after, t0 + TimeDelta::minutes(15));
    let unsubscribe = about_first.unsubscribe_url.as_deref().unwrap();
    assert!(unsubscribe.starts_with("https://hearth.example/unsubscribe/"));
    assert!(about_first
        .text
        .contains("https://hearth.example/settings#mail"));
    assert!(about_first.html.contains("https://hearth.example/p/"));

    // Nothing is mailed twice, and news after the mail waits its own quarter hour.
    assert_eq!(site.run(t0 + TimeDelta::minutes(16)), 0);
    site.reply(&bo, &first, "How are you now?");
    site.happened_at(&ana, t0 + TimeDelta::minutes(16));
    assert_eq!(site.run(t0 + TimeDelta::minutes(30)), 0);
    assert_eq!(site.run(t0 + TimeDelta::minutes(31)), 1);
    assert_eq!(site.run(t0 + TimeDelta::minutes(50)), 0);
    assert_eq!(site.mail_of(&ana).len(), 3);
}

#[test]
fn a_notification_read_before_its_mail_goes_is_not_mailed() {
    let site = site();
    let board = site.board("grief", "public");
    let ana = site.mailed_member("ana", "UTC", as_it_happens());
    let bo = site.plain("bob");
    let thread = site.start(&ana, &board, "First winter without her");
    site.reply(&bo, &thread, "Thinking of you.");
    let t0 = days_ago(2);
    site.happened_at(&ana, t0);
    crate::notifications::read_thread_in(&mut site.conn(), ana.id, thread.id, 2, clock::now())
        .unwrap();
    assert_eq!(site.run(t0 + TimeDelta::hours(1)), 0);
    assert!(site.mail_of(&ana).is_empty());
}

#[test]
fn nothing_is_queued_when_the_site_sends_no_mail_or_the_member_has_no_verified_address() {
    let mut site = site();
    let board = site.board("grief", "public");
    let ana = site.mailed_member("ana", "UTC", as_it_happens());
    let bo = site.plain("bob");
    let thread = site.start(&ana, &board, "A hard day");
    site.reply(&bo, &thread, "Here with you.");
    let t0 = days_ago(2);
    site.happened_at(&ana, t0);
    site.schedule.enabled = false;
    assert_eq!(site.run(t0 + TimeDelta::hours(1)), 0);
    site.schedule.enabled = true;
    diesel::update(email_addresses::table.find(ana.id))
        .set(email_addresses::verified_at.eq(None::<NaiveDateTime>))
        .execute(&mut site.conn())
        .unwrap();
    assert_eq!(site.run(t0 + TimeDelta::hours(1)), 0);
    diesel::update(email_addresses::table.find(ana.id))
        .set(email_addresses::verified_at.eq(Some(t0)))
        .execute(&mut site.conn())
        .unwrap();
    assert_eq!(site.run(t0 + TimeDelta::hours(1)), 1);
}

/// The first Sunday on or after `from` (a day the clocks change on, in these tests).
fn sunday_on_or_after(from: NaiveDate) -> NaiveDate {
    let mut date = from;
    while date.weekday() != Weekday::Sun {
        date += TimeDelta::days(1);
    }
    date
}

use chrono::Datelike;

/// One digest at 07:00 local on the day before and the day after the clocks change:
/// `utc_before` and `utc_after` are 07:00 in UTC on those days.
fn digest_across_change(zone: &str, change: NaiveDate, utc_before: u32, utc_after: u32) {
    let site = site();
    let board = site.board("mornings", "public");
    let ana = site.mailed_member("ana", zone, daily_at(7));
    let bo = site.plain("bob");
    let thread = site.start(&ana, &board, "Mornings are the worst");
    site.reply(&bo, &thread, "For me too.");
    let day_before = change - TimeDelta::days(1);
    let day_after = change + TimeDelta::days(1);
    let hour = |date: NaiveDate, h: u32| date.and_hms_opt(h, 0, 0).unwrap();

    assert_eq!(
        site.run(hour(day_before, utc_before) - TimeDelta::minutes(1)),
        0
    );
    assert_eq!(site.run(hour(day_before, utc_before)), 1, "07:00 in {zone}");
    assert_eq!(
        site.run(hour(day_before, utc_before) + TimeDelta::hours(2)),
        0
    );
    let mails = site.mail_of(&ana);
    assert_eq!(mails[0].kind, "digest");
    assert!(mails[0].subject.contains("daily digest"), "{:?}", mails[0]);

    site.reply(&bo, &thread, "Tea helps a little.");
    assert_eq!(
        site.run(hour(day_after, utc_after) - TimeDelta::minutes(1)),
        0
    );
    assert_eq!(
        site.run(hour(day_after, utc_after)),
        1,
        "07:00 in {zone}, summer time"
    );
    assert_eq!(site.mail_of(&ana).len(), 2);
}

#[test]
fn the_daily_digest_comes_at_seven_in_london_across_the_spring_change() {
    // The last Sunday of March 2027: Britain goes from GMT (UTC) to BST (UTC+1).
    let change = sunday_on_or_after(NaiveDate::from_ymd_opt(2027, 3, 25).unwrap());
    assert_eq!(change, NaiveDate::from_ymd_opt(2027, 3, 28).unwrap());
    digest_across_change("Europe/London", change, 7, 6);
}

#[test]
fn the_daily_digest_comes_at_seven_in_toronto_across_the_spring_change() {
    // The second Sunday of March 2027: Toronto goes from EST (UTC−5) to EDT (UTC−4).
    let change = sunday_on_or_after(NaiveDate::from_ymd_opt(2027, 3, 8).unwrap());
    assert_eq!(change, NaiveDate::from_ymd_opt(2027, 3, 14).unwrap());
    digest_across_change("America/Toronto", change, 12, 11);
}

#[test]
fn the_daily_digest_comes_at_seven_in_london_when_the_clocks_go_back() {
    // The last Sunday of October 2027: Britain goes from BST (UTC+1) back to GMT.
    let change = sunday_on_or_after(NaiveDate::from_ymd_opt(2027, 10, 25).unwrap());
    assert_eq!(change, NaiveDate::from_ymd_opt(2027, 10, 31).unwrap());
    digest_across_change("Europe/London", change, 6, 7);
}

#[test]
fn the_weekly_digest_comes_on_the_chosen_day_once() {
    let site = site();
    let board = site.board("weekly", "public");
    let prefs = MailPreferences {
        mode: EmailMode::Weekly,
        digest_hour: 18,
        digest_weekday: Weekday::Wed,
        ..MailPreferences::default()
    };
    let ana = site.mailed_member("ana", "Europe/Berlin", prefs);
    let bo = site.plain("bob");
    let thread = site.start(&ana, &board, "One week at a time");
    site.reply(&bo, &thread, "Proud of you.");
    // 2027-02-03 is a Wednesday; Berlin is UTC+1 in winter, so 18:00 there is 17:00 UTC.
    assert_eq!(
        NaiveDate::from_ymd_opt(2027, 2, 3).unwrap().weekday(),
        Weekday::Wed
    );
    assert_eq!(site.run(at("2027-02-02 17:00")), 0, "a Tuesday");
    assert_eq!(site.run(at("2027-02-03 16:59")), 0);
    assert_eq!(site.run(at("2027-02-03 17:00")), 1);
    site.reply(&bo, &thread, "Still proud of you.");
    assert_eq!(
        site.run(at("2027-02-03 18:00")),
        0,
        "this week's digest went"
    );
    assert_eq!(site.run(at("2027-02-07 17:00")), 0, "a Sunday");
    assert_eq!(site.run(at("2027-02-10 17:00")), 1, "the next Wednesday");
    assert!(site.mail_of(&ana)[1].subject.contains("weekly digest"));
}

#[test]
fn quiet_hours_hold_mail_until_they_end_in_the_members_zone() {
    let site = site();
    let board = site.board("nights", "public");
    let prefs = MailPreferences {
        quiet: Some(QuietHours {
            from: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        }),
        ..as_it_happens()
    };
    // Toronto: UTC−5 in winter, so 22:00 there is 03:00 UTC and 08:00 is 13:00 UTC.
    let ana = site.mailed_member("ana", "America/Toronto", prefs);
    let bo = site.plain("bob");
    let thread = site.start(&ana, &board, "Can't sleep");
    site.reply(&bo, &thread, "Breathe slowly, I'm here.");
    let evening = at("2026-11-20 02:50"); // 21:50 in Toronto
    site.happened_at(&ana, evening);
    assert_eq!(site.run(at("2026-11-20 03:05")), 0, "22:05 there: quiet");
    assert_eq!(site.run(at("2026-11-20 12:59")), 0, "07:59 there");
    assert_eq!(site.run(at("2026-11-20 13:00")), 1, "08:00 there");
    let mail = &site.mail_of(&ana)[0];
    assert_eq!(mail.send_after, at("2026-11-20 13:00"));
}

#[test]
fn past_the_daily_limit_the_rest_waits_for_the_digest_hour() {
    let mut site = site();
    site.schedule.limits.per_day = 2;
    let board = site.board("busy", "public");
    let ana = site.mailed_member("ana", "UTC", daily_at(7).with_mode(EmailMode::Now));
    let bo = site.plain("bob");
    let threads: Vec<Thread> = (0..3)
        .map(|i| site.start(&ana, &board, &format!("Thread {i}")))
        .collect();
    for thread in &threads {
        site.reply(&bo, thread, "A reply.");
    }
    let t0 = days_ago(3);
    site.happened_at(&ana, t0);
    assert_eq!(site.run(t0 + TimeDelta::minutes(15)), 2, "the limit");
    assert_eq!(site.run(t0 + TimeDelta::hours(2)), 0, "held");
    // t0 is noon: the next 07:00 is the digest hour.
    let seven = (t0 + TimeDelta::days(1))
        .date()
        .and_hms_opt(7, 0, 0)
        .unwrap();
    assert_eq!(site.run(seven - TimeDelta::minutes(1)), 0);
    assert_eq!(site.run(seven), 1);
    let mails = site.mail_of(&ana);
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[2].kind, "digest");
}

impl MailPreferences {
    fn with_mode(self, mode: EmailMode) -> MailPreferences {
        MailPreferences { mode, ..self }
    }
}

#[test]
fn hidden_posts_moved_threads_and_unreadable_conversations_are_never_mailed() {
    let site = site();
    let open = site.board("open", "public");
    let closed = site.board("closed", "private");
    let ana = site.mailed_member("ana", "UTC", as_it_happens());
    let bo = site.plain("bob");
    // A reply hidden before its mail goes.
    let hidden_thread = site.start(&ana, &open, "Week two");
    let spam = site.reply(&bo, &hidden_thread, "Buy zanzibarpills now");
    review::decide(
        &mut site.conn(),
        &rules(),
        &site.admin,
        spam.id,
        Seen::of(&spam),
        &Decision::Hide {
            reason: "spam".to_owned(),
        },
    )
    .unwrap();
    // A thread moved into a private group Ana is not in.
    let moved = site.start(&ana, &open, "Quillfeather secret plans");
    site.reply(&bo, &moved, "Sounds like orchidvault to me");
    actions::change_thread(
        &mut site.conn(),
        &site.admin,
        moved.id,
        ThreadChange::Move(closed.id),
        "belongs in the circle",
    )
    .unwrap();
    // A private message for a facilitator removed since.
    let fran = site.mailed_member("fran", "UTC", as_it_happens());
    actions::set_facilitator(&mut site.conn(), &site.admin, &closed, "fran", true).unwrap();
    let joan = site.join(&site.plain("joan"), &closed);
    crate::notifications::mark_all_read(&mut site.conn(), fran.id, clock::now()).unwrap();
    let admin = site.again(&site.admin);
    conversations::start(
        &mut site.conn(),
        &ConversationRules::default(),
        &rules(),
        &admin,
        &StartForm {
            to: StartQuery {
                group: "closed".to_owned(),
                with: joan.username.clone(),
                post: None,
            },
            subject: "Checking in".to_owned(),
            body: "Joan, how is the lanternberry week going?".to_owned(),
            submission_key: crate::forum::posts::new_submission_key(),
        },
    )
    .unwrap();
    let fran_told: i64 = notifications::table
        .filter(notifications::member_id.eq(fran.id))
        .filter(notifications::kind.eq("message"))
        .count()
        .get_result(&mut site.conn())
        .unwrap();
    assert_eq!(fran_told, 1, "the facilitator was told of the message");
    actions::set_facilitator(&mut site.conn(), &site.admin, &closed, "fran", false).unwrap();

    let t0 = days_ago(2);
    site.happened_at(&ana, t0);
    site.happened_at(&fran, t0);
    let secrets = [
        "zanzibarpills",
        "Quillfeather",
        "orchidvault",
        "lanternberry",
        "Checking in",
    ];
    let check = |when: NaiveDateTime| {
        site.run(when);
        for mail in site.mail_of(&ana).iter().chain(&site.mail_of(&fran)) {
            for word in secrets {
                assert!(!mail.says(word), "{word} in {mail:?}");
            }
            // What they may still be mailed is a notice (the thread moved, a role ended).
            assert!(!mail.says("replied"), "{mail:?}");
            assert!(!mail.says("private message"), "{mail:?}");
        }
    };
    check(t0 + TimeDelta::hours(1));
    // Nor later, should the thread become readable again.
    actions::change_thread(
        &mut site.conn(),
        &site.admin,
        moved.id,
        ThreadChange::Move(open.id),
        "back",
    )
    .unwrap();
    site.happened_at(&ana, t0 + TimeDelta::hours(1));
    check(t0 + TimeDelta::hours(2));
}

#[test]
fn mail_from_a_private_group_says_who_and_where_but_not_what() {
    let site = site();
    let circle = site.board("circle", "private");
    let ana = site.mailed_member("ana", "UTC", as_it_happens());
    let ana = site.join(&ana, &circle);
    let bo = site.join(&site.plain("bob"), &circle);
    let thread = site.start(&ana, &circle, "Lighthouse vigil for Tomas");
    site.reply(&bo, &thread, "I lit a marigoldlamp for him tonight.");
    let t0 = days_ago(2);
    site.happened_at(&ana, t0);
    assert_eq!(site.run(t0 + TimeDelta::minutes(15)), 1);
    let mail = &site.mail_of(&ana)[0];
    for secret in ["Lighthouse", "Tomas", "marigoldlamp"] {
        assert!(!mail.subject.contains(secret), "{secret}: {}", mail.subject);
        assert!(!mail.text.contains(secret), "{secret}: {}", mail.text);
        assert!(!mail.html.contains(secret), "{secret}: {}", mail.html);
    }
    assert!(
        mail.text
            .contains("bob replied in a thread in The circle circle"),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("/p/"), "a link to the post");

    // A new thread in a group she watches: who and where, and a link without the title's
    // words (a thread's address carries its title after its number).
    let ana = site.again(&ana);
    crate::notifications::levels::set_for_board(
        &mut site.conn(),
        &ana,
        &circle,
        crate::notifications::Level::Watching,
    )
    .unwrap();
    site.start(&bo, &circle, "Harbourmaster Quillon is gone");
    let t1 = t0 + TimeDelta::minutes(16);
    site.happened_at(&ana, t1);
    assert_eq!(site.run(t1 + TimeDelta::minutes(15)), 1);
    let mail = site.mail_of(&ana).pop().unwrap();
    assert!(
        mail.text.contains("bob started a thread in"),
        "{}",
        mail.text
    );
    for secret in ["Harbourmaster", "harbourmaster", "Quillon", "quillon"] {
        assert!(!mail.subject.contains(secret), "{secret}: {}", mail.subject);
        assert!(!mail.text.contains(secret), "{secret}: {}", mail.text);
        assert!(!mail.html.contains(secret), "{secret}: {}", mail.html);
    }

    // A member who chose the words gets them.
    let words = MailPreferences {
        private_words: true,
        ..as_it_happens()
    };
    save_mail_preferences(&mut site.conn(), ana.id, &words).unwrap();
    site.reply(&bo, &thread, "And another marigoldlamp at dawn.");
    site.happened_at(&ana, t0 + TimeDelta::minutes(20));
    assert_eq!(site.run(t0 + TimeDelta::minutes(35)), 1);
    let mail = site.mail_of(&ana).pop().unwrap();
    assert!(mail.says("Lighthouse vigil for Tomas"), "{mail:?}");
    assert!(mail.text.contains("marigoldlamp"), "{}", mail.text);
}

#[test]
fn the_html_body_escapes_what_members_wrote() {
    let site = site();
    let board = site.board("open", "public");
    let ana = site.mailed_member("ana", "UTC", as_it_happens());
    let bo = site.plain("bob");
    let thread = site.start(&ana, &board, "<script>alert(1)</script> & more");
    site.reply(&bo, &thread, "Hello <img src=x onerror=alert(2)>");
    let t0 = days_ago(2);
    site.happened_at(&ana, t0);
    assert_eq!(site.run(t0 + TimeDelta::minutes(15)), 1);
    let mail = &site.mail_of(&ana)[0];
    assert!(!mail.html.contains("<script>"), "{}", mail.html);
    assert!(!mail.html.contains("<img"), "{}", mail.html);
    assert!(mail
        .html
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
}

#[test]
fn two_schedulers_at_once_mail_each_piece_of_news_once() {
    let site = site();
    let board = site.board("busy", "public");
    let bo = site.plain("bob");
    let people: Vec<MemberActor> = (0..8)
        .map(|i| site.mailed_member(&format!("mem{i}"), "UTC", as_it_happens()))
        .collect();
    let digest_people: Vec<MemberActor> = (0..4)
        .map(|i| site.mailed_member(&format!("dig{i}"), "UTC", daily_at(7)))
        .collect();
    for who in people.iter().chain(&digest_people) {
        let thread = site.start(who, &board, "Checking in");
        site.reply(&bo, &thread, "Here.");
    }
    let t0 = days_ago(2);
    for who in people.iter().chain(&digest_people) {
        site.happened_at(who, t0);
    }
    // The next day at 07:00: every batch is due, and every digest.
    let now = (t0 + TimeDelta::days(1))
        .date()
        .and_hms_opt(7, 0, 0)
        .unwrap();
    let barrier = std::sync::Barrier::new(2);
    let sent: Vec<usize> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (pool, barrier, schedule) = (&site.pool, &barrier, &site.schedule);
                scope.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    barrier.wait();
                    send_due(&mut conn, schedule, None, now).unwrap().mails
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    assert_eq!(sent.iter().sum::<usize>(), 12, "{sent:?}");
    for who in people.iter().chain(&digest_people) {
        assert_eq!(site.mail_of(who).len(), 1, "{}", who.username);
    }
    assert_eq!(site.run(now + TimeDelta::minutes(1)), 0);
}

#[test]
fn a_run_stops_at_its_bound_and_the_next_goes_on_from_there() {
    let mut site = site();
    site.schedule.limits.per_run = 2;
    let board = site.board("busy", "public");
    let bo = site.plain("bob");
    let people: Vec<MemberActor> = (0..3)
        .map(|i| site.mailed_member(&format!("mem{i}"), "UTC", as_it_happens()))
        .collect();
    for who in &people {
        let thread = site.start(who, &board, "Checking in");
        site.reply(&bo, &thread, "Here.");
        site.happened_at(who, days_ago(2));
    }
    let now = days_ago(1);
    let first = send_due(&mut site.conn(), &site.schedule, None, now).unwrap();
    assert_eq!(first.mails, 2);
    let resume = first.resume_after.expect("stopped at the bound");
    let second = send_due(&mut site.conn(), &site.schedule, Some(resume), now).unwrap();
    assert_eq!(
        second,
        MailRun {
            mails: 1,
            resume_after: None
        }
    );
}
