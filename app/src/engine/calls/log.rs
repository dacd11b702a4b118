//! The integration log's view of calls: summaries, and a call's events and facts, with times
//! in the PBX's clock.

use time::{OffsetDateTime, UtcOffset};

use super::machine::Fact;
use super::Intake;
use crate::engine::directory::{BoundAgents, Directory};
use crate::engine::store::calls::{CallFilter, CallRow};
use crate::engine::zoho::ZohoConnection;
use crate::engine::EngineError;
use crate::model::{
    CallDetail, CallEventView, CallFactView, CallSummary, JobAttemptView, JobState, JobView,
    LogFilter,
};

/// Calls per page of the log.
pub const LOG_PAGE: i64 = 50;

/// `YYYY-MM-DD HH:MM:SS` at `offset`.
pub fn clock(ms: i64, offset: UtcOffset) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// The log reads what the intake stored (the agents' names from the directory as it is now).
impl Intake {
    fn summary(&self, dir: &BoundAgents, row: &CallRow) -> CallSummary {
        let outcome = row.state.outcome();
        let extension = outcome
            .as_ref()
            .and_then(|o| o.extension.clone())
            .or_else(|| row.state.answered.as_ref().map(|(x, _)| x.clone()))
            .or_else(|| row.state.ringing.keys().next().cloned());
        CallSummary {
            call_id: row.call_id.clone(),
            direction: row.direction.clone(),
            external_number: row.external_number.clone(),
            extensions: row.extensions.clone(),
            call_type: row.call_type.clone(),
            open: row.is_open,
            started: clock(row.first_at_ms, self.pbx_utc_offset),
            started_ms: row.first_at_ms,
            agent: extension
                .as_deref()
                .and_then(|x| dir.by_extension(x))
                .map(|b| b.agent_name.clone()),
            extension,
            answered_by: row.state.answered.as_ref().map(|(x, _)| x.clone()),
        }
    }

    /// A page of the log, newest first, as the filter narrows it.
    pub async fn call_log(
        &self,
        directory: &Directory,
        f: &LogFilter,
    ) -> Result<Vec<CallSummary>, EngineError> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let rows = self
            .store
            .calls(&CallFilter {
                number: text(&f.number),
                number_key: text(&f.number).map(|n| self.numbers.key(&n)),
                extension: text(&f.extension),
                outcome: text(&f.outcome),
                before_ms: f.before_ms,
                limit: LOG_PAGE,
            })
            .await?;
        let dir = directory.get();
        Ok(rows.iter().map(|r| self.summary(&dir, r)).collect())
    }

    /// One call's line of the log, if the intake has heard of it.
    pub async fn call_summary(
        &self,
        directory: &Directory,
        call_id: &str,
    ) -> Result<Option<CallSummary>, EngineError> {
        let row = self.store.call(call_id).await?;
        Ok(row.map(|r| self.summary(&directory.get(), &r)))
    }

    /// One call: its events, its facts, its Zoho work and each attempt (links only to the
    /// connected Zoho Desk).
    pub async fn call_detail(
        &self,
        directory: &Directory,
        zoho: &ZohoConnection,
        call_id: &str,
    ) -> Result<CallDetail, EngineError> {
        let row = self
            .store
            .call(call_id)
            .await?
            .ok_or(EngineError::NotFound)?;
        let off = self.pbx_utc_offset;
        let events = self
            .store
            .call_events(call_id)
            .await?
            .into_iter()
            .map(|e| CallEventView {
                event_id: e.event_id,
                source: e.source,
                kind: e.kind,
                extension: e.extension,
                at: clock(e.at_ms, off),
                received: clock(e.received_ms, off),
            })
            .collect();
        let facts = self
            .store
            .call_facts(call_id)
            .await?
            .into_iter()
            .map(|f| {
                let (call_type, ring, talk, timed_out) = match &f.fact {
                    Fact::Ended(o) => (
                        Some(o.call_type.as_str().to_string()),
                        Some(o.ring_secs),
                        Some(o.talk_secs),
                        o.timed_out,
                    ),
                    Fact::Ringing { .. } => (None, None, None, false),
                };
                CallFactView {
                    kind: f.kind,
                    extension: f.extension,
                    call_type,
                    at: clock(f.at_ms, off),
                    ring_secs: ring,
                    talk_secs: talk,
                    timed_out,
                    agent_id: f.agent_id,
                    skip: f.skip,
                }
            })
            .collect();
        let jobs = self.store.call_jobs(call_id).await?;
        let attempts = self
            .store
            .job_attempts(&jobs.iter().map(|j| j.job_id).collect::<Vec<_>>())
            .await?;
        let jobs = jobs
            .into_iter()
            .map(|j| JobView {
                job_id: j.job_id,
                summary: j.result.as_ref().map(|r| r.summary.clone()),
                note: j.result.as_ref().and_then(|r| r.note.clone()),
                link: j
                    .result
                    .as_ref()
                    .and_then(|r| r.link())
                    .and_then(|u| zoho.trusted_zoho_link(&u)),
                next_attempt: (j.state == JobState::Queued).then(|| clock(j.run_after_ms, off)),
                history: attempts
                    .iter()
                    .filter(|a| a.job_id == j.job_id)
                    .map(|a| JobAttemptView {
                        at: clock(a.finished_ms, off),
                        outcome: a.outcome,
                        detail: a.detail.clone(),
                    })
                    .collect(),
                kind: j.kind,
                state: j.state,
                attempts: j.attempts,
                last_error: j.last_error,
            })
            .collect();
        let recording = row
            .state
            .ended
            .as_ref()
            .and_then(|e| e.recording.as_ref())
            .map(|_| format!("{}/{}", super::super::RECORDINGS_PATH, row.call_id));
        Ok(CallDetail {
            jobs,
            recording,
            summary: self.summary(&directory.get(), &row),
            events,
            facts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_in_the_pbx_offset() {
        assert_eq!(
            clock(1_795_857_302_000, UtcOffset::UTC),
            "2026-11-28 09:15:02"
        );
        assert_eq!(
            clock(1_795_857_302_999, UtcOffset::from_hms(8, 0, 0).unwrap()),
            "2026-11-28 17:15:02"
        );
    }
}
