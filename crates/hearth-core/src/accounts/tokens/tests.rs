//! Site secrets are made once and shared; signed tokens verify only under their own key.

use super::*;
use crate::test_support::any_pool;

#[test]
fn a_site_secret_is_made_once_and_every_connection_reads_the_same() {
    let (_database, pool) = any_pool();
    let askers: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || site_secret(&mut pool.get().unwrap(), "csrf").unwrap())
        })
        .collect();
    let secrets: Vec<Vec<u8>> = askers.into_iter().map(|a| a.join().unwrap()).collect();
    assert_eq!(secrets[0].len(), 32);
    assert!(secrets.iter().all(|s| *s == secrets[0]), "{secrets:?}");
    let other = site_secret(&mut pool.get().unwrap(), "another").unwrap();
    assert_ne!(other, secrets[0], "each name has its own secret");
}

#[test]
fn a_signed_token_verifies_only_under_its_key_and_unchanged() {
    let key = b"the site's key".as_slice();
    let token = signed_token(key);
    assert_eq!(token.len(), 66);
    assert!(is_signed_token(key, &token));
    assert!(!is_signed_token(b"another key", &token));
    assert_ne!(signed_token(key), token, "each token has its own nonce");
    // A token someone chose (as a cookie planted by a neighbouring site would be).
    assert!(!is_signed_token(key, &random_token()));
    let (nonce, tag) = token.split_once('.').unwrap();
    let mut other_nonce = nonce.to_owned();
    other_nonce.replace_range(0..1, if nonce.starts_with('A') { "B" } else { "A" });
    assert!(!is_signed_token(key, &format!("{other_nonce}.{tag}")));
    assert!(!is_signed_token(key, &format!("{nonce}.")));
    assert!(!is_signed_token(key, ""));
}

#[test]
fn a_token_for_one_subject_does_not_verify_for_another() {
    let key = b"the site's key".as_slice();
    let ana = signed_token_for(key, "device:ana");
    assert!(is_signed_token_for(key, "device:ana", &ana));
    assert!(!is_signed_token_for(key, "device:bea", &ana));
    assert!(!is_signed_token(key, &ana), "nor as a subject-less token");
    assert!(!is_signed_token_for(key, "device:ana", &signed_token(key)));
}
