//! Admin sign-in: argon2id password hashes (computed off the async runtime), a generic answer
//! for a wrong user or password, and throttling per account and per address.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use super::secrets::Sensitive;
use super::store::{Store, StoreError};

/// The admin account's name (`docs/interfaces.md`).
pub const ADMIN_USERNAME: &str = "admin";

/// Attempts allowed for one account from one address before that pair is refused for a while.
const PAIR_FREE: i64 = 5;
/// Attempts allowed from one address, whatever the account (a shared office address makes
/// honest mistakes too), before the address is refused for a while.
const ADDR_FREE: i64 = 20;
/// Attempts on one account, from anywhere, before each further one is slowed down (never
/// refused: a stranger must not be able to lock the admin out).
const ACCOUNT_FREE: i64 = 5;
/// First lock-out; doubles with each further attempt, up to [`MAX_LOCK_SECS`].
const BASE_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;
/// An hour without an attempt and the counts start again.
pub const FORGET_AFTER_SECS: i64 = 60 * 60;
/// Longest account name (or extension number) that is looked up or counted as given.
pub const MAX_ACCOUNT_LEN: usize = 64;
/// Password verifications (argon2id, 19 MiB each) running at once, process-wide.
pub const VERIFY_AT_ONCE: usize = 4;
/// Sign-ins waiting for a verification beyond those; more are refused at once.
const WAITING: usize = 28;
/// Longest wait for a verification before the attempt is refused.
const WAIT_FOR_VERIFY: std::time::Duration = std::time::Duration::from_secs(5);

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

/// Seconds to wait before another attempt: `free` attempts go through, then each one after
/// the previous waits 30 s, 60 s, 120 s… up to 15 minutes.
pub fn lock_remaining(free: i64, before: i64, previous_at: i64, now: i64) -> i64 {
    if before < free {
        return 0;
    }
    let exp = (before - free).min(10) as u32;
    let lock = (BASE_LOCK_SECS * 2i64.pow(exp)).min(MAX_LOCK_SECS);
    (previous_at + lock - now).max(0)
}

/// How long an attempt on an account is held back, given the attempts on it before: nothing,
/// then 250 ms doubling up to 2 s. Slows guessing without locking the owner out.
pub fn account_delay(before: i64) -> std::time::Duration {
    if before < ACCOUNT_FREE {
        return std::time::Duration::ZERO;
    }
    let exp = (before - ACCOUNT_FREE).min(3) as u32;
    std::time::Duration::from_millis(250 * 2u64.pow(exp))
}

/// Bounds the sign-ins in progress: at most [`VERIFY_AT_ONCE`] password checks at a time and a
/// short queue behind them; beyond it, an attempt is refused at once (429) instead of piling
/// up 19 MiB verifications until memory runs out.
#[derive(Debug)]
pub struct Gate {
    admitted: std::sync::Arc<tokio::sync::Semaphore>,
    verify: tokio::sync::Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            admitted: std::sync::Arc::new(tokio::sync::Semaphore::new(VERIFY_AT_ONCE + WAITING)),
            verify: tokio::sync::Semaphore::new(VERIFY_AT_ONCE),
        }
    }
}

const BUSY: SignInError = SignInError::TooMany {
    retry_after_secs: 1,
};

/// Who signs in: the admin (`admin`) or an agent (`agent`, with an extension number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Admin,
    Agent,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Admin => "admin",
            Kind::Agent => "agent",
        }
    }
}

/// One sign-in attempt, throttled:
/// 1. a place in the [`Gate`] (else 429 at once);
/// 2. the attempt is counted — for the account from this address, for the address, and for
///    the account — before anything is checked, in one statement each, so that parallel
///    attempts cannot all slip through before the first failure is recorded;
/// 3. refused (429) while the (account, address) pair or the address is locked; delayed while
///    the account alone has many failures;
/// 4. `check` (the password verification) under the verification permit;
/// 5. success clears the counts of the pair, the address and the account.
///
/// Account names longer than [`MAX_ACCOUNT_LEN`] are never looked up or stored as given.
pub async fn attempt<T, F, Fut>(
    store: &Store,
    gate: &Gate,
    kind: Kind,
    account: &str,
    addr: &str,
    now: i64,
    check: F,
) -> Result<T, SignInError>
where
    F: FnOnce(&str) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, SignInError>>,
{
    let Ok(_admitted) = gate.admitted.clone().try_acquire_owned() else {
        return Err(BUSY);
    };
    let too_long = account.len() > MAX_ACCOUNT_LEN || account.chars().any(char::is_control);
    let account_key = if too_long { "\u{2026}" } else { account };
    let kind = kind.as_str();
    let pair = format!("pair:{kind}:{account_key}|{addr}");
    let by_addr = format!("addr:{addr}");
    let by_account = format!("acct:{kind}:{account_key}");
    let forget = now - FORGET_AFTER_SECS;

    let (before, previous) = store.count_login_attempt(&pair, now, forget).await?;
    let mut wait = lock_remaining(PAIR_FREE, before, previous, now);
    let (before, previous) = store.count_login_attempt(&by_addr, now, forget).await?;
    wait = wait.max(lock_remaining(ADDR_FREE, before, previous, now));
    let (account_before, _) = store.count_login_attempt(&by_account, now, forget).await?;
    if wait > 0 {
        return Err(SignInError::TooMany {
            retry_after_secs: wait,
        });
    }
    tokio::time::sleep(account_delay(account_before)).await;

    let Ok(Ok(_verifying)) = tokio::time::timeout(WAIT_FOR_VERIFY, gate.verify.acquire()).await
    else {
        return Err(BUSY);
    };
    let checked = if too_long {
        // Same work as for a real account, same answer as for an unknown one.
        let _ = verify(Sensitive::new(""), DUMMY_HASH.to_string()).await;
        None
    } else {
        check(account).await?
    };
    match checked {
        Some(t) => {
            for k in [&pair, &by_addr, &by_account] {
                store.clear_login_failures(k).await?;
            }
            Ok(t)
        }
        None => Err(SignInError::Invalid),
    }
}

/// Checks the admin's user name and password (see [`attempt`] for the throttling).
pub async fn sign_in(
    store: &Store,
    gate: &Gate,
    username: &str,
    password: Sensitive,
    addr: &str,
    now: i64,
) -> Result<(), SignInError> {
    attempt(store, gate, Kind::Admin, username, addr, now, |user| {
        let user = user.to_string();
        async move {
            // An unknown user costs the same hashing work as a known one.
            let hash = store.admin_password_hash(&user).await?;
            Ok(verify_or_dummy(password, hash).await.then_some(()))
        }
    })
    .await
}

/// Where the admin goes after signing in: the app's own page `next`, if it is one, else the
/// Helpdesk Integration page. `next` is resolved against the public URL as a browser would
/// resolve it (backslashes read as slashes, tabs and newlines dropped) and kept only if it
/// stays on that origin; the answer is its path, query and fragment, percent-encoded ASCII.
pub fn landing(public_url: &str, next: Option<&str>) -> String {
    const HOME: &str = "/integrations/helpdesk";
    let (Some(next), Ok(base)) = (next, url::Url::parse(public_url)) else {
        return HOME.into();
    };
    if !next.starts_with('/') {
        return HOME.into();
    }
    match base.join(next) {
        Ok(u)
            if u.origin() == base.origin() && u.username().is_empty() && u.password().is_none() =>
        {
            let local = &u[url::Position::BeforePath..];
            if local.starts_with('/') && !local.starts_with("//") {
                local.to_string()
            } else {
                HOME.into()
            }
        }
        _ => HOME.into(),
    }
}

/// The sign-in page's address: where to go once signed in (`next`, checked by [`landing`]
/// when the sign-in succeeds), and why the last try failed, if it did.
pub fn sign_in_address(next: Option<&str>, why: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(next) = next.filter(|n| !n.is_empty()) {
        query.append_pair("next", next);
    }
    query.extend_pairs(why);
    format!("/login?{}", query.finish())
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
        assert_eq!(lock_remaining(5, 4, 100, 100), 0);
        assert_eq!(lock_remaining(5, 5, 100, 100), 30);
        assert_eq!(lock_remaining(5, 6, 100, 100), 60);
        assert_eq!(lock_remaining(5, 5, 100, 131), 0);
        assert_eq!(lock_remaining(5, 50, 100, 100), MAX_LOCK_SECS);
        assert_eq!(lock_remaining(20, 19, 100, 100), 0);
        assert_eq!(lock_remaining(20, 20, 100, 100), 30);
    }

    #[test]
    fn the_account_alone_is_only_slowed_down() {
        use std::time::Duration;
        assert_eq!(account_delay(4), Duration::ZERO);
        assert_eq!(account_delay(5), Duration::from_millis(250));
        assert_eq!(account_delay(6), Duration::from_millis(500));
        assert_eq!(account_delay(1_000_000), Duration::from_secs(2));
    }

    #[test]
    fn landing_stays_on_the_app() {
        let base = "https://pbx.example.com";
        assert_eq!(
            landing(base, Some("/pbx/extensions?x=1#y")),
            "/pbx/extensions?x=1#y"
        );
        assert_eq!(landing(base, Some("/ä/")), "/%C3%A4/");
        assert_eq!(landing(base, None), "/integrations/helpdesk");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            " //evil.example",
            "/\\/evil.example",
            "///evil.example",
            "/@evil.example",
            "",
        ] {
            let to = landing(base, Some(hostile));
            let resolved = url::Url::parse(base).unwrap().join(&to).unwrap();
            assert_eq!(
                resolved.host_str(),
                Some("pbx.example.com"),
                "{hostile:?} -> {to}"
            );
            assert!(
                to.starts_with('/') && !to.starts_with("//"),
                "{hostile:?} -> {to}"
            );
        }
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
