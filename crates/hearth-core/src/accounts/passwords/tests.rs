use super::*;

fn problems(password: &str) -> Invalid {
    let mut invalid = Invalid::default();
    check_new_password(password, "ana", &mut invalid);
    invalid
}

#[test]
fn hashes_are_argon2id_with_the_agreed_cost() {
    let stored = hash("a long enough passphrase").unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(verify("a long enough passphrase", &stored));
    assert!(!verify("a long enough passphrasE", &stored));
}

#[test]
fn malformed_hash_never_matches() {
    assert!(!verify("anything", "not-a-hash"));
}

#[test]
fn refuses_short_passwords() {
    assert!(problems("short pass")
        .message_for("password")
        .unwrap()
        .contains("12"));
}

#[test]
fn refuses_overlong_passwords() {
    assert!(!problems(&"x".repeat(129)).is_empty());
}

#[test]
fn refuses_passwords_from_the_common_list() {
    // Entries of zxcvbn's list that are long enough to pass the length rule.
    for common in ["qwertyuiopasdfghjkl", "1q2w3e4r5t6y", "123456789012"] {
        let invalid = problems(common);
        assert!(!invalid.is_empty(), "{common} was accepted");
    }
}

#[test]
fn refuses_easily_guessed_passwords() {
    for weak in [
        "password1234",
        "aaaaaaaaaaaa",
        "abcdefghijklmn",
        "123412341234",
    ] {
        assert!(!problems(weak).is_empty(), "{weak} was accepted");
    }
}

#[test]
fn accepts_a_passphrase() {
    assert!(problems("kettle orbit meadow lantern").is_empty());
}
