//! The org's accounts by phone number, held in memory for the lookup (issue 17: an unknown
//! number in two requests).
//!
//! Zoho Desk's accounts search has no phone parameter (zoho-desk-api.md §4.4): ruling out
//! accounts by search takes one full-text request per form the number may be typed in. The
//! org's accounts are few beside its contacts (the companies it serves), so they are read
//! once with the plain list (`GET /accounts`, 99 a page) and kept by the last four digits of
//! their number; a number is then matched against them with [`NumberPolicy::matches_stored`],
//! however it was typed. The list is kept current on demand, never in the background (an idle
//! org spends nothing):
//!
//! - accounts created since: the newest page (`sortBy=-createdTime`) at most once a
//!   [`NEW_CHECK`], when a lookup needs the accounts (served from Zoho's data, so an account
//!   made a moment ago is there, which its search index would not have yet);
//! - a number changed or an account deleted: an account the index matches is read again
//!   (`GET /accounts/{id}`) before it is used, and the whole list is read again after a
//!   [`RELOAD`];
//! - an org with more than [`MAX_ACCOUNTS`] accounts is not held, nor one whose list Zoho
//!   refuses: their lookups search the accounts by words, one request per form.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use super::lookup::ZohoRecord;
use super::numbers::NumberPolicy;
use super::zoho::api::Desk;
use super::zoho::ZohoError;
use super::EngineError;

/// How often, at most, a lookup asks for the accounts created since the last check.
pub const NEW_CHECK: Duration = Duration::from_secs(60);
/// How long a full read of the list is used before it is read again.
pub const RELOAD: Duration = Duration::from_secs(24 * 3600);
/// More accounts than this are not held (a full read costs one request per 99).
pub const MAX_ACCOUNTS: usize = 20_000;
/// How far before the newest account held the check for new ones reads back.
const SLACK_SECS: i64 = 60;
/// `GET /accounts`' largest page (Zoho's OpenAPI file).
const PAGE: usize = 99;

/// The key an account is filed under: the last four digits of its number (all of them when
/// it has fewer), as the contacts' wildcard search (`*0134`) narrows them.
fn tail(number: &str) -> Option<String> {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty()).then(|| digits[digits.len().saturating_sub(4)..].iter().collect())
}

fn text<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The accounts of one org, as read.
#[derive(Debug)]
struct Held {
    /// The org they belong to.
    org: String,
    /// Account id → the record (its `phone` as typed).
    by_id: HashMap<String, ZohoRecord>,
    /// Last four digits → account ids.
    by_tail: HashMap<String, Vec<String>>,
    /// The newest `createdTime` a list read (RFC 3339 in one format: compared as text); an
    /// account read alone does not move it, so the check for new ones reads back to where
    /// the last list stopped.
    newest: String,
    /// When the whole list was read, and when the newest page last was.
    loaded: Instant,
    checked: Instant,
}

impl Held {
    fn new(org: &str, now: Instant) -> Held {
        Held {
            org: org.to_string(),
            by_id: HashMap::new(),
            by_tail: HashMap::new(),
            newest: String::new(),
            loaded: now,
            checked: now,
        }
    }

    /// Files an account from a list, get or create answer (replacing what was held for its
    /// id); one without a number is not held.
    fn file(&mut self, v: &Value) {
        let Some(rec) = ZohoRecord::from_account(v) else {
            return;
        };
        self.drop_id(&rec.id);
        let Some(t) = rec.phone.as_deref().and_then(tail) else {
            return;
        };
        self.by_tail.entry(t).or_default().push(rec.id.clone());
        self.by_id.insert(rec.id.clone(), rec);
    }

    /// Files the accounts of a list read, and moves [`Self::newest`] on.
    fn file_listed(&mut self, items: &[Value]) {
        for v in items {
            if let Some(created) = text(v, "createdTime") {
                if created > self.newest.as_str() {
                    self.newest = created.to_string();
                }
            }
            self.file(v);
        }
    }

    fn drop_id(&mut self, id: &str) {
        if let Some(rec) = self.by_id.remove(id) {
            if let Some(t) = rec.phone.as_deref().and_then(tail) {
                if let Some(ids) = self.by_tail.get_mut(&t) {
                    ids.retain(|i| i != id);
                    if ids.is_empty() {
                        self.by_tail.remove(&t);
                    }
                }
            }
        }
    }

    /// The held accounts whose number is the caller's.
    fn matching(&self, policy: NumberPolicy, caller: &str) -> Vec<ZohoRecord> {
        let Some(t) = tail(caller) else {
            return Vec::new();
        };
        self.by_tail
            .get(&t)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id))
            .filter(|rec| {
                rec.phone
                    .as_deref()
                    .is_some_and(|n| policy.matches_stored(caller, n))
            })
            .cloned()
            .collect()
    }
}

#[derive(Debug, Default)]
enum State {
    /// Not read yet (or let go).
    #[default]
    Empty,
    Held(Held),
    /// Not held until `since` + [`RELOAD`]: the org has more than [`MAX_ACCOUNTS`], or Zoho
    /// refused the list (lookups search the accounts instead, as they did before).
    Searched {
        org: String,
        since: Instant,
    },
}

/// The accounts index: what is held, one reader of Zoho at a time, and a generation that
/// [`Self::clear`] moves on so that a read under way does not put back what was let go.
#[derive(Debug, Default)]
pub struct AccountIndex {
    state: Mutex<(u64, State)>,
    reading: tokio::sync::Mutex<()>,
    /// Another instance made an account: check for new ones at the next lookup.
    recheck: AtomicBool,
}

impl AccountIndex {
    /// Lets everything go (disconnect, another org, tests that change Zoho's data).
    pub fn clear(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.0 += 1;
        st.1 = State::Empty;
    }

    /// The next lookup checks for new accounts first (another instance made one).
    pub fn recheck(&self) {
        self.recheck.store(true, Ordering::Relaxed);
    }

    /// An account this instance made (or found made): held at once.
    pub fn remember(&self, org: &str, account: &Value) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let State::Held(h) = &mut st.1 {
            if h.org == org {
                h.file(account);
            }
        }
    }

    /// How many accounts with a number are held (`None`: not held).
    pub fn held(&self) -> Option<usize> {
        match &self.state.lock().unwrap_or_else(|p| p.into_inner()).1 {
            State::Held(h) => Some(h.by_id.len()),
            _ => None,
        }
    }

    /// The org's accounts whose number is the caller's, each read again from Zoho to be sure
    /// it still has it; `None` when the org's accounts are not held (too many): search
    /// instead. Reads the list first when it is not held or is due (see the module's
    /// documentation).
    pub(crate) async fn matching(
        &self,
        desk: &Desk<'_>,
        org: &str,
        policy: NumberPolicy,
        caller: &str,
    ) -> Result<Option<Vec<ZohoRecord>>, EngineError> {
        self.bring_up_to_date(desk, org).await?;
        let candidates = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &st.1 {
                State::Held(h) if h.org == org => h.matching(policy, caller),
                _ => return Ok(None),
            }
        };
        let mut found = Vec::new();
        for c in candidates {
            let now = match desk.account(&c.id).await {
                Err(e) if refused(&e) => {
                    // Cannot be read again: used as held.
                    found.push(c);
                    continue;
                }
                other => other?,
            };
            let gone = now.as_ref().is_none_or(|v| {
                v.get("isTrashed").and_then(Value::as_bool) == Some(true)
                    || v.get("isDeleted").and_then(Value::as_bool) == Some(true)
            });
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let State::Held(h) = &mut st.1 else { break };
            match now {
                Some(v) if !gone => {
                    h.file(&v);
                    let still = text(&v, "phone").is_some_and(|n| policy.matches_stored(caller, n));
                    if let Some(r) = still.then(|| ZohoRecord::from_account(&v)).flatten() {
                        found.push(r);
                    }
                }
                _ => h.drop_id(&c.id),
            }
        }
        Ok(Some(found))
    }

    /// Reads the whole list when nothing is held for `org` or it is [`RELOAD`] old; else the
    /// accounts created since, when the last check is [`NEW_CHECK`] old or another instance
    /// made one. One reader at a time: the lookups that want it wait for its answer.
    async fn bring_up_to_date(&self, desk: &Desk<'_>, org: &str) -> Result<(), EngineError> {
        enum Due {
            Nothing,
            Whole,
            New(String),
        }
        let due = |st: &(u64, State), now: Instant| match &st.1 {
            State::Held(h) if h.org == org => {
                if now.duration_since(h.loaded) >= RELOAD {
                    Due::Whole
                } else if now.duration_since(h.checked) >= NEW_CHECK
                    || self.recheck.load(Ordering::Relaxed)
                {
                    Due::New(h.newest.clone())
                } else {
                    Due::Nothing
                }
            }
            State::Searched { org: o, since } if o == org => {
                if now.duration_since(*since) >= RELOAD {
                    Due::Whole
                } else {
                    Due::Nothing
                }
            }
            _ => Due::Whole,
        };
        let quick = |now| due(&self.state.lock().unwrap_or_else(|p| p.into_inner()), now);
        if matches!(quick(Instant::now()), Due::Nothing) {
            return Ok(());
        }
        let _reader = self.reading.lock().await;
        let now = Instant::now();
        let generation = self.state.lock().unwrap_or_else(|p| p.into_inner()).0;
        let read = match quick(now) {
            Due::Nothing => return Ok(()),
            Due::Whole => read_all(desk, org, now).await.map(Read::Whole),
            Due::New(newest) => {
                self.recheck.store(false, Ordering::Relaxed);
                read_new(desk, &newest).await.map(Read::New)
            }
        };
        let read = match read {
            Err(e) if refused(&e) => {
                tracing::warn!(
                    error = %e,
                    "Zoho refused the accounts list: accounts are searched instead"
                );
                Read::Whole(State::Searched {
                    org: org.to_string(),
                    since: now,
                })
            }
            other => other?,
        };
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.0 != generation {
            // Let go meanwhile: what was read is not put back.
            return Ok(());
        }
        match read {
            Read::Whole(state) => {
                if let State::Held(h) = &state {
                    tracing::info!(
                        accounts = h.by_id.len(),
                        "the org's accounts with a number are held for lookups"
                    );
                }
                st.1 = state;
                self.recheck.store(false, Ordering::Relaxed);
            }
            // More than ten pages made since: the whole list is read next time.
            Read::New(None) => st.1 = State::Empty,
            Read::New(Some(items)) => {
                if let State::Held(h) = &mut st.1 {
                    h.checked = now;
                    h.file_listed(&items);
                }
            }
        }
        Ok(())
    }
}

/// What a reader brought: the whole list's state, or the accounts created since the last
/// check (`None`: more than ten pages of them).
enum Read {
    Whole(State),
    New(Option<Vec<Value>>),
}

/// Whether Zoho turned the list request itself down (a 4xx other than an expired token or
/// a rate limit): asking again will not help, searching will.
fn refused(e: &EngineError) -> bool {
    matches!(e, EngineError::Zoho(ZohoError::Api { status, .. }) if (400..500).contains(status))
}

/// Reads every account of the org, oldest first (new ones land on the last page, so the
/// pages already read do not move).
async fn read_all(desk: &Desk<'_>, org: &str, now: Instant) -> Result<State, EngineError> {
    let mut held = Held::new(org, now);
    let mut read = 0;
    loop {
        let items = desk.accounts_page("createdTime", 1 + read, PAGE).await?;
        read += items.len();
        held.file_listed(&items);
        if items.len() < PAGE {
            return Ok(State::Held(held));
        }
        if read >= MAX_ACCOUNTS {
            tracing::info!(
                max = MAX_ACCOUNTS,
                "the org has too many accounts to hold: accounts are searched"
            );
            return Ok(State::Searched {
                org: org.to_string(),
                since: now,
            });
        }
    }
}

/// The accounts created since `newest` (newest first), read back to a minute before it:
/// lists are not sorted to the millisecond everywhere (the sandbox sorts by the second), and
/// what is read again is only filed again. `None` past ten pages.
async fn read_new(desk: &Desk<'_>, newest: &str) -> Result<Option<Vec<Value>>, EngineError> {
    let horizon = time::OffsetDateTime::parse(newest, &Rfc3339)
        .map(|t| t - time::Duration::seconds(SLACK_SECS))
        .ok();
    let older = |v: &Value| {
        let created =
            text(v, "createdTime").and_then(|c| time::OffsetDateTime::parse(c, &Rfc3339).ok());
        matches!((created, horizon), (Some(c), Some(h)) if c < h)
    };
    let mut new = Vec::new();
    for page in 0..10 {
        let items = desk
            .accounts_page("-createdTime", 1 + page * PAGE, PAGE)
            .await?;
        let short = items.len() < PAGE;
        let reached = items.iter().any(older);
        new.extend(items.into_iter().filter(|v| !older(v)));
        if short || reached {
            return Ok(Some(new));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn account(id: &str, phone: Option<&str>, created: &str) -> Value {
        json!({"id": id, "accountName": format!("Account {id}"), "phone": phone,
               "createdTime": created})
    }

    #[test]
    fn accounts_are_found_by_their_number_however_it_was_typed() {
        let us = NumberPolicy {
            default_country: Some(crate::engine::numbers::Country::US),
        };
        let mut h = Held::new("1", Instant::now());
        h.file_listed(&[
            account("a", Some("+1 (415) 555-0134"), "2026-12-01T10:00:00.000Z"),
            account("b", Some("212-555-0134"), "2026-12-01T11:00:00.000Z"),
            account("c", None, "2026-12-01T12:00:00.000Z"),
        ]);
        assert_eq!(h.newest, "2026-12-01T12:00:00.000Z");
        let ids = |caller: &str| -> Vec<String> {
            h.matching(us, caller).into_iter().map(|r| r.id).collect()
        };
        assert_eq!(ids("4155550134"), ["a"]);
        assert_eq!(ids("+1 212 555 0134"), ["b"]);
        assert!(
            ids("+1 646 555 0134").is_empty(),
            "same last four, another number"
        );
        assert!(ids("").is_empty());
        assert_eq!(h.by_id.len(), 2, "an account without a number is not held");
    }

    /// `numbers_table.txt` (47 rows: stored as people type, the caller as the PBX sends it,
    /// the same number or not), each stored on an account: the index answers as the contacts'
    /// search does.
    #[test]
    fn every_row_of_the_number_table_matches_its_account_or_not() {
        let mut wrong = Vec::new();
        for (country, stored, caller, same) in crate::engine::numbers::number_table() {
            let policy = NumberPolicy {
                default_country: crate::engine::numbers::parse_country(&country).ok(),
            };
            let mut h = Held::new("1", Instant::now());
            h.file(&account("a", Some(&stored), "2026-12-01T10:00:00.000Z"));
            let hit = h.matching(policy, &caller).len() == 1;
            if hit != same {
                wrong.push(format!(
                    "{country} {stored:?} vs {caller:?}: expected {same}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn a_changed_number_replaces_the_old_one_and_a_dropped_account_is_gone() {
        let p = NumberPolicy::default();
        let mut h = Held::new("1", Instant::now());
        h.file(&account("a", Some("5503301"), "2026-12-01T10:00:00.000Z"));
        h.file(&account("a", Some("5503309"), "2026-12-01T10:00:00.000Z"));
        assert!(h.matching(p, "5503301").is_empty());
        assert_eq!(h.matching(p, "5503309").len(), 1);
        assert!(!h.by_tail.contains_key("3301"), "{:?}", h.by_tail);
        h.drop_id("a");
        assert!(h.matching(p, "5503309").is_empty());
        assert!(h.by_tail.is_empty() && h.by_id.is_empty());
    }

    #[test]
    fn tails_are_the_last_four_digits() {
        assert_eq!(tail("+1 (415) 555-0134").as_deref(), Some("0134"));
        assert_eq!(tail("2005").as_deref(), Some("2005"));
        assert_eq!(tail("12").as_deref(), Some("12"));
        assert_eq!(tail("n/a"), None);
    }

    #[test]
    fn remembering_needs_the_same_org_and_clearing_lets_go() {
        let idx = AccountIndex::default();
        idx.remember(
            "1",
            &account("a", Some("5503301"), "2026-12-01T10:00:00.000Z"),
        );
        assert_eq!(idx.held(), None, "nothing held yet: nothing to add to");
        idx.state.lock().unwrap().1 = State::Held(Held::new("1", Instant::now()));
        idx.remember(
            "2",
            &account("a", Some("5503301"), "2026-12-01T10:00:00.000Z"),
        );
        assert_eq!(idx.held(), Some(0), "another org's account");
        idx.remember(
            "1",
            &account("a", Some("5503301"), "2026-12-01T10:00:00.000Z"),
        );
        assert_eq!(idx.held(), Some(1));
        idx.clear();
        assert_eq!(idx.held(), None);
    }
}
