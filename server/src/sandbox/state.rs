//! The sandbox's in-memory state: registered clients, OAuth grants and tokens, the Desk data of
//! each org, fault switches and request counters. One mutex guards it; every handler holds it
//! only for the few microseconds its bookkeeping takes (never across an await).

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::model::{Account, Agent, Call, Contact, Department, Org, Ticket};
use super::seed::{self, FIRST_DYNAMIC_ID};

/// A client registered at the sandbox's accounts server (as in Zoho's API console).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: String,
    /// Shown on the consent page.
    pub name: String,
    pub redirect_uris: Vec<String>,
}

/// Fault switches and limits, as `GET /sandbox/control` shows them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// Added to every request to the accounts server and the Desk API.
    pub latency_ms: u64,
    /// Share (0.0–1.0) of Desk API requests answered `500 INTERNAL_SERVER_ERROR`.
    pub error_rate: f64,
    /// The next N Desk API requests are answered `500`.
    pub fail_next: u32,
    /// The next N Desk API requests are answered `429 TOO_MANY_REQUESTS` with `Retry-After`.
    pub throttle_next: u32,
    /// `Retry-After` seconds sent with a `429 TOO_MANY_REQUESTS`.
    pub retry_after_secs: u64,
    /// Daily API credit budget of the org (one credit per Desk request); `null` = unlimited.
    pub daily_credits: Option<u64>,
    /// Concurrent Desk requests allowed before `429 TOO_MANY_REQUESTS`; `null` = unlimited.
    pub concurrency_limit: Option<u32>,
    /// Everything (accounts server and Desk API) answers `503`.
    pub outage: bool,
    /// Lifetime of new access tokens (Zoho: 3600 s).
    pub access_token_lifetime_secs: u64,
    /// Lifetime of grant codes (Zoho: about 2 minutes).
    pub code_lifetime_secs: u64,
    /// Access tokens that may be minted per refresh token in 10 minutes (Zoho: 10).
    pub refresh_limit_per_10min: u32,
    /// Access tokens valid at once per refresh token; older ones stop working (Zoho: 10).
    pub max_access_tokens_per_refresh: usize,
    /// Refresh tokens per user and client; the oldest is deleted when exceeded (Zoho: 20).
    pub max_refresh_tokens_per_client: usize,
    /// Seconds added to the wall clock: lets tests expire codes and tokens without sleeping.
    pub clock_offset_secs: i64,
    /// Seconds before a new record appears in searches (Zoho's search index lags its data;
    /// lists and reads by id do not).
    pub indexing_delay_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            latency_ms: 0,
            error_rate: 0.0,
            fail_next: 0,
            throttle_next: 0,
            retry_after_secs: 5,
            daily_credits: None,
            concurrency_limit: None,
            outage: false,
            access_token_lifetime_secs: 3600,
            code_lifetime_secs: 120,
            refresh_limit_per_10min: 10,
            max_access_tokens_per_refresh: 10,
            max_refresh_tokens_per_client: 20,
            clock_offset_secs: 0,
            indexing_delay_secs: 2,
        }
    }
}

/// One org's Desk data.
pub struct OrgData {
    pub org: Org,
    pub departments: Vec<Department>,
    pub agents: Vec<Agent>,
    pub contacts: BTreeMap<u64, Contact>,
    pub accounts: BTreeMap<u64, Account>,
    pub tickets: BTreeMap<u64, Ticket>,
    pub calls: BTreeMap<u64, Call>,
    pub next_ticket_number: u64,
    /// Channels the org's ticket layout accepts (Zoho: a portal-dependent picklist).
    pub channels: Vec<&'static str>,
}

impl OrgData {
    pub fn new(
        org: Org,
        departments: Vec<Department>,
        agents: Vec<Agent>,
        contacts: Vec<Contact>,
        accounts: Vec<Account>,
    ) -> Self {
        OrgData {
            org,
            departments,
            agents,
            contacts: contacts.into_iter().map(|c| (c.id, c)).collect(),
            accounts: accounts.into_iter().map(|a| (a.id, a)).collect(),
            tickets: BTreeMap::new(),
            calls: BTreeMap::new(),
            next_ticket_number: 101,
            channels: vec![
                "Phone",
                "Email",
                "Web",
                "Chat",
                "Forums",
                "Twitter",
                "Facebook",
                "Feedback Widget",
            ],
        }
    }

    pub fn agent(&self, id: u64) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id == id)
    }

    pub fn department(&self, id: u64) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }
}

pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    /// The organizations the user chose at the consent page: the tokens reach only these.
    pub orgs: Vec<u64>,
    pub issue_refresh_token: bool,
    pub expires: OffsetDateTime,
    pub used: bool,
}

pub struct RefreshToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub orgs: Vec<u64>,
    pub created: OffsetDateTime,
    /// When access tokens were minted from it (for the 10-per-10-minutes limit).
    pub minted: VecDeque<OffsetDateTime>,
    /// Access tokens minted from it, oldest first.
    pub access_tokens: VecDeque<String>,
}

pub struct AccessToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub orgs: Vec<u64>,
    pub expires: OffsetDateTime,
    pub refresh_token: Option<String>,
}

/// An authorization request waiting at the consent page.
pub struct PendingConsent {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub offline: bool,
    pub prompt_consent: bool,
    pub created: OffsetDateTime,
}

/// Request counters, by operation (`"GET /contacts/search"`).
#[derive(Default, Serialize)]
pub struct Stats {
    pub total: u64,
    pub by_operation: BTreeMap<String, u64>,
}

pub struct State {
    pub settings: Settings,
    pub clients: Vec<RegisteredClient>,
    pub orgs: Vec<OrgData>,
    pub admin_agent_id: u64,
    pub codes: HashMap<String, AuthCode>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub consents: HashMap<String, PendingConsent>,
    pub stats: Stats,
    pub credits_used: u64,
    pub credits_day: Option<time::Date>,
    pub next_id: u64,
}

impl State {
    pub fn new(clients: Vec<RegisteredClient>) -> Self {
        let seed = seed::seed(OffsetDateTime::now_utc());
        State {
            settings: Settings::default(),
            clients,
            orgs: vec![seed.org],
            admin_agent_id: seed.admin_agent_id,
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            consents: HashMap::new(),
            stats: Stats::default(),
            credits_used: 0,
            credits_day: None,
            next_id: FIRST_DYNAMIC_ID,
        }
    }

    /// Back to the seed data, default settings and zeroed counters. Clients and tokens stay,
    /// so a connected app stays connected; `revoke_all` cuts those.
    pub fn reset(&mut self) {
        let seed = seed::seed(OffsetDateTime::now_utc());
        self.settings = Settings::default();
        self.orgs = vec![seed.org];
        self.admin_agent_id = seed.admin_agent_id;
        self.stats = Stats::default();
        self.credits_used = 0;
        self.credits_day = None;
        self.next_id = FIRST_DYNAMIC_ID;
    }

    pub fn revoke_all(&mut self) {
        self.codes.clear();
        self.refresh_tokens.clear();
        self.access_tokens.clear();
    }

    /// The sandbox's clock: wall time plus the offset tests set.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::seconds(self.settings.clock_offset_secs)
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn org(&self, id: u64) -> Option<&OrgData> {
        self.orgs.iter().find(|o| o.org.id == id)
    }

    pub fn org_mut(&mut self, id: u64) -> Option<&mut OrgData> {
        self.orgs.iter_mut().find(|o| o.org.id == id)
    }

    pub fn admin_agent(&self) -> &Agent {
        self.orgs[0]
            .agent(self.admin_agent_id)
            .unwrap_or(&self.orgs[0].agents[0])
    }

    pub fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// Mints an access token (and links it to its refresh token, evicting the oldest ones past
    /// the per-refresh-token limit).
    pub fn mint_access_token(
        &mut self,
        client_id: &str,
        scopes: Vec<String>,
        orgs: Vec<u64>,
        refresh_token: Option<&str>,
    ) -> String {
        let token = token("1000");
        let expires =
            self.now() + Duration::seconds(self.settings.access_token_lifetime_secs as i64);
        if let Some(rt) = refresh_token.and_then(|r| self.refresh_tokens.get_mut(r)) {
            rt.access_tokens.push_back(token.clone());
            while rt.access_tokens.len() > self.settings.max_access_tokens_per_refresh {
                if let Some(old) = rt.access_tokens.pop_front() {
                    self.access_tokens.remove(&old);
                }
            }
        }
        self.access_tokens.insert(
            token.clone(),
            AccessToken {
                client_id: client_id.to_string(),
                scopes,
                orgs,
                expires,
                refresh_token: refresh_token.map(str::to_string),
            },
        );
        token
    }

    pub fn mint_refresh_token(
        &mut self,
        client_id: &str,
        scopes: Vec<String>,
        orgs: Vec<u64>,
    ) -> String {
        let token = token("1000");
        let now = self.now();
        // Zoho keeps at most 20 refresh tokens per user and client: the oldest goes.
        let mut mine: Vec<(OffsetDateTime, String)> = self
            .refresh_tokens
            .iter()
            .filter(|(_, r)| r.client_id == client_id)
            .map(|(k, r)| (r.created, k.clone()))
            .collect();
        mine.sort();
        while mine.len() >= self.settings.max_refresh_tokens_per_client {
            let (_, old) = mine.remove(0);
            self.revoke_refresh_token(&old);
        }
        self.refresh_tokens.insert(
            token.clone(),
            RefreshToken {
                client_id: client_id.to_string(),
                scopes,
                orgs,
                created: now,
                minted: VecDeque::new(),
                access_tokens: VecDeque::new(),
            },
        );
        token
    }

    /// Revokes a refresh token and every access token minted from it.
    pub fn revoke_refresh_token(&mut self, token: &str) -> bool {
        match self.refresh_tokens.remove(token) {
            Some(rt) => {
                for at in rt.access_tokens {
                    self.access_tokens.remove(&at);
                }
                true
            }
            None => false,
        }
    }

    pub fn has_refresh_token_for(&self, client_id: &str) -> bool {
        self.refresh_tokens
            .values()
            .any(|r| r.client_id == client_id)
    }
}

/// A Zoho-looking token: `1000.<32 hex>.<32 hex>`.
pub fn token(prefix: &str) -> String {
    let a: u128 = rand::random();
    let b: u128 = rand::random();
    format!("{prefix}.{a:032x}.{b:032x}")
}
