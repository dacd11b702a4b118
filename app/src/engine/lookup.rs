//! Who is calling: a number → the Zoho Desk contact or account it belongs to, with a cache so
//! that a repeat caller costs no Zoho request (requirements §3–§5, issue 5).
//!
//! Zoho stores phone numbers as free text and does not normalise them (zoho-desk-api.md §6), so
//! one lookup asks for every form the number may be stored in, as one OR search
//! (`phone=a,b,*c`), then `mobile`, then the org's accounts (held in memory, see
//! [`super::accounts`]). Hits and misses are cached by the number's canonical key (positive
//! answers for 10 minutes, negative for one); a record we create is put in the cache at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::sync::Arc;

use super::accounts::AccountIndex;
use super::gates::Gates;
use super::metrics::Metrics;
use super::numbers::{NumberPolicy, PhoneField};
use super::zoho::api::Desk;
use super::zoho::connection::DeskCtx;
use super::zoho::ZohoConnection;
use super::EngineError;
use crate::model::ZohoModule;

const HIT_TTL: Duration = Duration::from_secs(600);
const MISS_TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 50_000;

/// A Zoho Desk record a number matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZohoRecord {
    pub module: ZohoModule,
    pub id: String,
    /// Contacts only.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Full name, or the account's name.
    pub name: String,
    /// The contact's account name.
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub web_url: Option<String>,
    /// When Zoho last changed it (RFC 3339), to choose among records sharing a number.
    #[serde(default)]
    pub modified: Option<String>,
    /// Other records with the same number (the most recently modified was chosen).
    #[serde(default)]
    pub others: u32,
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl ZohoRecord {
    pub fn from_contact(v: &Value) -> Option<ZohoRecord> {
        let id = text(v, "id")?;
        let first = text(v, "firstName");
        let last = text(v, "lastName");
        let name = [first.as_deref(), last.as_deref()]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Some(ZohoRecord {
            module: ZohoModule::Contacts,
            id,
            first_name: first,
            last_name: last,
            name,
            company: v.get("account").and_then(|a| text(a, "accountName")),
            email: text(v, "email"),
            phone: text(v, "phone"),
            mobile: text(v, "mobile"),
            web_url: text(v, "webUrl"),
            modified: text(v, "modifiedTime"),
            others: 0,
        })
    }

    pub fn from_account(v: &Value) -> Option<ZohoRecord> {
        Some(ZohoRecord {
            module: ZohoModule::Accounts,
            id: text(v, "id")?,
            first_name: None,
            last_name: None,
            name: text(v, "accountName").unwrap_or_default(),
            company: None,
            email: text(v, "email"),
            phone: text(v, "phone"),
            mobile: None,
            web_url: text(v, "webUrl"),
            modified: text(v, "modifiedTime"),
            others: 0,
        })
    }
}

/// Hits of one search page (Zoho's maximum for searches).
const SEARCH_PAGE: usize = 100;
/// Pages read per search at most: 1,000 records ending in the same four digits.
const SEARCH_PAGES: usize = 10;
/// Exact forms tried in the accounts' full-text search.
const ACCOUNT_FORMS: usize = 4;

/// Of the records with the caller's number (contacts by business phone, else by mobile, else
/// accounts: see [`Lookup::search_number`]), the one to use: contacts before accounts, then
/// the most recently modified (ids break ties); how many others there were.
fn choose(mut found: Vec<ZohoRecord>) -> Option<ZohoRecord> {
    found.sort_by(|a, b| {
        (a.module != ZohoModule::Contacts)
            .cmp(&(b.module != ZohoModule::Contacts))
            .then_with(|| b.modified.cmp(&a.modified))
            .then_with(|| a.id.cmp(&b.id))
    });
    let others = found.len().saturating_sub(1) as u32;
    let mut first = found.into_iter().next()?;
    first.others = others;
    Some(first)
}

/// Accounts with the caller's number by Zoho's full-text search, one request per exact form
/// (accounts have no phone search): for an org with too many accounts to hold.
async fn search_accounts(
    desk: &Desk<'_>,
    policy: NumberPolicy,
    raw: &str,
    forms: &[String],
) -> Result<Vec<ZohoRecord>, EngineError> {
    let mut found: Vec<ZohoRecord> = Vec::new();
    for form in forms
        .iter()
        .filter(|f| !f.starts_with('*'))
        .take(ACCOUNT_FORMS)
    {
        for v in &desk.search_accounts(form, SEARCH_PAGE).await? {
            let theirs = text(v, "phone").is_some_and(|n| policy.matches_stored(raw, &n));
            if let Some(r) = theirs.then(|| ZohoRecord::from_account(v)).flatten() {
                if !found.iter().any(|f| f.id == r.id) {
                    found.push(r);
                }
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    Ok(found)
}

/// The lookup cache: number key → record (or none), with an expiry.
#[derive(Debug, Default)]
pub struct LookupCache {
    entries: Mutex<HashMap<String, (Option<ZohoRecord>, Instant)>>,
}

impl LookupCache {
    pub fn get(&self, key: &str) -> Option<Option<ZohoRecord>> {
        self.get_at(key, Instant::now())
    }

    pub fn put(&self, key: &str, rec: Option<ZohoRecord>) {
        self.put_at(key, rec, Instant::now())
    }

    /// The cached answer for `key` if it is still fresh at `now`.
    fn get_at(&self, key: &str, now: Instant) -> Option<Option<ZohoRecord>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.clone())
    }

    /// Caches `rec` from `now`: a record for [`HIT_TTL`], "nobody" for [`MISS_TTL`].
    fn put_at(&self, key: &str, rec: Option<ZohoRecord>, now: Instant) {
        let ttl = if rec.is_some() { HIT_TTL } else { MISS_TTL };
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, exp)| *exp > now);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key.to_string(), (rec, now + ttl));
    }

    pub fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The lookup service: who a number is, from the cache or Zoho Desk.
#[derive(Debug)]
pub struct Lookup {
    /// Number key → record (or nobody); shared with the jobs that create records and the
    /// notices of other instances.
    pub cache: LookupCache,
    /// The org's accounts by number (Zoho has no phone search for accounts).
    pub accounts: AccountIndex,
    /// One lookup of a number at a time: the calls that want a number being looked up (a
    /// ring group, a caller calling back at once, several jobs of one burst) wait for that
    /// answer instead of asking Zoho again.
    gates: Gates,
    numbers: NumberPolicy,
    metrics: Arc<Metrics>,
}

impl Lookup {
    pub fn new(numbers: NumberPolicy, metrics: Arc<Metrics>) -> Lookup {
        Lookup {
            cache: LookupCache::default(),
            accounts: AccountIndex::default(),
            gates: Gates::default(),
            numbers,
            metrics,
        }
    }

    /// The record a number belongs to: from the cache, else from Zoho (then cached). While
    /// one call looks a number up, the others that want it wait for its answer.
    pub async fn lookup_number(
        &self,
        zoho: &ZohoConnection,
        raw: &str,
    ) -> Result<Option<ZohoRecord>, EngineError> {
        if self.numbers.search_forms(raw).is_none() {
            // A feature code or no number at all: nobody in Zoho, and nothing to ask.
            return Ok(None);
        }
        let key = self.numbers.key(raw);
        let cached = || {
            let hit = self.cache.get(&key)?;
            self.metrics
                .inc("helpdesk_lookup_cache_total", &[("result", "hit")]);
            Some(hit)
        };
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let _turn = self.gates.turn(&key).await;
        // Perhaps looked up meanwhile by the call this one waited for.
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        self.metrics
            .inc("helpdesk_lookup_cache_total", &[("result", "miss")]);
        let ctx = zoho.desk_ctx().await?;
        let found = self.search_number(zoho, &ctx, raw).await?;
        self.cache.put(&key, found.clone());
        Ok(found)
    }

    /// Asks Zoho (no cache) for the caller's record. Contacts: their `phone` searched with
    /// the number's forms (a four-digit wildcard finds it however it was typed), every page of
    /// hits read, and only the hits whose number is the caller's kept; their `mobile` the same
    /// way only when no contact has the number as its `phone` (so a known caller costs one
    /// request, and a contact's business number wins over another's mobile). Accounts, when
    /// no contact has it: from the org's accounts held in memory ([`AccountIndex`]: no request
    /// when they are current), or, for an org with too many to hold, a full-text search for
    /// each exact form (Zoho has no phone search for accounts).
    /// Several records with the number: see [`choose`]. Feature codes (`*`, `#`) match
    /// nobody.
    pub(crate) async fn search_number(
        &self,
        zoho: &ZohoConnection,
        ctx: &DeskCtx,
        raw: &str,
    ) -> Result<Option<ZohoRecord>, EngineError> {
        let policy = self.numbers;
        let Some(forms) = policy.search_forms(raw) else {
            return Ok(None);
        };
        let desk = Desk::new(zoho, ctx);
        let mut found: Vec<ZohoRecord> = Vec::new();
        for field in [PhoneField::Phone, PhoneField::Mobile] {
            if !found.is_empty() {
                // A business number's owner is not looked for among mobiles as well.
                break;
            }
            for page in 0..SEARCH_PAGES {
                let items = desk
                    .search_contacts_by_phone(field, &forms, page * SEARCH_PAGE, SEARCH_PAGE)
                    .await?;
                for v in &items {
                    let theirs =
                        text(v, field.as_str()).is_some_and(|n| policy.matches_stored(raw, &n));
                    if let Some(r) = theirs.then(|| ZohoRecord::from_contact(v)).flatten() {
                        if !found.iter().any(|f| f.id == r.id) {
                            found.push(r);
                        }
                    }
                }
                if items.len() < SEARCH_PAGE {
                    break;
                }
            }
        }
        if found.is_empty() {
            let held = self
                .accounts
                .matching(&desk, &ctx.org_id, policy, raw)
                .await?;
            found = match held {
                Some(accounts) => accounts,
                None => search_accounts(&desk, policy, raw, &forms).await?,
            };
        }
        let chosen = choose(found);
        if let Some(r) = chosen.as_ref().filter(|r| r.others > 0) {
            tracing::info!(
                others = r.others,
                chosen = %r.id,
                "several Zoho Desk records have this number: the most recently modified is used"
            );
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contact() -> ZohoRecord {
        ZohoRecord::from_contact(&json!({"id": "1", "lastName": "Young", "phone": "5503301"}))
            .unwrap()
    }

    #[test]
    fn records_from_zoho_shapes() {
        let c = ZohoRecord::from_contact(&json!({
            "id": "1", "firstName": "Jennifer", "lastName": "Lawrence", "phone": "+86 138",
            "mobile": null, "account": {"id": "9", "accountName": "Zylker"},
            "webUrl": "https://desk/x"
        }))
        .unwrap();
        assert_eq!(c.name, "Jennifer Lawrence");
        assert_eq!(c.company.as_deref(), Some("Zylker"));
        assert_eq!(c.mobile, None);
        let a = ZohoRecord::from_account(&json!({"id": "2", "accountName": "Acme", "phone": " "}))
            .unwrap();
        assert_eq!(
            (a.module, a.name.as_str(), a.phone),
            (ZohoModule::Accounts, "Acme", None)
        );
        assert!(ZohoRecord::from_contact(&json!({"lastName": "x"})).is_none());
    }

    #[test]
    fn records_sharing_a_number_are_chosen_the_same_way_every_time() {
        let rec = |module, id: &str, modified: Option<&str>| ZohoRecord {
            module,
            id: id.into(),
            first_name: None,
            last_name: Some(id.into()),
            name: id.into(),
            company: None,
            email: None,
            phone: None,
            mobile: None,
            web_url: None,
            modified: modified.map(str::to_string),
            others: 0,
        };
        let found = vec![
            rec(ZohoModule::Accounts, "a1", Some("2026-12-01T00:00:00.000Z")),
            rec(ZohoModule::Contacts, "c1", Some("2026-11-01T00:00:00.000Z")),
            rec(ZohoModule::Contacts, "c2", Some("2026-11-20T00:00:00.000Z")),
            rec(ZohoModule::Contacts, "c0", None),
        ];
        let mut reversed = found.clone();
        reversed.reverse();
        for list in [found, reversed] {
            let chosen = choose(list).unwrap();
            assert_eq!((chosen.id.as_str(), chosen.others), ("c2", 3));
        }
        assert_eq!(choose(Vec::new()), None);
    }

    #[test]
    fn cached_hits_last_ten_minutes_and_misses_one() {
        let c = LookupCache::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        c.put_at("hit", Some(contact()), t0);
        c.put_at("miss", None, t0);
        assert_eq!(c.get_at("hit", t0 + s(599)), Some(Some(contact())));
        assert_eq!(
            c.get_at("hit", t0 + s(601)),
            None,
            "a hit expires after 10 min"
        );
        assert_eq!(c.get_at("miss", t0 + s(59)), Some(None));
        assert_eq!(
            c.get_at("miss", t0 + s(61)),
            None,
            "a miss expires after 1 min"
        );
        // A fresh answer restarts the clock.
        c.put_at("miss", None, t0 + s(61));
        assert_eq!(c.get_at("miss", t0 + s(119)), Some(None));
        c.put_at("hit", Some(contact()), t0);
        c.clear();
        assert_eq!(c.get_at("hit", t0), None, "cleared (Disconnect)");
    }

    #[test]
    fn cache_keeps_hits_and_misses_and_forgets() {
        let c = LookupCache::default();
        assert_eq!(c.get("k"), None);
        c.put("k", None);
        assert_eq!(c.get("k"), Some(None));
        c.forget("k");
        assert_eq!(c.get("k"), None);
    }
}
