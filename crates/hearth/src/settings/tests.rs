use std::path::Path;

use hearth_core::accounts::throttle::{RegistrationLimits, ThrottlePolicy};
use hearth_core::safety::crisis::CrisisResources;
use hearth_core::safety::limits::PostingLimits;

use super::*;

fn example_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hearth.example.toml")
}

#[test]
fn the_example_config_shows_every_default() {
    let defaults = Settings::load(None).unwrap();
    let from_example = Settings::load(Some(&example_file())).unwrap();
    assert_eq!(format!("{defaults:?}"), format!("{from_example:?}"));
}

#[test]
fn the_example_config_mentions_every_setting() {
    let example = std::fs::read_to_string(example_file()).unwrap();
    let settings = format!("{:?}", Settings::load(None).unwrap());
    // Field names as Debug prints them: `Settings { site_name: ..., listen: ... }`.
    let fields: Vec<&str> = settings
        .trim_start_matches("Settings { ")
        .split(", ")
        .filter_map(|part| part.split_once(": ").map(|(name, _)| name))
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert!(fields.len() >= 10, "{fields:?}");
    for field in fields {
        // A plain setting (`name = …`, perhaps commented out) or a table (`[name]`,
        // `[[parent.name]]`).
        let documented = example.lines().any(|line| {
            let line = line.trim_start_matches("# ");
            let table = line.trim_matches(|c| c == '[' || c == ']');
            line.starts_with(&format!("{field} = "))
                || (line.starts_with('[') && table.rsplit('.').next() == Some(field))
        });
        assert!(
            documented,
            "config/hearth.example.toml does not mention {field}"
        );
    }
}

#[test]
fn the_built_in_defaults_are_the_cores_defaults() {
    let settings = Settings::load(None).unwrap();
    assert_eq!(settings.sign_in_throttle, ThrottlePolicy::default());
    assert_eq!(settings.registration_limits, RegistrationLimits::default());
    assert_eq!(settings.recovery_throttle, ThrottlePolicy::RECOVERY);
    assert_eq!(
        i64::from(settings.session_last_seen_minutes),
        i64::from(hearth_web::WebConfig::default().session_last_seen_minutes)
    );
    let budget = hearth_web::VisitorPagesBudget::default();
    assert_eq!(
        usize::try_from(settings.cache_visitor_pages_mb).unwrap() * 1024 * 1024,
        budget.total_bytes
    );
    assert_eq!(
        usize::try_from(settings.cache_visitor_page_max_kb).unwrap() * 1024,
        budget.page_bytes
    );
    assert_eq!(settings.posting_limits, PostingLimits::default());
    assert_eq!(
        settings.edit_limits,
        hearth_core::safety::limits::EditLimits::default()
    );
    assert_eq!(
        settings.max_post_bytes,
        hearth_core::safety::gate::DEFAULT_MAX_BODY_BYTES
    );
    assert_eq!(settings.crisis_resources, CrisisResources::default());
    assert_eq!(
        settings.conversations,
        hearth_core::conversations::ConversationRules::default()
    );
    assert_eq!(settings.crisis_phrases_file, None);
    assert!(!settings.trust_x_forwarded_for);
}

fn load_toml(text: &str) -> Result<Settings, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearth.toml");
    std::fs::write(&path, text).unwrap();
    Settings::load(Some(&path))
}

#[test]
fn a_file_may_change_one_limit_and_keep_the_other_defaults() {
    let settings = load_toml("[sign_in_throttle]\nwindow_seconds = 60\n").unwrap();
    assert_eq!(settings.sign_in_throttle.window_seconds, 60);
    assert_eq!(
        settings.sign_in_throttle.account_limit,
        ThrottlePolicy::default().account_limit
    );
    assert_eq!(settings.crisis_resources, CrisisResources::default());
}

#[test]
fn helplines_in_the_file_replace_the_default_list() {
    let settings = load_toml(
        "[[crisis_resources.helplines]]\n\
         country = \"New Zealand\"\n\
         name = \"Need to talk?\"\n\
         phone = \"1737\"\n\
         text = \"1737\"\n",
    )
    .unwrap();
    let helplines = &settings.crisis_resources.helplines;
    assert_eq!(helplines.len(), 1, "{helplines:?}");
    assert_eq!(helplines[0].name, "Need to talk?");
    assert_eq!(helplines[0].url, None);
    assert_eq!(
        settings.crisis_resources.introduction,
        CrisisResources::default().introduction
    );
}

#[test]
fn unusable_safety_settings_stop_the_start() {
    let error = load_toml("[sign_in_throttle]\naccount_limit = 0\n").unwrap_err();
    assert!(error.contains("account_limit"), "{error}");
    let error =
        load_toml("[[crisis_resources.helplines]]\ncountry = \"X\"\nname = \"Nothing to call\"\n")
            .unwrap_err();
    assert!(error.contains("phone, text or url"), "{error}");
}

/// A sign-in's end is now plus `session_days`: a number beyond any calendar would panic there.
#[test]
fn a_session_length_beyond_reason_stops_the_start() {
    for days in ["0", "-1", "100000000000000"] {
        let error = load_toml(&format!("session_days = {days}\n")).unwrap_err();
        assert!(
            error.contains("session_days must be between 1 and 3650"),
            "{error}"
        );
    }
    assert_eq!(load_toml("session_days = 90\n").unwrap().session_days, 90);
}

#[test]
fn a_post_must_keep_more_versions_than_a_day_of_edits() {
    // Edits are counted by the versions kept: pruning must not drop ones that still count.
    let error = load_toml("[edit_limits]\nper_day = 50\nrevisions_kept = 50\n").unwrap_err();
    assert!(error.contains("revisions_kept"), "{error}");
    let settings = load_toml("[edit_limits]\nper_day = 0\nper_minute = 0\nrevisions_kept = 3\n");
    assert!(settings.is_ok(), "no limit counts nothing");
}

#[test]
fn email_is_off_without_an_smtp_host() {
    let settings = Settings::load(None).unwrap();
    assert!(!settings.email.enabled());
    assert_eq!(settings.email, hearth_core::mail::EmailSettings::default());
}

#[test]
fn the_smtp_password_file_wins_and_no_password_is_ever_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smtp-password");
    std::fs::write(&file, "from-the-file\nsecond line\n").unwrap();
    let settings = load_toml(&format!(
        "[email]\nsmtp_host = \"smtp.example.org\"\nfrom_address = \"forum@example.org\"\n\
         user = \"forum\"\npassword = \"in-the-config\"\npassword_file = {:?}\n",
        file.display().to_string()
    ))
    .unwrap();
    assert!(settings.email.enabled());
    assert_eq!(
        settings.email.resolved_password().unwrap().as_deref(),
        Some("from-the-file")
    );
    let printed = format!("{settings:?}");
    assert!(!printed.contains("in-the-config"), "{printed}");
    assert!(!printed.contains("from-the-file"));
}

#[test]
fn e_mail_settings_that_cannot_work_stop_the_start() {
    let error = load_toml("[email]\nsmtp_host = \"smtp.example.org\"\n").unwrap_err();
    assert!(error.contains("from_address"), "{error}");
    let error = load_toml(
        "[email]\nsmtp_host = \"smtp.example.org\"\nfrom_address = \"a@example.org\"\n\
         password_file = \"/nonexistent/smtp-password\"\n",
    )
    .unwrap_err();
    assert!(error.contains("password file"), "{error}");
}

#[test]
fn the_example_config_has_no_unknown_setting_and_a_typo_is_one() {
    let example = Settings::read(Some(&example_file())).unwrap();
    assert_eq!(example.ignored, Vec::<String>::new());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearth.toml");
    std::fs::write(
        &path,
        "site_nam = \"Circle\"\n[email]\nsmtp_hots = \"smtp.example.org\"\n\
         [[crisis_resources.helplines]]\ncountry = \"Here\"\nname = \"A line\"\nphone = \"1\"\nhour = \"all day\"\n",
    )
    .unwrap();
    let typos = Settings::read(Some(&path)).unwrap();
    assert_eq!(
        typos.ignored,
        [
            "crisis_resources.helplines.0.hour",
            "email.smtp_hots",
            "site_nam"
        ]
    );
}
