//! Calls in: the wire formats ([`event`]), the call model ([`machine`]), and the engine's
//! intake — authentication of the PBX, durable and idempotent storage, facts.

pub mod event;
pub mod log;
pub mod machine;
pub mod simulator;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::gates::Gates;
use super::numbers::NumberPolicy;
use super::secrets::{SecretBox, Sensitive};
use super::store::calls::{self as calls_db, IngestReport, NewFact};
use super::store::{Dialect, Store, StoreError};
use super::{Engine, EngineError};
use event::{parse_native, parse_yeastar, CallEvent, ParseError, YeastarBody};
use machine::{CallState, Fact};

/// The formats call events arrive in (docs/call-events.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntakeFormat {
    /// Ours: `POST /api/pbx/call-events`.
    Native,
    /// The Yeastar P-Series OpenAPI's event bodies: `POST /api/pbx/yeastar-events`.
    Yeastar,
}

impl IntakeFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            IntakeFormat::Native => "native",
            IntakeFormat::Yeastar => "yeastar",
        }
    }
}

/// What the intake did with a request it took.
#[derive(Debug)]
pub enum Accepted {
    Stored(IngestReport),
    /// A kind of event the integration does not use (a Yeastar event type number), taken and
    /// dropped.
    Ignored {
        event_type: i64,
    },
    /// A call the PBX could not set up (30015): told to its extensions' agents.
    Failed {
        call_id: String,
    },
    /// An extension's phone changed (30008): kept for the extensions page.
    Phone {
        extension: String,
    },
}

/// Why the intake refused a request.
#[derive(Debug)]
pub enum Refusal {
    /// No credential, or a wrong one.
    Unauthorized,
    /// The body is not a valid request of its format (the field is named).
    Invalid(ParseError),
    /// Storage failed: nothing was stored; the same delivery may be sent again.
    Unavailable(EngineError),
}

/// A call with no event for this long is closed (as failed, or answered if it was).
pub const DEFAULT_CALL_TIMEOUT_MS: i64 = 4 * 3600 * 1000;

const WEBHOOK_SECRET: &str = "webhook_secret";
const PURPOSE_WEBHOOK: &str = "pbx.webhook_secret";

/// The purpose an `app_secret` row is sealed for (its name, namespaced).
pub(crate) fn app_secret_purpose(name: &str) -> &'static str {
    match name {
        WEBHOOK_SECRET => PURPOSE_WEBHOOK,
        super::store::pbx::PBX_SECRET_NAME => super::pbx_connection::PURPOSE_PBX_SECRET,
        super::store::pbx::PBX_PUSH_SECRET_NAME => super::pbx_connection::PURPOSE_PBX_PUSH_SECRET,
        _ => "app.unknown",
    }
}

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The integration's state as the intake sees it (cached; see
/// `ZohoConnection::reload_switch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    NotConnected,
    Off,
    On,
    /// Connected to an org and switched on, but the authorization has expired (or is being
    /// renewed): calls are planned as when on, and their Zoho work waits.
    Paused,
}

/// How an intake request proved it comes from the PBX.
#[derive(Clone, Copy, Debug)]
pub enum IntakeCredential<'a> {
    /// `X-Helpdesk-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
    Signature(&'a str),
    /// `Authorization: Bearer <secret>`.
    Bearer(&'a str),
    /// `?token=<secret>` (Yeastar intake only).
    Token(&'a str),
    /// The vendor's own `X-Signature: <Base64 HMAC-SHA256(PBX webhook secret, body)>`
    /// (Yeastar intake only), checked with the webhook secret saved on the PBX page.
    PbxSignature(&'a str),
    None,
}

fn eq_ct(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `sha256=<hex>` of the body under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a credential against the secret in constant time.
pub fn verify(secret: &Sensitive, cred: IntakeCredential<'_>, body: &[u8]) -> bool {
    match cred {
        IntakeCredential::Signature(sig) => {
            let Some(hexed) = sig.trim().strip_prefix("sha256=") else {
                return false;
            };
            let Ok(given) = hex::decode(hexed) else {
                return false;
            };
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("any key length");
            mac.update(body);
            mac.verify_slice(&given).is_ok()
        }
        IntakeCredential::Bearer(t) | IntakeCredential::Token(t) => {
            eq_ct(t.trim().as_bytes(), secret.expose().as_bytes())
        }
        IntakeCredential::PbxSignature(_) | IntakeCredential::None => false,
    }
}

/// The call-event intake's own state: its secret, its one writer at a time, and the signal of
/// changed calls the pages watch. What an event causes elsewhere (the agents told, the other
/// instances, the job runner woken) it does through the engine it is given.
#[derive(Debug)]
pub struct Intake {
    store: Store,
    secrets: SecretBox,
    numbers: NumberPolicy,
    /// The PBX's clock offset from UTC (the vendor's CDR times are local).
    pbx_utc_offset: time::UtcOffset,
    /// The shared secret intake requests present (see [`Intake::init_webhook_secret`]).
    webhook_secret: std::sync::RwLock<Option<Sensitive>>,
    /// Events of one call apply one request at a time, in arrival order (see
    /// [`Intake::writer_keys`]).
    writers: Gates,
    /// Bumped whenever a call (or its Zoho work) changes.
    changed: tokio::sync::watch::Sender<u64>,
}

impl Intake {
    pub fn new(
        store: Store,
        secrets: SecretBox,
        numbers: NumberPolicy,
        pbx_utc_offset: time::UtcOffset,
    ) -> Intake {
        Intake {
            store,
            secrets,
            numbers,
            pbx_utc_offset,
            webhook_secret: Default::default(),
            writers: Gates::default(),
            // A random start: a page open across a restart still sees a change.
            changed: tokio::sync::watch::Sender::new(rand::random::<u32>() as u64),
        }
    }

    /// Tells the pages that show calls that one changed.
    pub fn note_changed(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    /// A stamp that changes whenever a call or its Zoho work changes: the log polls it for
    /// live updates (a counter in memory, no query per poll).
    pub fn calls_version(&self) -> String {
        self.changed.borrow().to_string()
    }

    /// The stamp as it moves (tests wait on it instead of polling).
    pub fn calls_watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Sets the webhook secret: `HELPDESK_WEBHOOK_SECRET` when configured, else the one
    /// generated on a first start and kept sealed in the database.
    pub async fn init_webhook_secret(&self, configured: Option<&str>) -> Result<(), EngineError> {
        let secret = match configured {
            Some(s) => Sensitive::new(s),
            None => match self.store.app_secret(WEBHOOK_SECRET).await? {
                Some(sealed) => self.secrets.open(PURPOSE_WEBHOOK, &sealed)?,
                None => {
                    let fresh = Sensitive::new(hex::encode(rand::random::<[u8; 24]>()));
                    let sealed = self.secrets.seal(PURPOSE_WEBHOOK, &fresh);
                    self.store
                        .set_app_secret(WEBHOOK_SECRET, &sealed, now_ms() / 1000)
                        .await?;
                    fresh
                }
            },
        };
        *self
            .webhook_secret
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(secret);
        Ok(())
    }

    /// The secret the PBX must present; shown to the admin, never logged.
    pub fn webhook_secret(&self) -> Option<Sensitive> {
        self.webhook_secret
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether an intake request carries the webhook secret (or, from the vendor's PBX, its
    /// own signature).
    pub fn authorize(
        &self,
        pbx: &super::pbx_connection::PbxConnection,
        format: IntakeFormat,
        cred: IntakeCredential<'_>,
        body: &[u8],
    ) -> bool {
        match cred {
            IntakeCredential::PbxSignature(sig) => {
                format == IntakeFormat::Yeastar
                    && pbx.push_secret().is_some_and(|s| {
                        crate::engine::yeastar::push_signature_valid(s.expose(), body, sig)
                    })
            }
            IntakeCredential::Token(_) if format != IntakeFormat::Yeastar => false,
            _ => self
                .webhook_secret()
                .is_some_and(|s| verify(&s, cred, body)),
        }
    }

    /// The intake: checks the credential, reads the body in its format, stores its events;
    /// `engine`'s services hear what they cause.
    pub async fn accept(
        &self,
        engine: &Engine,
        format: IntakeFormat,
        credential: IntakeCredential<'_>,
        body: &[u8],
    ) -> Result<Accepted, Refusal> {
        if !self.authorize(&engine.pbx_connection, format, credential, body) {
            return Err(Refusal::Unauthorized);
        }
        self.accept_verified(engine, format, body).await
    }

    /// The intake after the sender is known: a request that passed the credential check, or
    /// an event from the PBX's own socket (which this app opened with the PBX's token).
    pub async fn accept_verified(
        &self,
        engine: &Engine,
        format: IntakeFormat,
        body: &[u8],
    ) -> Result<Accepted, Refusal> {
        let events = match format {
            IntakeFormat::Native => parse_native(body).map_err(Refusal::Invalid)?,
            IntakeFormat::Yeastar => {
                match parse_yeastar(body, now_ms(), self.pbx_utc_offset)
                    .map_err(Refusal::Invalid)?
                {
                    YeastarBody::Events(events) => events,
                    YeastarBody::Ignored { event_type } => {
                        return Ok(Accepted::Ignored { event_type })
                    }
                    YeastarBody::Failed(failure) => {
                        tracing::info!(call_id = %failure.call_id, reason = %failure.reason, "the PBX could not place a call");
                        engine.agents.call_failed(&failure);
                        engine.bus.tell(super::bus::Notice::CallFailed {
                            call_id: failure.call_id.clone(),
                            reason: failure.reason.clone(),
                            extensions: failure.extensions.clone(),
                        });
                        return Ok(Accepted::Failed {
                            call_id: failure.call_id,
                        });
                    }
                    YeastarBody::Phone { extension, status } => {
                        engine.pbx_connection.set_phone(&extension, status);
                        engine.bus.tell(super::bus::Notice::Phone {
                            extension: extension.clone(),
                            status,
                        });
                        return Ok(Accepted::Phone { extension });
                    }
                }
            }
        };
        self.ingest(engine, format.as_str(), &events)
            .await
            .map(Accepted::Stored)
            .map_err(Refusal::Unavailable)
    }

    /// Stores events durably and idempotently and derives their facts, in one transaction
    /// per request. Redelivered events (same `event_id`) change nothing.
    #[tracing::instrument(name = "intake", skip_all, fields(source, events = events.len()))]
    pub async fn ingest(
        &self,
        engine: &Engine,
        source: &str,
        events: &[CallEvent],
    ) -> Result<IngestReport, EngineError> {
        let ids: Vec<&str> = events.iter().map(|e| e.call_id.as_str()).collect();
        let _turns = self.writers.turns(&self.writer_keys(&ids)).await;
        let decide = fact_decider(engine);
        let numbers = self.numbers;
        let received_ms = now_ms();
        // For the agents, once committed: each call's latest state, and where it began ringing.
        let mut changed: Vec<CallState> = Vec::new();
        let mut rang: Vec<(String, String)> = Vec::new();
        let mut report = IngestReport::default();
        // One transaction per request: the events, the states they moved, the facts and jobs.
        let mut tx = self.store.begin().await?;
        self.store.hold_calls(&mut tx, &ids).await?;
        for ev in events {
            if !calls_db::insert_event(&mut tx, source, ev, received_ms).await? {
                report.duplicates += 1;
                continue;
            }
            report.stored += 1;
            let mut state = calls_db::call_state(&mut tx, &ev.call_id)
                .await?
                .unwrap_or_else(|| CallState::new(ev));
            let facts = state.apply(ev);
            if state.number_key.is_none() {
                state.number_key = state.external_number.as_deref().map(|n| numbers.key(n));
            }
            let facts: Vec<NewFact> = facts.into_iter().map(|f| decide(f, &state)).collect();
            calls_db::save_call(&mut tx, &state, received_ms).await?;
            calls_db::insert_facts(&mut tx, &state.call_id, &facts, received_ms).await?;
            report.facts += facts.len();
            note_change(&mut changed, &mut rang, &state, &facts);
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.calls_committed(engine, &changed, rang, report.stored > 0);
        let m = &engine.metrics;
        m.add(
            "helpdesk_call_events_total",
            &[("result", "stored")],
            report.stored as u64,
        );
        m.add(
            "helpdesk_call_events_total",
            &[("result", "duplicate")],
            report.duplicates as u64,
        );
        Ok(report)
    }

    /// Whose turn a request that writes these calls waits for. SQLite: the database's (it has
    /// one writer; a second write transaction would wait on its file lock or fail busy).
    /// PostgreSQL: each call's, so requests for different calls write at once; the
    /// transaction's per-call locks order the instances among themselves.
    fn writer_keys<'a>(&self, call_ids: &[&'a str]) -> Vec<&'a str> {
        match self.store.dialect() {
            Dialect::Sqlite => vec![""],
            Dialect::Postgres => call_ids.to_vec(),
        }
    }

    /// After calls' transaction committed: their agents here are told, and the other
    /// instances (which tell theirs); `new_work`: facts were made, the job runners look.
    fn calls_committed(
        &self,
        engine: &Engine,
        changed: &[CallState],
        rang: Vec<(String, String)>,
        new_work: bool,
    ) {
        super::agent::publish_calls(engine, changed, &rang);
        let ids = changed.iter().map(|s| s.call_id.clone()).collect();
        for notice in super::bus::calls_notices(ids, rang) {
            engine.bus.tell(notice);
        }
        if new_work {
            self.note_changed();
            engine.jobs.wake();
            engine.bus.tell(super::bus::Notice::Jobs);
        }
    }

    /// Closes the calls that saw no event for `timeout_ms`; returns how many facts that made.
    pub async fn close_stale_calls(
        &self,
        engine: &Engine,
        now_ms: i64,
        timeout_ms: i64,
    ) -> Result<usize, EngineError> {
        let decide = fact_decider(engine);
        let mut facts = 0;
        let mut changed: Vec<CallState> = Vec::new();
        let mut rang = Vec::new();
        for call_id in self.store.stale_calls(now_ms - timeout_ms).await? {
            let _turns = self.writers.turns(&self.writer_keys(&[&call_id])).await;
            let mut tx = self.store.begin().await?;
            self.store.hold_calls(&mut tx, &[&call_id]).await?;
            let Some(mut st) = calls_db::call_state_for_update(&mut tx, &call_id).await? else {
                continue;
            };
            let made: Vec<NewFact> = st
                .close_if_stale(now_ms, timeout_ms)
                .into_iter()
                .map(|f| decide(f, &st))
                .collect();
            calls_db::save_call(&mut tx, &st, now_ms).await?;
            calls_db::insert_facts(&mut tx, &call_id, &made, now_ms).await?;
            tx.commit().await.map_err(StoreError::from)?;
            facts += made.len();
            note_change(&mut changed, &mut rang, &st, &made);
        }
        self.calls_committed(engine, &changed, rang, facts > 0);
        Ok(facts)
    }
}

/// Whether a fact means Zoho work now — its extension is bound, the integration is
/// connected and switched on — and which jobs it causes under the rules. Facts made while
/// it is off stay off (switching on does not replay the calls of the pause).
fn fact_decider(engine: &Engine) -> impl Fn(Fact, &CallState) -> NewFact + '_ {
    let dir = engine.directory.get();
    let switch = engine.zoho.switch();
    let rules = engine.rules.current();
    let metrics = &engine.metrics;
    move |fact: Fact, state: &CallState| {
        // The agent the Zoho work is for: the extension that answered (or that the PBX
        // named); for a call nobody answered, the first extension that rang and is bound
        // (a ring group's unbound first member does not lose the call).
        let agent = match &fact {
            Fact::Ended(o) if o.answered_ms.is_none() => fact
                .extension()
                .into_iter()
                .chain(o.rang.iter().map(String::as_str))
                .find_map(|x| dir.by_extension(x)),
            _ => fact.extension().and_then(|x| dir.by_extension(x)),
        }
        .cloned();
        let agent_id = agent.as_ref().map(|b| b.agent_id.clone());
        let skip = match (switch, &agent_id) {
            (Switch::NotConnected, _) => Some("not_connected"),
            (Switch::Off, _) => Some("disabled"),
            (Switch::On | Switch::Paused, None) => Some("unbound"),
            (Switch::On | Switch::Paused, Some(_)) => None,
        };
        metrics.inc(
            "helpdesk_call_facts_total",
            &[("kind", fact.kind()), ("skip", skip.unwrap_or("none"))],
        );
        let jobs = match skip {
            Some(_) => Vec::new(),
            None => super::rules::plan(
                &fact,
                &state.call_id,
                state.direction,
                state.number_key.as_deref().unwrap_or(""),
                agent.as_deref(),
                &rules,
            ),
        };
        NewFact {
            fact,
            agent_id,
            skip,
            jobs,
        }
    }
}

/// Keeps a call's latest state, and the extensions that began ringing for Zoho (a pop may
/// follow), for [`crate::engine::agent::publish_calls`].
fn note_change(
    changed: &mut Vec<CallState>,
    rang: &mut Vec<(String, String)>,
    state: &CallState,
    facts: &[NewFact],
) {
    match changed.iter_mut().find(|s| s.call_id == state.call_id) {
        Some(s) => *s = state.clone(),
        None => changed.push(state.clone()),
    }
    for f in facts {
        if let (Fact::Ringing { extension, .. }, None) = (&f.fact, f.skip) {
            rang.push((state.call_id.clone(), extension.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bearer_and_token() {
        let secret = Sensitive::new("s3cret");
        let body = br#"{"a":1}"#;
        let sig = sign("s3cret", body);
        assert!(verify(&secret, IntakeCredential::Signature(&sig), body));
        assert!(!verify(
            &secret,
            IntakeCredential::Signature(&sig),
            b"{\"a\":2}"
        ));
        assert!(!verify(
            &secret,
            IntakeCredential::Signature(&sign("other", body)),
            body
        ));
        assert!(!verify(
            &secret,
            IntakeCredential::Signature("sha256=zz"),
            body
        ));
        assert!(!verify(
            &secret,
            IntakeCredential::Signature(sig.trim_start_matches("sha256=")),
            body
        ));
        assert!(verify(&secret, IntakeCredential::Bearer("s3cret"), body));
        assert!(verify(&secret, IntakeCredential::Token("s3cret"), body));
        assert!(!verify(&secret, IntakeCredential::Token("s3cre"), body));
        assert!(!verify(&secret, IntakeCredential::None, body));
    }
}
