use std::path::Path;

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
        let documented = example.lines().any(|line| {
            line.trim_start_matches("# ")
                .starts_with(&format!("{field} = "))
        });
        assert!(
            documented,
            "config/hearth.example.toml does not mention {field}"
        );
    }
}
