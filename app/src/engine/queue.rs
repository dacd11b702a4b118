//! The job queue's vocabulary (docs/reliability.md): what a job is (its kind with its
//! payload, one variant each), the keys that make a second planning of the same work a no-op,
//! and what a finished job stored. The states and outcomes the integration log shows are in
//! `crate::model` (`JobKind`, `JobState`, `AttemptOutcome`), as the page reads them too.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lookup::ZohoRecord;
use super::rules::{CallWork, CreateWork};
use crate::model::{JobKind, JobNote};

/// A job: its kind and what it needs. Stored as the `kind` column and the `payload` JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Job {
    /// Who the call is with: the lookup, the creation of an unknown caller, the sync.
    Contact(CallWork),
    /// Creates an unknown caller once, whatever the number of calls waiting for it.
    Create(CreateWork),
    /// The ticket of an ended call.
    Ticket(CallWork),
    /// The call activity of an ended call.
    CallLog(CallWork),
}

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Job::Contact(_) => JobKind::Contact,
            Job::Create(_) => JobKind::Create,
            Job::Ticket(_) => JobKind::Ticket,
            Job::CallLog(_) => JobKind::CallLog,
        }
    }

    /// The payload column: the variant's data alone.
    pub fn payload(&self) -> String {
        match self {
            Job::Contact(w) | Job::Ticket(w) | Job::CallLog(w) => serde_json::to_string(w),
            Job::Create(w) => serde_json::to_string(w),
        }
        .expect("plain data")
    }

    /// Reads a stored job back from its two columns.
    pub fn from_columns(kind: JobKind, payload: &str) -> Result<Job, serde_json::Error> {
        let payload: Value = serde_json::from_str(payload)?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
    }
}

/// Job keys: one job per call and kind, one creation per number.
pub mod key {
    use crate::model::JobKind;

    /// The prefix of creation keys (a creation serves every call from its number).
    pub const CREATION_PREFIX: &str = "number:";

    /// The job of kind `kind` for a call.
    pub fn call(call_id: &str, kind: JobKind) -> String {
        format!("call:{call_id}:{}", kind.as_str())
    }

    /// The creation of an unknown caller's record.
    pub fn creation(number_key: &str) -> String {
        format!("{CREATION_PREFIX}{number_key}:{}", JobKind::Create.as_str())
    }

    /// The creation that follows one whose record (`gone`) left the org: every call that sees
    /// it gone names the same next creation, so they share it.
    pub fn creation_after(number_key: &str, gone: &str) -> String {
        format!("{}:after:{gone}", creation(number_key))
    }
}

/// What a finished job stored: the note (structured, for the log in either language), its
/// English as the summary, and what later steps and the log read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub note: Option<JobNote>,
    /// The caller's record (contact and creation jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<ZohoRecord>,
    /// The record was created for this call (contact jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
    /// The sync's outcome in English (contact jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// The Zoho Desk page of what the job made (creation, ticket, call activity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_activity_id: Option<String>,
}

impl JobResult {
    /// A result saying `note` (its English as the summary) for a job of `kind`.
    pub fn new(kind: JobKind, note: JobNote) -> JobResult {
        JobResult {
            summary: note.english(kind),
            note: Some(note),
            ..JobResult::default()
        }
    }

    /// The page the log links to: what the job made, else the record it found.
    pub fn link(&self) -> Option<String> {
        self.link
            .clone()
            .or_else(|| self.record.as_ref().and_then(|r| r.web_url.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::calls::event::Direction;
    use crate::model::ZohoModule;

    fn work() -> CallWork {
        CallWork {
            call_id: "c1".into(),
            direction: Direction::Inbound,
            number: "+1 (415) 555-0134".into(),
            number_key: "+14155550134".into(),
            extension: Some("2005".into()),
            extension_name: None,
            agent_id: None,
            agent_name: None,
            create_as: Some(ZohoModule::Contacts),
            sync: None,
            department_id: None,
            outcome: None,
        }
    }

    #[test]
    fn a_job_round_trips_through_its_columns() {
        let create = CreateWork {
            number: "0086-138-0013-8000".into(),
            number_key: "+8613800138000".into(),
            create_as: ZohoModule::Accounts,
        };
        for job in [
            Job::Contact(work()),
            Job::Create(create),
            Job::Ticket(work()),
            Job::CallLog(work()),
        ] {
            let back = Job::from_columns(job.kind(), &job.payload()).unwrap();
            assert_eq!(back, job);
        }
    }

    #[test]
    fn a_payload_of_another_kind_is_refused() {
        let w = Job::Contact(work());
        assert!(Job::from_columns(JobKind::Create, &w.payload()).is_err());
    }

    #[test]
    fn keys_are_one_per_call_and_kind_and_one_per_number() {
        assert_eq!(key::call("c1", JobKind::CallLog), "call:c1:call_log");
        assert_eq!(key::call("c1", JobKind::Contact), "call:c1:contact");
        assert_eq!(key::creation("+14155550134"), "number:+14155550134:create");
        assert!(key::creation("x").starts_with(key::CREATION_PREFIX));
    }

    #[test]
    fn results_stored_before_they_were_typed_still_read() {
        let old = r#"{"summary":"s","note":null,"record":null,"link":null}"#;
        let r: JobResult = serde_json::from_str(old).unwrap();
        assert_eq!(r.summary, "s");
        assert_eq!(r.link(), None);
    }
}
