//! `GET /recordings/<call>`: a call's recording, streamed from the PBX on demand. The link in
//! the ticket and the call activity points here, because the PBX's own download URLs last 30
//! minutes and need its token. Who may listen: the signed-in admin, or the signed-in agent of
//! an extension that rang on or answered the call; anyone else is refused (401 without a
//! sign-in, 403 for another agent), and nothing about the call is said to them.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use app::api::ssr::{SESSION_ADMIN, SESSION_AGENT};
use app::engine::directory::extensions::AgentSession;
use app::engine::{SharedEngine, RECORDINGS_PATH};

pub fn router<S: Clone + Send + Sync + 'static>(engine: SharedEngine) -> Router<S> {
    Router::new()
        .route(&format!("{RECORDINGS_PATH}/{{call_id}}"), get(recording))
        .with_state(engine)
}

fn refuse(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn recording(
    State(engine): State<SharedEngine>,
    session: Session,
    Path(call_id): Path<String>,
) -> Response {
    let admin = matches!(session.get::<String>(SESSION_ADMIN).await, Ok(Some(_)));
    let agent = if admin {
        None
    } else {
        match session.get::<AgentSession>(SESSION_AGENT).await {
            Ok(Some(a)) => engine
                .directory
                .signed_in_extension(&a)
                .await
                .ok()
                .flatten(),
            _ => None,
        }
    };
    if !admin && agent.is_none() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Sign in to this app first (the admin pages, or the agent client), then open the link again.",
        );
    }
    let call = match engine.store.call(&call_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "No such call."),
        Err(e) => {
            tracing::error!(error = %e, "reading a call for its recording");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment.");
        }
    };
    if let Some(ext) = &agent {
        let st = &call.state;
        let theirs = st.ringing.contains_key(&ext.number)
            || st.answered.as_ref().is_some_and(|(x, _)| x == &ext.number);
        if !theirs {
            return refuse(
                StatusCode::FORBIDDEN,
                "This recording is of a call of another extension.",
            );
        }
    }
    let Some(file) = call.state.ended.as_ref().and_then(|e| e.recording.clone()) else {
        return refuse(StatusCode::NOT_FOUND, "The PBX did not record this call.");
    };
    let fetched = async {
        let api = engine.pbx_connection.api().await?;
        let path = api.recording_url(&file).await?;
        Ok::<_, app::engine::EngineError>(api.download(&path).await?)
    }
    .await;
    match fetched {
        Ok(resp) => {
            let kind = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            tracing::info!(%call_id, "recording streamed from the PBX");
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("inline; filename=\"{}\"", file.replace('"', "")),
                    ),
                ],
                Body::from_stream(resp.bytes_stream()),
            )
                .into_response()
        }
        Err(e) => {
            tracing::warn!(%call_id, error = %e, "the PBX did not give the recording");
            refuse(
                StatusCode::BAD_GATEWAY,
                "The PBX did not give the recording (is it still connected?).",
            )
        }
    }
}
