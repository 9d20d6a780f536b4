//! Made-up but plausible text for the seeded community: board names, thread titles, member
//! names, and markdown post bodies with the shape real support-group posts have — mostly a
//! short paragraph or two, some long, some with quotes, lists, links and emphasis — so the
//! renderer and the pages do realistic work.

use crate::rng::Rng;

/// Support groups, in the order boards are created; more boards reuse them with a number.
const GROUPS: &[&str] = &[
    "Pet loss",
    "Moving to a new city",
    "Chronic pain",
    "New parents",
    "Grief and bereavement",
    "Living with anxiety",
    "Caring for a parent",
    "Long covid",
    "Recovery and sobriety",
    "Divorce and separation",
    "Infertility",
    "Job loss",
    "Living alone",
    "Autism and ADHD adults",
    "Cancer survivors",
    "Diabetes",
    "Migraine",
    "Loneliness",
    "Parents of teens",
    "Burnout",
    "Eating disorder recovery",
    "Dementia caregivers",
    "Miscarriage support",
    "Tinnitus",
    "Chronic fatigue",
    "Coming out",
    "Students far from home",
    "Retirement",
    "Sleep problems",
    "Hearing loss",
];

const FIRST_NAMES: &[&str] = &[
    "maya", "robin", "sam", "alex", "jo", "noor", "ines", "tomas", "li", "ade", "kai", "eva",
    "omar", "priya", "lena", "marco", "sofia", "yuki", "ben", "amara", "felix", "hana", "ravi",
    "zoe", "jonas", "leila", "mateo", "nina", "oskar", "tara", "dev", "ellis", "farah", "gus",
    "iris", "jamal", "kira", "luca", "mina", "nico", "olga", "pia", "quinn", "rosa", "sven",
    "tess", "uma", "vik", "wren", "yara",
];

const PRONOUNS: &[&str] = &["", "", "", "she/her", "he/him", "they/them"];
const TIME_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
];

const PETS: &[&str] = &[
    "cat",
    "dog",
    "old dog",
    "rabbit",
    "parrot",
    "horse",
    "guinea pig",
];
const FEELINGS: &[&str] = &[
    "exhausted",
    "numb",
    "hopeful",
    "overwhelmed",
    "a bit lighter",
    "lost",
    "guilty",
    "grateful",
    "anxious",
    "angry, then sad",
    "strangely calm",
];
const SPANS: &[&str] = &[
    "two weeks",
    "a month",
    "three months",
    "six months",
    "a year",
    "almost two years",
    "ten days",
];
const PEOPLE: &[&str] = &[
    "my partner",
    "my mum",
    "my dad",
    "my sister",
    "a friend from work",
    "my GP",
    "my therapist",
    "my neighbour",
    "my daughter",
    "my son",
];
const ACTIVITIES: &[&str] = &[
    "going for short walks",
    "writing things down before bed",
    "cooking proper meals again",
    "calling someone every day",
    "keeping a simple routine",
    "taking the medication on time",
    "saying no to extra shifts",
    "sitting in the garden",
    "going back to the choir",
];
const THINGS: &[&str] = &[
    "the empty bowl by the door",
    "the first appointment",
    "the paperwork",
    "the weekends",
    "the evenings",
    "the new flat",
    "the waiting list",
    "the first holiday without them",
    "the bad days",
];
const LINKS: &[(&str, &str)] = &[
    (
        "this leaflet",
        "https://www.example.org/support/leaflets/coping-day-to-day",
    ),
    (
        "the helpline page",
        "https://helpline.example.net/contact?ref=forum",
    ),
    (
        "an article I found",
        "https://news.example.com/health/2025/10/what-helped-me",
    ),
    (
        "the group's wiki",
        "https://wiki.example.org/wiki/Getting_started",
    ),
];

/// A sentence of the kind members write, with its slots filled.
fn sentence(rng: &mut Rng) -> String {
    let pet = rng.pick(PETS);
    let feeling = rng.pick(FEELINGS);
    let span = rng.pick(SPANS);
    let person = rng.pick(PEOPLE);
    let activity = rng.pick(ACTIVITIES);
    let thing = rng.pick(THINGS);
    match rng.below(16) {
        0 => format!("It has been {span} and I still feel {feeling} most mornings."),
        1 => format!("I lost my {pet} {span} ago and the house is so quiet."),
        2 => format!(
            "{} says I should try {activity}, and honestly it helps a little.",
            cap(person)
        ),
        3 => format!("The hardest part for me is {thing}."),
        4 => format!("Does anyone else feel {feeling} when people ask how you are doing?"),
        5 => "Thank you all for the kind replies, I read every one of them twice.".to_owned(),
        6 => format!("I started {activity} last week and I want to keep it up."),
        7 => format!("Some days are fine and then {thing} knocks me right back."),
        8 => format!(
            "I talked to {person} about it yesterday, which I had been putting off for {span}."
        ),
        9 => "Sending you a big hug, you are not alone in this.".to_owned(),
        10 => format!("What helped me was {activity}, even when I did not feel like it."),
        11 => format!("I keep thinking I should be over it by now, but {span} is not very long."),
        12 => format!("Today I feel {feeling}, which is better than yesterday."),
        13 => "Please be gentle with yourself, there is no right way to do this.".to_owned(),
        14 => format!("Has anyone found a good way to deal with {thing}?"),
        _ => format!("I am {feeling} but I wanted to write it down somewhere people understand."),
    }
}

fn cap(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    let mut text: Vec<String> = (0..sentences).map(|_| sentence(rng)).collect();
    if rng.chance(0.12) {
        let i = rng.below(text.len());
        let marker = if rng.chance(0.5) { "*" } else { "**" };
        text[i] = format!("{marker}{}{marker}", text[i].trim_end_matches('.'));
    }
    text.join(" ")
}

fn list(rng: &mut Rng) -> String {
    let numbered = rng.chance(0.4);
    (1..=rng.between(3, 6))
        .map(|i| {
            let bullet = if numbered {
                format!("{i}.")
            } else {
                "-".to_owned()
            };
            format!("{bullet} {}", cap(rng.pick(ACTIVITIES)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn link(rng: &mut Rng) -> String {
    let (text, url) = rng.pick(LINKS);
    if rng.chance(0.5) {
        format!("Someone here once shared [{text}]({url}) and it helped me.")
    } else {
        format!("There is more here: {url}")
    }
}

/// How many paragraphs a post has: most are short, a few run long.
fn paragraph_count(rng: &mut Rng) -> usize {
    let r = rng.unit();
    if r < 0.45 {
        1
    } else if r < 0.85 {
        rng.between(2, 4)
    } else if r < 0.97 {
        rng.between(5, 9)
    } else {
        rng.between(10, 30)
    }
}

/// A post body in markdown.
pub fn post_body(rng: &mut Rng) -> String {
    let n = paragraph_count(rng);
    let mut blocks: Vec<String> = Vec::with_capacity(n + 3);
    if rng.chance(0.12) {
        blocks.push(format!("> {}", sentence(rng)));
    }
    for i in 0..n {
        if n >= 10 && i == n / 2 {
            blocks.push("### Update".to_owned());
        }
        let sentences = rng.between(1, if n == 1 { 3 } else { 5 });
        blocks.push(paragraph(rng, sentences));
    }
    if rng.chance(0.10) {
        let at = rng.between(1, blocks.len());
        blocks.insert(at, list(rng));
    }
    if rng.chance(0.08) {
        blocks.push(link(rng));
    }
    blocks.join("\n\n")
}

/// A thread title (3 to 150 characters, as the app requires).
pub fn thread_title(rng: &mut Rng) -> String {
    let title = match rng.below(8) {
        0 => format!(
            "{} since I lost my {}",
            cap(rng.pick(SPANS)),
            rng.pick(PETS)
        ),
        1 => format!("Does anyone else struggle with {}?", rng.pick(THINGS)),
        2 => format!("Feeling {} today", rng.pick(FEELINGS)),
        3 => format!("Small win: {}", rng.pick(ACTIVITIES)),
        4 => format!("How do you cope with {}?", rng.pick(THINGS)),
        5 => format!("Talking to {} about it", rng.pick(PEOPLE)),
        6 => format!("Advice on {}, please", rng.pick(ACTIVITIES)),
        _ => format!("{} in, still {}", cap(rng.pick(SPANS)), rng.pick(FEELINGS)),
    };
    title.replace("  ", " ")
}

/// The name and URL slug of board number `index`.
pub fn board_name(index: usize) -> (String, String) {
    let base = GROUPS[index % GROUPS.len()];
    let round = index / GROUPS.len();
    let name = if round == 0 {
        base.to_owned()
    } else {
        format!("{base} ({})", round + 1)
    };
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    (name, slug.trim_matches('-').to_owned())
}

pub fn board_description(name: &str) -> String {
    format!(
        "A place to talk about {} with people who get it.",
        name.to_lowercase()
    )
}

pub const GROUND_RULES: &str = "Be kind. Share your own experience, not advice nobody asked \
for.\n\n- No diagnosing each other\n- What is said here stays here\n- If you are in danger, \
call your local emergency number";

/// A member's username (unique for distinct `index`), display name, pronouns and time zone.
pub struct Person {
    pub username: String,
    pub display_name: String,
    pub pronouns: &'static str,
    pub time_zone: &'static str,
}

pub fn person(rng: &mut Rng, index: usize) -> Person {
    let first = rng.pick(FIRST_NAMES);
    // Names carry no digits, so name + index never collides with another name + index.
    let username = format!("{first}{index}");
    let initial = (b'A' + rng.below(26) as u8) as char;
    Person {
        username,
        display_name: format!("{} {initial}.", cap(first)),
        pronouns: rng.pick(PRONOUNS),
        time_zone: rng.pick(TIME_ZONES),
    }
}

/// A short reply for the load test's POSTs, already form-encoded.
/// Words of the seeded posts that most of them have: "feel" is in 70% of the 1M posts, "better"
/// in a third.
pub const COMMON_WORDS: &[&str] = &["feel", "today", "people", "help", "days", "better", "week"];

/// Words in few seeded posts: "advice", "struggle" and "win" only in thread titles (0.25% of
/// the posts, the opening ones), the links' words in 1% to 2%.
pub const RARE_WORDS: &[&str] = &[
    "advice", "struggle", "win", "article", "leaflet", "wiki", "helpline",
];

/// `/search` paths for each word, best matches and newest first, and each pair of neighbours
/// (both words required).
pub fn search_paths(words: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    for (i, word) in words.iter().enumerate() {
        paths.push(format!("/search?q={word}"));
        paths.push(format!("/search?q={word}&sort=newest"));
        if let Some(next) = words.get(i + 1) {
            paths.push(format!("/search?q={word}+{next}"));
        }
    }
    paths
}

pub fn reply_body_form_encoded(rng: &mut Rng) -> String {
    let sentences = rng.between(1, 3);
    let text = paragraph(rng, sentences);
    form_encode(&text)
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_vary_in_length_and_use_markdown() {
        let mut rng = Rng::new(3);
        let bodies: Vec<String> = (0..2_000).map(|_| post_body(&mut rng)).collect();
        let longest = bodies.iter().map(String::len).max().unwrap();
        let shortest = bodies.iter().map(String::len).min().unwrap();
        assert!(shortest < 200 && longest > 3_000, "{shortest}..{longest}");
        assert!(bodies.iter().any(|b| b.starts_with("> ")));
        assert!(bodies
            .iter()
            .any(|b| b.contains("\n- ") || b.contains("\n1. ")));
        assert!(bodies.iter().any(|b| b.contains("https://")));
    }

    #[test]
    fn board_slugs_are_valid_board_addresses() {
        for i in 0..100 {
            let (_, slug) = board_name(i);
            assert!((2..=40).contains(&slug.len()), "{slug}");
            assert!(slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }

    #[test]
    fn form_encoding_escapes_what_it_must() {
        assert_eq!(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
