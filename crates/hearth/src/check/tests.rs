use super::*;

#[test]
fn a_urls_password_is_found_and_only_it() {
    assert_eq!(
        url_password("postgres://hearth:s3cr:et@db.example.org:5432/hearth?sslmode=require"),
        Some("s3cr:et".to_owned())
    );
    assert_eq!(url_password("postgres://hearth@db/hearth"), None);
    assert_eq!(url_password("/var/lib/hearth/hearth.db"), None);
    assert_eq!(
        url_password("postgres://db/a@b"),
        None,
        "an @ after the host"
    );
}

#[test]
fn secrets_are_masked_at_every_depth_and_paths_are_kept() {
    let mut table: toml::Table = toml::from_str(
        r#"
        database_url = "postgres://hearth:hunter22@db/hearth"
        [email]
        password = "smtp-hunter"
        password_file = "/etc/hearth/smtp-password"
        user = "forum"
        [metrics]
        token = "bearer-hunter"
        [[list]]
        secret_key = "deep-hunter"
        "#,
    )
    .unwrap();
    let mut secrets = Vec::new();
    mask_table(&mut table, &mut secrets);
    let text = toml::to_string(&table).unwrap();
    for secret in ["hunter22", "smtp-hunter", "bearer-hunter", "deep-hunter"] {
        assert!(!text.contains(secret), "{secret} in {text}");
        assert!(
            secrets.iter().any(|s| s == secret),
            "{secret} not collected"
        );
    }
    assert!(text.contains("postgres://hearth:***@db/hearth"), "{text}");
    assert!(text.contains("/etc/hearth/smtp-password"), "{text}");
    assert!(text.contains("user = \"forum\""), "{text}");
}

#[test]
fn loopback_is_this_machine_only() {
    assert!(listens_on_loopback("127.0.0.1:8080"));
    assert!(listens_on_loopback("[::1]:8080"));
    assert!(listens_on_loopback("localhost:8080"));
    assert!(!listens_on_loopback("0.0.0.0:8080"));
    assert!(!listens_on_loopback("forum.example.org:80"));
}

#[test]
fn an_unknown_setting_is_not_shown_as_in_effect() {
    let mut table: toml::Table = toml::from_str(
        "sitename = 1\nsite_name = \"Kept\"\n[email]\nsmtp_hots = \"x\"\nsmtp_port = 25\n\
         [[helplines]]\nname = \"A\"\nhour = \"all day\"\n",
    )
    .unwrap();
    for path in [
        "sitename",
        "email.smtp_hots",
        "helplines.0.hour",
        "nowhere.at.all",
    ] {
        forget(&mut table, path);
    }
    let expected: toml::Table = toml::from_str(
        "site_name = \"Kept\"\n[email]\nsmtp_port = 25\n[[helplines]]\nname = \"A\"\n",
    )
    .unwrap();
    assert_eq!(table, expected);
}

#[test]
fn every_file_setting_is_found_at_any_depth() {
    let table: toml::Table = toml::from_str(
        "crisis_phrases_file = \"/etc/hearth/phrases.txt\"\ntheme_dir = \"/srv/theme\"\n\
         [email]\npassword_file = \"/run/secrets/smtp\"\n[metrics]\ntoken_file = \"\"\n\
         [deep.er]\nkey_file = \"k\"\n",
    )
    .unwrap();
    let mut files = Vec::new();
    file_settings(&table, "", &mut files);
    files.sort();
    let found: Vec<(&str, &str)> = files
        .iter()
        .map(|(name, path)| (name.as_str(), path.to_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("crisis_phrases_file", "/etc/hearth/phrases.txt"),
            ("deep.er.key_file", "k"),
            ("email.password_file", "/run/secrets/smtp"),
        ]
    );
}
