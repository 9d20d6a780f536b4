//! Crisis support: the helplines the `/help` page lists, and the phrases that suggest a member
//! may be thinking about suicide or self-harm (matched with a [`PhraseList`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::safety::screening::PhraseList;

/// The built-in phrase list, `config/crisis-phrases.txt`.
pub const DEFAULT_PHRASES: &str = include_str!("../../../../config/crisis-phrases.txt");

/// The built-in crisis phrases, compiled.
pub fn default_phrases() -> PhraseList {
    PhraseList::parse(DEFAULT_PHRASES).expect("the built-in crisis phrases compile")
}

/// The operator's phrase file, or the built-in list when none is configured. A configured file
/// that cannot be read is an error (Hearth should not start believing it screens posts).
pub fn load_phrases(file: Option<&Path>) -> Result<PhraseList, String> {
    let Some(path) = file else {
        return Ok(default_phrases());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the crisis phrase file {} (setting crisis_phrases_file): {e}",
            path.display()
        )
    })?;
    PhraseList::parse(&text).map_err(|e| {
        format!(
            "the crisis phrase file {} cannot be used: {e}",
            path.display()
        )
    })
}

/// One service people can reach when they are struggling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Helpline {
    /// Where it answers, as the page groups it: "United States", "Other countries".
    pub country: String,
    pub name: String,
    /// A number to call, as people write it ("116 123").
    #[serde(default)]
    pub phone: Option<String>,
    /// A number to text (SMS).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// When it answers ("24 hours, every day").
    #[serde(default)]
    pub hours: Option<String>,
    /// Readers in these time zones see it first ("Europe/London"; an entry ending in `/`
    /// covers every zone under it, "Australia/").
    #[serde(default)]
    pub time_zones: Vec<String>,
}

impl Helpline {
    /// Whether a reader in `zone` is most likely where this helpline answers.
    pub fn serves_zone(&self, zone: &str) -> bool {
        self.time_zones.iter().any(|listed| {
            if listed.ends_with('/') {
                zone.starts_with(listed.as_str())
            } else {
                listed == zone
            }
        })
    }
}

/// What the `/help` page shows: an introduction and helplines by country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrisisResources {
    /// The first thing the page says, above the helplines.
    pub introduction: String,
    #[serde(default)]
    pub helplines: Vec<Helpline>,
}

/// Which helplines [`CrisisResources::by_country_for`] put first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    /// The country whose helplines serve the reader's zone.
    Theirs,
    /// None does: the lines for everywhere else.
    Elsewhere,
    /// Neither is known: the configured order.
    AsConfigured,
}

/// The helplines of one country, in the order they were configured.
#[derive(Debug, Clone, Serialize)]
pub struct CountryHelplines<'a> {
    pub country: &'a str,
    pub helplines: Vec<&'a Helpline>,
}

impl CrisisResources {
    /// Problems an operator must fix before starting: every helpline needs a country, a name
    /// and a way to reach it, and links are web addresses.
    pub fn check(&self) -> Result<(), String> {
        for (n, line) in self.helplines.iter().enumerate() {
            let which = format!(
                "crisis_resources.helplines entry {} ({:?})",
                n + 1,
                line.name
            );
            if line.country.trim().is_empty() || line.name.trim().is_empty() {
                return Err(format!("{which} needs a country and a name"));
            }
            if line.phone.is_none() && line.text.is_none() && line.url.is_none() {
                return Err(format!("{which} needs a phone, text or url"));
            }
            if let Some(url) = &line.url {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!("{which}: url must start with https://"));
                }
            }
        }
        Ok(())
    }

    /// [`by_country`](Self::by_country), with the country whose helplines serve the reader's
    /// time zone first (the others in their order). When none does, the entry for everywhere
    /// else (helplines that list no zone, such as "Other countries", on a list where others
    /// do) comes first: a reader in Berlin is not shown the US numbers as theirs.
    pub fn by_country_for(&self, zone: &str) -> (Vec<CountryHelplines<'_>>, Lead) {
        let mut groups = self.by_country();
        let unzoned =
            |g: &CountryHelplines<'_>| g.helplines.iter().all(|l| l.time_zones.is_empty());
        let zones_known = self.helplines.iter().any(|l| !l.time_zones.is_empty());
        let (at, lead) = match groups
            .iter()
            .position(|g| g.helplines.iter().any(|line| line.serves_zone(zone)))
        {
            Some(at) => (Some(at), Lead::Theirs),
            None => match groups.iter().position(unzoned).filter(|_| zones_known) {
                Some(at) => (Some(at), Lead::Elsewhere),
                None => (None, Lead::AsConfigured),
            },
        };
        if let Some(at) = at {
            let first = groups.remove(at);
            groups.insert(0, first);
        }
        (groups, lead)
    }

    /// The helplines grouped by country, countries in the order they first appear.
    pub fn by_country(&self) -> Vec<CountryHelplines<'_>> {
        let mut groups: Vec<CountryHelplines<'_>> = Vec::new();
        for line in &self.helplines {
            match groups.iter_mut().find(|g| g.country == line.country) {
                Some(group) => group.helplines.push(line),
                None => groups.push(CountryHelplines {
                    country: &line.country,
                    helplines: vec![line],
                }),
            }
        }
        groups
    }
}

fn helpline(
    country: &str,
    name: &str,
    phone: Option<&str>,
    text: Option<&str>,
    url: &str,
    hours: Option<&str>,
    time_zones: &[&str],
) -> Helpline {
    Helpline {
        country: country.to_owned(),
        name: name.to_owned(),
        phone: phone.map(str::to_owned),
        text: text.map(str::to_owned),
        url: Some(url.to_owned()),
        hours: hours.map(str::to_owned),
        time_zones: time_zones.iter().map(|z| (*z).to_owned()).collect(),
    }
}

/// The same list as the built-in settings and `config/hearth.example.toml` (a test checks).
impl Default for CrisisResources {
    fn default() -> Self {
        let always = Some("24 hours, every day");
        CrisisResources {
            introduction: "If you are in immediate danger or might act on thoughts of ending \
                           your life, call your local emergency number now (911 in the US and \
                           Canada, 999 in the UK, 112 in the EU, 000 in Australia). You can also \
                           talk to someone at one of these free, confidential services."
                .to_owned(),
            helplines: vec![
                helpline(
                    "United States",
                    "988 Suicide & Crisis Lifeline",
                    Some("988"),
                    Some("988"),
                    "https://988lifeline.org",
                    always,
                    &[
                        "America/New_York",
                        "America/Chicago",
                        "America/Denver",
                        "America/Phoenix",
                        "America/Los_Angeles",
                        "America/Anchorage",
                        "America/Adak",
                        "America/Juneau",
                        "America/Boise",
                        "America/Detroit",
                        "America/Indiana/",
                        "America/Kentucky/",
                        "America/North_Dakota/",
                        "Pacific/Honolulu",
                        "US/",
                    ],
                ),
                helpline(
                    "Canada",
                    "9-8-8 Suicide Crisis Helpline",
                    Some("988"),
                    Some("988"),
                    "https://988.ca",
                    always,
                    &[
                        "America/Toronto",
                        "America/Vancouver",
                        "America/Edmonton",
                        "America/Winnipeg",
                        "America/Regina",
                        "America/Halifax",
                        "America/Moncton",
                        "America/St_Johns",
                        "America/Whitehorse",
                        "America/Yellowknife",
                        "America/Iqaluit",
                        "Canada/",
                    ],
                ),
                helpline(
                    "United Kingdom and Ireland",
                    "Samaritans",
                    Some("116 123"),
                    None,
                    "https://www.samaritans.org",
                    always,
                    &[
                        "Europe/London",
                        "Europe/Dublin",
                        "Europe/Belfast",
                        "Europe/Guernsey",
                        "Europe/Isle_of_Man",
                        "Europe/Jersey",
                    ],
                ),
                helpline(
                    "Australia",
                    "Lifeline",
                    Some("13 11 14"),
                    None,
                    "https://www.lifeline.org.au",
                    always,
                    &["Australia/"],
                ),
                helpline(
                    "Other countries",
                    "Find A Helpline",
                    None,
                    None,
                    "https://findahelpline.com",
                    None,
                    &[],
                ),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_country_comes_first_by_their_time_zone() {
        let resources = CrisisResources::default();
        let first = |zone: &str| {
            let (groups, lead) = resources.by_country_for(zone);
            (groups[0].country.to_owned(), lead, groups.len())
        };
        let all = resources.by_country().len();
        assert_eq!(
            first("Europe/London"),
            ("United Kingdom and Ireland".into(), Lead::Theirs, all)
        );
        assert_eq!(
            first("America/Toronto"),
            ("Canada".into(), Lead::Theirs, all)
        );
        assert_eq!(
            first("America/Indiana/Indianapolis"),
            ("United States".into(), Lead::Theirs, all)
        );
        assert_eq!(
            first("Australia/Perth"),
            ("Australia".into(), Lead::Theirs, all)
        );
        // A zone no helpline lists leads with the helplines for everywhere else.
        assert_eq!(
            first("Europe/Berlin"),
            ("Other countries".into(), Lead::Elsewhere, all)
        );
        let in_berlin = |list: &CrisisResources| {
            let (groups, lead) = list.by_country_for("Europe/Berlin");
            (groups[0].country.to_owned(), lead)
        };
        // Without such an entry the configured order stays.
        let mut only_listed = resources.clone();
        only_listed
            .helplines
            .retain(|line| !line.time_zones.is_empty());
        assert_eq!(
            in_berlin(&only_listed),
            ("United States".into(), Lead::AsConfigured)
        );
        // Nor on a list that names no zones at all: nothing there is "everywhere else".
        let mut no_zones = resources.clone();
        no_zones
            .helplines
            .iter_mut()
            .for_each(|l| l.time_zones.clear());
        assert_eq!(
            in_berlin(&no_zones),
            ("United States".into(), Lead::AsConfigured)
        );
        // A prefix is a whole path segment's worth: "Australia/" is not "Australian".
        assert!(!resources.helplines[3].serves_zone("Australia"));
    }

    #[test]
    fn the_built_in_phrases_compile_and_catch_plain_statements() {
        let phrases = default_phrases();
        assert!((30..=60).contains(&phrases.len()), "{}", phrases.len());
        for text in [
            "I just want to die",
            "honestly everyone would be better off without me",
            "I've been cutting myself again",
            "I keep thinking about suicide",
            "I feel so SUICIDAL tonight",
            "I don’t want to wake up tomorrow",
            "I'm going to\nkill myself",
        ] {
            assert!(phrases.is_match(text), "{text}");
        }
    }

    #[test]
    fn the_built_in_phrases_leave_ordinary_grief_talk_alone() {
        let phrases = default_phrases();
        for text in [
            "We lost my brother to suicide last spring.",
            "She died of an overdose in March and I miss her every day.",
            "It feels like I can't go on without him, but I get up every morning.",
            "My dad was killed in an accident.",
            "I wanted to die when she left, but that was years ago and I'm doing better.",
            "I walked 5 kms today and it helped.",
            "The grief counsellor had real skill.",
        ] {
            assert!(
                !phrases.is_match(text),
                "{text:?} matched {:?}",
                phrases.matches(text)
            );
        }
    }

    #[test]
    fn a_missing_phrase_file_is_a_clear_error() {
        let error = load_phrases(Some(Path::new("/nonexistent/phrases.txt"))).unwrap_err();
        assert!(error.contains("crisis_phrases_file"), "{error}");
        assert!(error.contains("/nonexistent/phrases.txt"), "{error}");
    }

    #[test]
    fn an_operator_phrase_file_replaces_the_built_in_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phrases.txt");
        std::fs::write(&path, "# ours\nfeeling hopeless\n").unwrap();
        let phrases = load_phrases(Some(&path)).unwrap();
        assert_eq!(phrases.phrases(), ["feeling hopeless"]);
        assert!(!phrases.is_match("I want to die"));
        assert_eq!(load_phrases(None).unwrap().len(), default_phrases().len());
    }

    #[test]
    fn the_default_resources_are_valid_and_group_by_country() {
        let resources = CrisisResources::default();
        resources.check().unwrap();
        let groups = resources.by_country();
        assert_eq!(groups[0].country, "United States");
        assert_eq!(groups.last().unwrap().country, "Other countries");
        let mut doubled = resources.clone();
        doubled.helplines.push(Helpline {
            name: "Another".to_owned(),
            ..resources.helplines[0].clone()
        });
        let groups = doubled.by_country();
        assert_eq!(groups.len(), resources.by_country().len());
        assert_eq!(groups[0].helplines.len(), 2);
    }

    #[test]
    fn a_helpline_without_a_way_to_reach_it_is_refused() {
        let mut resources = CrisisResources::default();
        resources.helplines[0].phone = None;
        resources.helplines[0].text = None;
        resources.helplines[0].url = None;
        assert!(resources.check().unwrap_err().contains("entry 1"));
        let mut resources = CrisisResources::default();
        resources.helplines[1].url = Some("javascript:alert(1)".to_owned());
        assert!(resources.check().is_err());
    }
}
