//! Password rules and argon2id hashing.
//!
//! Hashing costs about 19 MiB and tens of milliseconds; callers run it off the async threads and
//! bound how many run at once (`hearth-web` holds a semaphore sized to the cores).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use zxcvbn::feedback::Warning;
use zxcvbn::Score;

use crate::error::{Error, Invalid, Result};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// argon2id with m = 19456 KiB, t = 2, p = 1 (OWASP's recommended minimum).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

/// Checks `password` against a stored PHC hash string. A malformed hash never matches.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    #[cfg(any(test, feature = "testing"))]
    verifications::count(stored_hash);
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Verifies against a throwaway hash so that an unknown username costs the same time as a
/// wrong password, and the two cannot be told apart from the outside.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash("hearth-dummy-password-for-timing").expect("hashing a constant works")
    });
    let _ = verify(password, &DUMMY);
}

/// Tests' view of how many passwords were checked: the count of [`verify`] runs against each
/// stored hash (each account's hash is unique, its salt random), so a test can tell how many
/// guesses at one account reached argon2 while other tests run in the same process.
#[cfg(any(test, feature = "testing"))]
pub mod verifications {
    use std::collections::HashMap;
    use std::sync::Mutex;

    static COUNTS: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

    pub(super) fn count(stored_hash: &str) {
        let mut counts = COUNTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts
            .get_or_insert_with(HashMap::new)
            .entry(stored_hash.to_owned())
            .or_default() += 1;
    }

    /// How many times a password was checked against `stored_hash` in this process.
    pub fn against(stored_hash: &str) -> u64 {
        let counts = COUNTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts
            .as_ref()
            .and_then(|counts| counts.get(stored_hash).copied())
            .unwrap_or(0)
    }
}

/// Length, and not a common or easily guessed password.
///
/// The common-password list is zxcvbn's 30,000 most used passwords, compiled into the binary.
/// zxcvbn matches a password against it (also reversed or in l33t spelling, and in pieces), and
/// a password it scores as guessable in under a million tries is refused, with the reason.
pub fn check_new_password(password: &str, username: &str, invalid: &mut Invalid) {
    let n_chars = password.chars().count();
    if n_chars < MIN_PASSWORD_CHARS {
        invalid.add(
            "password",
            format!("your password needs at least {MIN_PASSWORD_CHARS} characters — a short sentence works well"),
        );
        return;
    }
    if n_chars > MAX_PASSWORD_CHARS {
        invalid.add(
            "password",
            format!("your password can have at most {MAX_PASSWORD_CHARS} characters"),
        );
        return;
    }
    let entropy = zxcvbn::zxcvbn(password, &[username]);
    if entropy.score() >= Score::Two {
        return;
    }
    let warning = entropy.feedback().and_then(|feedback| feedback.warning());
    if matches!(
        warning,
        Some(
            Warning::ThisIsATop10Password
                | Warning::ThisIsATop100Password
                | Warning::ThisIsACommonPassword
                | Warning::ThisIsSimilarToACommonlyUsedPassword
        )
    ) {
        invalid.add(
            "password",
            "that password is on a list of common passwords; please choose another",
        );
    } else {
        invalid.add(
            "password",
            "that password would be easy to guess; try a few unrelated words together",
        );
    }
}

#[cfg(test)]
mod tests;
