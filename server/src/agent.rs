//! The agent web client's live connection: `GET /api/agent/events`, server-sent events of the
//! signed-in agent's extension only (calls changing, screen pops), for as long as its sign-in
//! is good. The browser's `EventSource` reconnects by itself; each new connection first
//! repeats the pops still waiting for the agent, so a pop survives a dropped connection.
//!
//! A connection lives only as long as its session: signing out (agent or admin, in the same
//! browser), the session's expiry, or a changed web-client password end it with `signed_out`.
//! Connections are capped per extension and in total.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{broadcast, watch};
use tower_sessions::session::Id;
use tower_sessions::{Session, SessionStore};

use app::api::ssr::SESSION_AGENT;
use app::engine::agent::ExtensionEvent;
use app::engine::directory::extensions::AgentSession;
use app::engine::SharedEngine;
use app::model::AgentEvent;

pub const EVENTS_PATH: &str = "/api/agent/events";

/// Live connections one extension may hold (its agent's tabs and windows).
pub const MAX_PER_EXTENSION: usize = 8;
/// Live connections in all.
pub const MAX_TOTAL: usize = 2000;

#[derive(Clone)]
struct Hub {
    engine: SharedEngine,
    sessions: Arc<dyn SessionStore>,
    slots: Arc<Slots>,
}

pub fn router<S: Clone + Send + Sync + 'static>(
    engine: SharedEngine,
    sessions: Arc<dyn SessionStore>,
) -> Router<S> {
    Router::new()
        .route(EVENTS_PATH, get(events))
        .with_state(Hub {
            engine,
            sessions,
            slots: Arc::default(),
        })
}

/// Live connections open, per extension.
#[derive(Default)]
struct Slots(Mutex<HashMap<String, usize>>);

/// A live connection's place, given back when it ends.
struct Slot {
    slots: Arc<Slots>,
    extension: String,
}

impl Slots {
    fn take(self: &Arc<Self>, extension: &str) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = open.values().sum();
        let mine = open.get(extension).copied().unwrap_or(0);
        if total >= MAX_TOTAL || mine >= MAX_PER_EXTENSION {
            return None;
        }
        open.insert(extension.to_string(), mine + 1);
        Some(Slot {
            slots: self.clone(),
            extension: extension.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.extension) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.extension);
            }
        }
    }
}

struct Feed {
    engine: SharedEngine,
    agent: AgentSession,
    sessions: Arc<dyn SessionStore>,
    session_id: Id,
    /// When the session expires, as last read from the store.
    expires: tokio::time::Instant,
    rx: broadcast::Receiver<ExtensionEvent>,
    access: watch::Receiver<u64>,
    queue: VecDeque<AgentEvent>,
    done: bool,
    _slot: Slot,
}

/// The stored session's expiry, if it still signs this agent in.
async fn still_signed_in(
    sessions: &dyn SessionStore,
    id: &Id,
    agent: &AgentSession,
) -> Option<tokio::time::Instant> {
    let record = sessions.load(id).await.ok()??;
    let left = record.expiry_date - time::OffsetDateTime::now_utc();
    let stored = record.data.get(SESSION_AGENT)?;
    if left <= time::Duration::ZERO || serde_json::to_value(agent).ok()? != *stored {
        return None;
    }
    Some(tokio::time::Instant::now() + Duration::try_from(left).ok()?)
}

fn sse(ev: &AgentEvent) -> Event {
    Event::default()
        .json_data(ev)
        .unwrap_or_else(|_| Event::default().comment("unserializable"))
}

impl Feed {
    /// Whether the agent may still see its calls (the session, the extension, its password);
    /// if not, the stream says `signed_out` and ends.
    async fn recheck(&mut self) {
        let session = still_signed_in(&*self.sessions, &self.session_id, &self.agent).await;
        let extension = matches!(
            self.engine.directory.signed_in_extension(&self.agent).await,
            Ok(Some(_))
        );
        match session {
            Some(expires) if extension => self.expires = expires,
            _ => {
                self.queue.push_back(AgentEvent::SignedOut);
                self.done = true;
            }
        }
    }

    /// The next event for this agent, or the end of the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Feed)> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Some((Ok(sse(&ev)), self));
            }
            if self.done {
                return None;
            }
            // Sign-out and expiry first: an agent who signed out gets no further event.
            tokio::select! {
                biased;
                changed = self.access.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    self.recheck().await;
                }
                _ = tokio::time::sleep_until(self.expires) => self.recheck().await,
                got = self.rx.recv() => match got {
                    Ok(e) if e.extension == self.agent.extension => self.queue.push_back(e.event),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Missed events: the calls are re-read, and pops still waiting repeated.
                        self.queue.push_back(AgentEvent::Resync);
                        let pops = app::engine::agent::pending_pops(&self.engine, &self.agent.extension).await;
                        self.queue.extend(pops.unwrap_or_default().into_iter().map(AgentEvent::Pop));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

async fn events(State(hub): State<Hub>, session: Session) -> Response {
    let Hub {
        engine,
        sessions,
        slots,
    } = hub;
    let unauthorized =
        || (StatusCode::UNAUTHORIZED, "sign in to the agent web client").into_response();
    let (Ok(Some(agent)), Some(session_id)) = (
        session.get::<AgentSession>(SESSION_AGENT).await,
        session.id(),
    ) else {
        return unauthorized();
    };
    let Some(expires) = still_signed_in(&*sessions, &session_id, &agent).await else {
        return unauthorized();
    };
    match engine.directory.signed_in_extension(&agent).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return (StatusCode::UNAUTHORIZED, "sign in to the agent web client").into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "agent events: store");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let Some(slot) = slots.take(&agent.extension) else {
        tracing::warn!(extension = %agent.extension, "agent events: too many live connections");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, "30")],
            "too many live connections: close some of this agent's tabs",
        )
            .into_response();
    };
    // Subscribe first, then read what is pending: nothing falls between the two.
    let rx = engine.agents.events();
    let access = engine.directory.access_changes();
    let pending = app::engine::agent::pending_pops(&engine, &agent.extension)
        .await
        .unwrap_or_default();
    let feed = Feed {
        engine,
        agent,
        sessions,
        session_id,
        expires,
        rx,
        access,
        queue: pending.into_iter().map(AgentEvent::Pop).collect(),
        done: false,
        _slot: slot,
    };
    let hello = futures::stream::once(async {
        Ok::<_, Infallible>(
            Event::default()
                .retry(Duration::from_secs(2))
                .comment("hello"),
        )
    });
    let stream = futures::StreamExt::chain(hello, futures::stream::unfold(feed, Feed::next));
    let mut resp = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // Through proxies as it comes, never cached.
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    resp
}
