//! Calls in the store: events (unique by id), call state, derived facts. The engine runs
//! the call model between these functions inside one transaction ([`Store::begin`]), so an
//! event, the state it moved and the facts it made are written together or not at all.

use sqlx::Row;

use super::{DbRow, DbTx, Store, StoreError};
use crate::engine::calls::event::{to_native_json, CallEvent};
use crate::engine::calls::machine::{CallState, Fact};

/// A fact as the engine decided to store it: with the agent bound to its extension then.
#[derive(Clone, Debug, PartialEq)]
pub struct NewFact {
    pub fact: Fact,
    pub agent_id: Option<String>,
    /// Why this fact means no Zoho work (`unbound`, `disabled`, `not_connected`), if it does not.
    pub skip: Option<&'static str>,
    /// The Zoho work it causes, stored with it.
    pub jobs: Vec<super::jobs::NewJob>,
}

/// What an intake request did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Events stored now.
    pub stored: usize,
    /// Events already stored earlier (redeliveries), left as they were.
    pub duplicates: usize,
    /// Facts derived.
    pub facts: usize,
}

/// One call of the integration log.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRow {
    pub call_id: String,
    pub direction: String,
    pub external_number: Option<String>,
    pub extensions: Vec<String>,
    pub call_type: Option<String>,
    pub is_open: bool,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
    pub state: CallState,
}

/// One stored event of a call.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub event_id: String,
    pub source: String,
    pub kind: String,
    pub extension: Option<String>,
    pub at_ms: i64,
    pub received_ms: i64,
}

/// One stored fact of a call.
#[derive(Clone, Debug, PartialEq)]
pub struct FactRow {
    pub fact_id: i64,
    pub kind: String,
    pub extension: Option<String>,
    pub agent_id: Option<String>,
    pub skip: Option<String>,
    pub at_ms: i64,
    pub fact: Fact,
}

/// Filters of the integration log.
#[derive(Clone, Debug, Default)]
pub struct CallFilter {
    /// Digits to find anywhere in the outside number.
    pub number: Option<String>,
    /// The searched number's canonical key: a call with the same key matches in any format.
    pub number_key: Option<String>,
    pub extension: Option<String>,
    /// A call type (`Inbound Missed`…), `open`, or `internal`.
    pub outcome: Option<String>,
    /// Calls that started before this time (paging backwards).
    pub before_ms: Option<i64>,
    pub limit: i64,
}

fn extensions_field(st: &CallState) -> String {
    let mut exts: Vec<&str> = st.ringing.keys().map(String::as_str).collect();
    if let Some((x, _)) = &st.answered {
        exts.push(x);
    }
    if let Some(x) = st.ended.as_ref().and_then(|e| e.extension.as_deref()) {
        exts.push(x);
    }
    exts.sort();
    exts.dedup();
    format!(" {} ", exts.join(" "))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(Box::new(e)))
}

/// The transaction the engine writes one intake request (or one sweep of a call) in.
pub type Tx = DbTx<'static>;

/// Stores one event unless its `event_id` is known; whether it was new.
pub async fn insert_event(
    tx: &mut Tx,
    source: &str,
    ev: &CallEvent,
    received_ms: i64,
) -> Result<bool, StoreError> {
    let body = to_native_json(ev).to_string();
    let inserted = sqlx::query(
        "INSERT INTO call_event (event_id, call_id, source, kind, extension, at_ms, received_ms, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&ev.event_id)
    .bind(&ev.call_id)
    .bind(source)
    .bind(ev.kind.as_str())
    .bind(&ev.extension)
    .bind(ev.at_ms)
    .bind(received_ms)
    .bind(&body)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// The stored state of a call, if it has one.
pub async fn call_state(tx: &mut Tx, call_id: &str) -> Result<Option<CallState>, StoreError> {
    let json: Option<String> = sqlx::query("SELECT state FROM pbx_call WHERE call_id = $1")
        .bind(call_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.get(0));
    json.map(|j| serde_json::from_str(&j).map_err(json_err))
        .transpose()
}

/// The stored state of a call, read after taking the database's write lock (SQLite), so
/// that it cannot go stale before the transaction writes it back.
pub async fn call_state_for_update(
    tx: &mut Tx,
    call_id: &str,
) -> Result<Option<CallState>, StoreError> {
    sqlx::query("UPDATE pbx_call SET updated_ms = updated_ms WHERE call_id = $1")
        .bind(call_id)
        .execute(&mut **tx)
        .await?;
    call_state(tx, call_id).await
}

impl Store {
    /// A transaction for [`insert_event`], [`call_state`], [`save_call`] and [`insert_facts`].
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Holds these calls until the transaction ends, so that two instances on one PostgreSQL
    /// never apply events of one call at once (each would read the state the other is about
    /// to change). Taken in sorted order: two requests never wait for each other in a circle.
    /// SQLite needs nothing: it writes one transaction at a time.
    pub async fn hold_calls(&self, tx: &mut Tx, call_ids: &[&str]) -> Result<(), StoreError> {
        if self.dialect != super::Dialect::Postgres {
            return Ok(());
        }
        let mut ids = call_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// How many calls are in progress.
    pub async fn open_calls(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM pbx_call WHERE is_open = 1")
                .fetch_one(&self.pool)
                .await?
                .get(0),
        )
    }

    /// Open calls whose last event is older than `cutoff_ms`.
    pub async fn stale_calls(&self, cutoff_ms: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT call_id FROM pbx_call WHERE is_open = 1 AND last_at_ms < $1 ORDER BY last_at_ms",
        )
        .bind(cutoff_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Calls for the integration log, newest first.
    pub async fn calls(&self, f: &CallFilter) -> Result<Vec<CallRow>, StoreError> {
        let number = f
            .number
            .as_deref()
            .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|n| !n.is_empty())
            .map(|n| format!("%{n}%"));
        let extension = f.extension.as_deref().map(|x| format!("% {} %", x.trim()));
        let (call_type, open, internal) = match f.outcome.as_deref() {
            Some("open") => (None, Some(1_i64), false),
            Some("internal") => (None, None, true),
            Some(t) if !t.is_empty() => (Some(t.to_string()), None, false),
            _ => (None, None, false),
        };
        let rows = sqlx::query(
            "SELECT call_id, direction, external_number, extensions, call_type, is_open,
                    first_at_ms, last_at_ms, state
             FROM pbx_call
             WHERE ($1 IS NULL OR number_key = $8
                    OR REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(external_number, ''),
                        '+', ''), '-', ''), ' ', ''), '.', ''), '(', ''), ')', '') LIKE $1)
               AND ($2 IS NULL OR extensions LIKE $2)
               AND ($3 IS NULL OR call_type = $3)
               AND ($4 IS NULL OR is_open = $4)
               AND ($5 = 0 OR direction = 'internal')
               AND ($6 IS NULL OR first_at_ms < $6)
             ORDER BY first_at_ms DESC, call_id DESC
             LIMIT $7",
        )
        .bind(number)
        .bind(extension)
        .bind(call_type)
        .bind(open)
        .bind(internal as i64)
        .bind(f.before_ms)
        .bind(f.limit.clamp(1, 500))
        .bind(&f.number_key)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(call_row).collect()
    }

    pub async fn call(&self, call_id: &str) -> Result<Option<CallRow>, StoreError> {
        sqlx::query(
            "SELECT call_id, direction, external_number, extensions, call_type, is_open,
                    first_at_ms, last_at_ms, state
             FROM pbx_call WHERE call_id = $1",
        )
        .bind(call_id)
        .fetch_optional(&self.pool)
        .await?
        .map(call_row)
        .transpose()
    }

    pub async fn call_events(&self, call_id: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, source, kind, extension, at_ms, received_ms FROM call_event
             WHERE call_id = $1 ORDER BY at_ms, received_ms, event_id",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| EventRow {
                event_id: r.get(0),
                source: r.get(1),
                kind: r.get(2),
                extension: r.get(3),
                at_ms: r.get(4),
                received_ms: r.get(5),
            })
            .collect())
    }

    pub async fn call_facts(&self, call_id: &str) -> Result<Vec<FactRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT fact_id, kind, extension, agent_id, at_ms, body, skip FROM call_fact
             WHERE call_id = $1 ORDER BY fact_id",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let body: String = r.get(5);
                Ok(FactRow {
                    fact_id: r.get(0),
                    kind: r.get(1),
                    extension: r.get(2),
                    agent_id: r.get(3),
                    skip: r.get(6),
                    at_ms: r.get(4),
                    fact: serde_json::from_str(&body).map_err(json_err)?,
                })
            })
            .collect()
    }
}

fn call_row(r: DbRow) -> Result<CallRow, StoreError> {
    let exts: String = r.get(3);
    let state: String = r.get(8);
    Ok(CallRow {
        call_id: r.get(0),
        direction: r.get(1),
        external_number: r.get(2),
        extensions: exts.split_whitespace().map(str::to_string).collect(),
        call_type: r.get(4),
        is_open: r.get::<i64, _>(5) != 0,
        first_at_ms: r.get(6),
        last_at_ms: r.get(7),
        state: serde_json::from_str(&state).map_err(json_err)?,
    })
}

/// Stores a call's state (and the columns the log filters on).
pub async fn save_call(tx: &mut Tx, st: &CallState, now_ms: i64) -> Result<(), StoreError> {
    let state = serde_json::to_string(st).map_err(json_err)?;
    let call_type = st.outcome().map(|o| o.call_type.as_str().to_string());
    sqlx::query(
        "INSERT INTO pbx_call (call_id, direction, external_number, extensions, call_type, is_open,
                               first_at_ms, last_at_ms, updated_ms, state, number_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (call_id) DO UPDATE SET direction = $2, external_number = $3,
             extensions = $4, call_type = $5, is_open = $6, first_at_ms = $7, last_at_ms = $8,
             updated_ms = $9, state = $10, number_key = $11",
    )
    .bind(&st.call_id)
    .bind(st.direction.as_str())
    .bind(&st.external_number)
    .bind(extensions_field(st))
    .bind(call_type)
    .bind(st.is_open() as i64)
    .bind(st.first_at_ms)
    .bind(st.last_at_ms)
    .bind(now_ms)
    .bind(state)
    .bind(&st.number_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores the facts a call made, with the jobs they cause.
pub async fn insert_facts(
    tx: &mut Tx,
    call_id: &str,
    facts: &[NewFact],
    now_ms: i64,
) -> Result<(), StoreError> {
    for f in facts {
        insert_fact(tx, call_id, f, now_ms).await?;
    }
    Ok(())
}

async fn insert_fact(
    tx: &mut Tx,
    call_id: &str,
    f: &NewFact,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (at_ms, body) = match &f.fact {
        Fact::Ringing { at_ms, .. } => (*at_ms, serde_json::to_string(&f.fact)),
        Fact::Ended(o) => (o.ended_ms, serde_json::to_string(&f.fact)),
    };
    sqlx::query(
        "INSERT INTO call_fact (call_id, kind, extension, agent_id, at_ms, body, skip)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(call_id)
    .bind(f.fact.kind())
    .bind(f.fact.extension())
    .bind(&f.agent_id)
    .bind(at_ms)
    .bind(body.map_err(json_err)?)
    .bind(f.skip)
    .execute(&mut **tx)
    .await?;
    super::jobs::insert_jobs(tx, &f.jobs, now_ms).await?;
    Ok(())
}
