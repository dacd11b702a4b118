//! The agent web client's live connection: `GET /api/agent/events`, server-sent events of the
//! signed-in agent's extension only (calls changing, screen pops), for as long as its sign-in
//! is good. The browser's `EventSource` reconnects by itself; each new connection first
//! repeats the pops still waiting for the agent, so a pop survives a dropped connection.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{broadcast, watch};
use tower_sessions::Session;

use app::api::ssr::SESSION_AGENT;
use app::engine::agent::{AgentSession, ExtensionEvent};
use app::engine::SharedEngine;
use app::model::AgentEvent;

pub const EVENTS_PATH: &str = "/api/agent/events";

pub fn router<S: Clone + Send + Sync + 'static>(engine: SharedEngine) -> Router<S> {
    Router::new()
        .route(EVENTS_PATH, get(events))
        .with_state(engine)
}

struct Feed {
    engine: SharedEngine,
    agent: AgentSession,
    rx: broadcast::Receiver<ExtensionEvent>,
    access: watch::Receiver<u64>,
    queue: VecDeque<AgentEvent>,
    done: bool,
}

fn sse(ev: &AgentEvent) -> Event {
    Event::default()
        .json_data(ev)
        .unwrap_or_else(|_| Event::default().comment("unserializable"))
}

impl Feed {
    /// The next event for this agent, or the end of the stream.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Feed)> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Some((Ok(sse(&ev)), self));
            }
            if self.done {
                return None;
            }
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(e) if e.extension == self.agent.extension => self.queue.push_back(e.event),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Missed events: the calls are re-read, and pops still waiting repeated.
                        self.queue.push_back(AgentEvent::Resync);
                        let pops = self.engine.pending_pops(&self.agent.extension).await;
                        self.queue.extend(pops.unwrap_or_default().into_iter().map(AgentEvent::Pop));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                changed = self.access.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    if !matches!(self.engine.agent_extension(&self.agent).await, Ok(Some(_))) {
                        self.queue.push_back(AgentEvent::SignedOut);
                        self.done = true;
                    }
                }
            }
        }
    }
}

async fn events(State(engine): State<SharedEngine>, session: Session) -> Response {
    let agent = match session.get::<AgentSession>(SESSION_AGENT).await {
        Ok(Some(a)) => a,
        _ => return (StatusCode::UNAUTHORIZED, "sign in to the agent web client").into_response(),
    };
    match engine.agent_extension(&agent).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return (StatusCode::UNAUTHORIZED, "sign in to the agent web client").into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "agent events: store");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    // Subscribe first, then read what is pending: nothing falls between the two.
    let rx = engine.agent_events();
    let access = engine.agent_access_changes();
    let pending = engine
        .pending_pops(&agent.extension)
        .await
        .unwrap_or_default();
    let feed = Feed {
        engine,
        agent,
        rx,
        access,
        queue: pending.into_iter().map(AgentEvent::Pop).collect(),
        done: false,
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
