//! Admin sign-in: argon2id password hashes (computed off the async runtime), a generic answer
//! for a wrong user or password, and throttling per account and per address.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use super::secrets::Sensitive;
use super::store::{Store, StoreError};

/// The admin account's name (`docs/interfaces.md`).
pub const ADMIN_USERNAME: &str = "admin";

/// Failures allowed before sign-in is refused for a while.
const FREE_FAILURES: i64 = 5;
/// First lock-out; doubles with each further failure, up to [`MAX_LOCK_SECS`].
const BASE_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SignInError {
    #[error("wrong user name or password")]
    Invalid,
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    TooMany { retry_after_secs: i64 },
    #[error("internal error")]
    Internal,
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "sign-in store error");
        SignInError::Internal
    }
}

pub async fn hash_password(password: Sensitive) -> String {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .expect("argon2 hashing of a password does not fail")
            .to_string()
    })
    .await
    .expect("hashing task")
}

async fn verify(password: Sensitive, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Seconds to wait before another attempt, given the failures so far and the last one's time.
pub fn lock_remaining(failures: i64, last_failure_at: i64, now: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = (failures - FREE_FAILURES).min(10) as u32;
    let lock = (BASE_LOCK_SECS * 2i64.pow(exp)).min(MAX_LOCK_SECS);
    (last_failure_at + lock - now).max(0)
}

/// Checks the password of `username`, throttled per account and per client address.
pub async fn sign_in(
    store: &Store,
    username: &str,
    password: Sensitive,
    addr: &str,
    now: i64,
) -> Result<(), SignInError> {
    let keys = [format!("user:{username}"), format!("addr:{addr}")];
    let mut wait = 0;
    for k in &keys {
        let (n, last) = store.login_failures(k).await?;
        wait = wait.max(lock_remaining(n, last, now));
    }
    if wait > 0 {
        return Err(SignInError::TooMany {
            retry_after_secs: wait,
        });
    }
    // An unknown user costs the same hashing work as a known one.
    let hash = store.admin_password_hash(username).await?;
    let known = hash.is_some();
    let ok = verify(password, hash.unwrap_or_else(|| DUMMY_HASH.to_string())).await && known;
    if ok {
        for k in &keys {
            store.clear_login_failures(k).await?;
        }
        Ok(())
    } else {
        for k in &keys {
            store.record_login_failure(k, now).await?;
        }
        Err(SignInError::Invalid)
    }
}

/// Verifies a password against a hash, or (no hash: unknown account) against a dummy one, so
/// that both cost the same; true only for a real hash that matches.
pub async fn verify_or_dummy(password: Sensitive, hash: Option<String>) -> bool {
    let known = hash.is_some();
    verify(password, hash.unwrap_or_else(|| DUMMY_HASH.to_string())).await && known
}

/// An argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1ZxVnO7lC3M2H2QbI3xYl1sQnXcWkqOe8w0V0zFh1kU";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_grows_and_expires() {
        assert_eq!(lock_remaining(4, 100, 100), 0);
        assert_eq!(lock_remaining(5, 100, 100), 30);
        assert_eq!(lock_remaining(6, 100, 100), 60);
        assert_eq!(lock_remaining(5, 100, 131), 0);
        assert_eq!(lock_remaining(50, 100, 100), MAX_LOCK_SECS);
    }

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let h1 = hash_password(Sensitive::new("correct horse")).await;
        let h2 = hash_password(Sensitive::new("correct horse")).await;
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salted");
        assert!(verify(Sensitive::new("correct horse"), h1.clone()).await);
        assert!(!verify(Sensitive::new("wrong"), h1).await);
    }
}
