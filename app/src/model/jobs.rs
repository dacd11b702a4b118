//! The Zoho work of calls: its stored words (kinds, states, outcomes), its view in the log,
//! and the notes that say what each job did (translated on the page, English in the store).

use serde::{Deserialize, Serialize};

use super::ZohoModule;

word_enum! {
    /// What a piece of Zoho work does.
    pub enum JobKind {
        /// Who the call is with: lookup, creation of an unknown caller, sync.
        Contact = "contact",
        /// The creation of an unknown caller (one per number).
        Create = "create",
        Ticket = "ticket",
        CallLog = "call_log",
    }
}

word_enum! {
    /// Where a job stands (the store's `CHECK` constraint lists the same words).
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
        /// The integration was disconnected before it ran.
        Cancelled = "cancelled",
    }
}

impl JobState {
    /// Not over yet: queued or running.
    pub fn is_open(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

word_enum! {
    /// How one attempt of a job ended.
    pub enum AttemptOutcome {
        Done = "done",
        /// Failed; tried again later.
        Retry = "retry",
        /// Failed in a way that may have had its effect: looked up before it is tried again.
        Uncertain = "uncertain",
        Failed = "failed",
        /// Not an attempt: it waits for another job.
        Waiting = "waiting",
        /// Not an attempt: the integration is off or its authorization expired.
        Paused = "paused",
        Cancelled = "cancelled",
    }
}

/// One piece of Zoho work of a call, for the integration log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub job_id: i64,
    pub kind: JobKind,
    pub state: JobState,
    pub attempts: i64,
    /// What it found or made, or why it did nothing (English words, as stored).
    pub summary: Option<String>,
    /// The same, structured: the page says it in the reader's language.
    pub note: Option<JobNote>,
    pub last_error: Option<String>,
    /// A Zoho Desk page of the record it made or found.
    pub link: Option<String>,
    /// The next attempt, in the PBX's clock (queued jobs).
    pub next_attempt: Option<String>,
    pub history: Vec<JobAttemptView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAttemptView {
    pub at: String,
    pub outcome: AttemptOutcome,
    pub detail: Option<String>,
}

/// What a field a synced record lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Older log entries only: a first name is no longer required.
    FirstName,
    /// Older log entries only: a last name is no longer required.
    LastName,
    /// Neither a first nor a last name (a contact), or no name (an account).
    Name,
    Phone,
    NameAndPhone,
}

/// What Contact Sync did with a matched record (the integration log says it in either language).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sync", rename_all = "snake_case")]
pub enum SyncNote {
    Added,
    Updated,
    Unchanged,
    /// The record lacks what a phonebook contact needs.
    Incomplete {
        missing: Missing,
    },
    /// The rules no longer sync to that group.
    GroupReleased,
    /// A contact while accounts are synced, or the other way round.
    ModuleMismatch {
        record: ZohoModule,
        target: ZohoModule,
    },
    /// The phonebook refused these fields.
    Refused {
        fields: Vec<String>,
    },
}

/// What a job found or made, or why it did nothing: structured, so that the integration log
/// can say it in the reader's language. [`JobNote::english`] is the stored summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum JobNote {
    /// The number is a Zoho Desk record (found, or created for the call).
    Matched {
        number: String,
        module: ZohoModule,
        name: String,
        created: bool,
        sync: Option<SyncNote>,
        /// Other records with the same number (the most recently modified was used).
        #[serde(default)]
        others: u32,
    },
    NoMatch {
        number: String,
        creation_off: bool,
    },
    CreationFailed {
        number: String,
        error: String,
    },
    Created {
        module: ZohoModule,
        name: String,
    },
    /// A retried creation found what an earlier attempt made.
    CreatedEarlier {
        module: ZohoModule,
        name: String,
    },
    /// Ticket or call log: the call has not ended.
    NotEnded,
    /// Ticket or call log: the number is no contact.
    NoContact {
        number: String,
    },
    /// Ticket or call log: the number is an account.
    IsAccount {
        number: String,
        name: String,
    },
    /// Call log: the edition has no call activities.
    EditionWithoutCalls {
        edition: String,
    },
    /// Call log: Zoho answered that this edition has no call activities.
    LicenseLimited,
    Ticket {
        number: String,
        subject: String,
        found_earlier: bool,
        unassigned: bool,
        /// Made on this contact, who has the number now: the lookup's was gone from Zoho.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instead: Option<String>,
    },
    CallActivity {
        subject: String,
        status: String,
        found_earlier: bool,
        /// As the ticket's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instead: Option<String>,
    },
}

impl Missing {
    pub fn english(self) -> &'static str {
        match self {
            Missing::FirstName => "it has no first name",
            Missing::LastName => "it has no last name",
            Missing::Name => "it has no name",
            Missing::Phone => "it has no phone number",
            Missing::NameAndPhone => "it has no name and no phone number",
        }
    }
}

/// The sentence added when a ticket or call activity went to another contact than the
/// lookup's.
fn instead_words(instead: &Option<String>) -> String {
    match instead {
        Some(name) => format!(
            " — the caller's contact was gone from Zoho Desk: on {name}, who has the number now"
        ),
        None => String::new(),
    }
}

fn module_words(m: ZohoModule) -> &'static str {
    match m {
        ZohoModule::Contacts => "the contact",
        ZohoModule::Accounts => "the account",
    }
}

impl SyncNote {
    pub fn english(&self) -> String {
        match self {
            SyncNote::Added => "added to the company contacts".into(),
            SyncNote::Updated => "updated in the company contacts".into(),
            SyncNote::Unchanged => "already in the company contacts".into(),
            SyncNote::Incomplete { missing } => format!("not synced: {}", missing.english()),
            SyncNote::GroupReleased => {
                "not synced: that company contacts group is no longer synced".into()
            }
            SyncNote::ModuleMismatch { record, target } => format!(
                "not synced: the record is {}, the module to sync is {}",
                module_words(*record),
                module_words(*target)
            ),
            SyncNote::Refused { fields } => format!(
                "not synced: the phonebook refuses its {}",
                fields
                    .iter()
                    .map(|f| f.replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl JobNote {
    /// The note in English; `kind` is the job's (`ticket` and `call_log` word some alike notes
    /// differently).
    pub fn english(&self, kind: JobKind) -> String {
        let not = if kind == JobKind::Ticket {
            "no ticket"
        } else {
            "not logged"
        };
        match self {
            JobNote::Matched {
                number,
                module,
                name,
                created,
                sync,
                others,
            } => {
                let name = if name.trim().is_empty() {
                    "(no name)"
                } else {
                    name.as_str()
                };
                let mut s = format!(
                    "{number} is {} {name}{}",
                    module_words(*module),
                    if *created {
                        " (created for this call)"
                    } else {
                        ""
                    }
                );
                if *others > 0 {
                    s.push_str(&format!(
                        " ({others} other records have this number: the most recently modified was used)"
                    ));
                }
                if let Some(sync) = sync {
                    s.push_str("; ");
                    s.push_str(&sync.english());
                }
                s
            }
            JobNote::NoMatch {
                number,
                creation_off: true,
            } => format!(
                "{number}: matches no Zoho Desk contact or account (creation is off for this call type)"
            ),
            JobNote::NoMatch { number, .. } => {
                format!("{number}: matches no Zoho Desk contact or account")
            }
            JobNote::CreationFailed { number, error } => {
                format!("{number}: the creation of {number} did not succeed ({error})")
            }
            JobNote::Created { module, name } => format!("created {} {name}", module_words(*module)),
            JobNote::CreatedEarlier { module, name } => format!(
                "found {} {name}, made by an earlier attempt",
                module_words(*module)
            ),
            JobNote::NotEnded => format!("{not}: the call has not ended"),
            JobNote::NoContact { number } => {
                format!("{not}: {number} matches no Zoho Desk contact")
            }
            JobNote::IsAccount { number, name } if kind == JobKind::Ticket => format!(
                "no ticket: tickets are for contacts only, and {number} is the account {name}"
            ),
            JobNote::IsAccount { number, name } => format!(
                "not logged: call activities belong to contacts, and {number} is the account {name}"
            ),
            JobNote::EditionWithoutCalls { edition } => format!(
                "not logged: call activities need Zoho Desk Standard or above (this org: {edition})"
            ),
            JobNote::LicenseLimited => {
                "not logged: this Zoho Desk edition has no call activities".into()
            }
            JobNote::Ticket {
                number,
                subject,
                found_earlier,
                unassigned,
                instead,
            } => {
                let how = match (found_earlier, unassigned) {
                    (true, _) => "found the ticket an earlier attempt created",
                    (false, true) => "created (unassigned: Zoho refused the agent as assignee)",
                    (false, false) => "created",
                };
                format!("ticket #{number} {how}: {subject}{}", instead_words(instead))
            }
            JobNote::CallActivity {
                subject,
                status,
                found_earlier,
                instead,
            } => {
                let how = if *found_earlier {
                    "found the call activity an earlier attempt logged"
                } else {
                    "logged"
                };
                format!(
                    "call activity {how}: {subject} ({status}){}",
                    instead_words(instead)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_words_read_back_as_written() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            all: &[T],
            word: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(word(v)), Some(v));
                assert_eq!(serde_json::to_value(v).unwrap(), word(v));
            }
            assert_eq!(parse("unheard-of"), None);
        }
        check(JobKind::ALL, JobKind::as_str, JobKind::parse);
        check(JobState::ALL, JobState::as_str, JobState::parse);
        check(
            AttemptOutcome::ALL,
            AttemptOutcome::as_str,
            AttemptOutcome::parse,
        );
        assert_eq!(JobKind::CallLog.to_string(), "call_log");
    }

    #[test]
    fn job_notes_keep_their_english_summaries() {
        let matched = JobNote::Matched {
            number: "5503301".into(),
            module: ZohoModule::Contacts,
            name: "Paul Young".into(),
            created: false,
            sync: Some(SyncNote::Added),
            others: 0,
        };
        assert_eq!(
            matched.english(JobKind::Contact),
            "5503301 is the contact Paul Young; added to the company contacts"
        );
        let account = JobNote::IsAccount {
            number: "5503310".into(),
            name: "Acme".into(),
        };
        assert!(account
            .english(JobKind::Ticket)
            .starts_with("no ticket: tickets are for contacts only"));
        assert!(account
            .english(JobKind::CallLog)
            .starts_with("not logged: call activities belong"));
        let refused = SyncNote::Refused {
            fields: vec!["business_phone".into()],
        };
        assert_eq!(
            refused.english(),
            "not synced: the phonebook refuses its business phone"
        );
        // Stored as JSON beside the summary, read back by the log.
        let v = serde_json::to_value(&matched).unwrap();
        assert_eq!(v["note"], "matched");
        assert_eq!(serde_json::from_value::<JobNote>(v).unwrap(), matched);
    }

    #[test]
    fn a_ticket_on_another_contact_says_so_and_older_notes_still_read() {
        // As stored before tickets could go to another contact: no `instead`.
        let stored = serde_json::json!({
            "note": "ticket", "number": "101", "subject": "Inbound Completed",
            "found_earlier": false, "unassigned": false,
        });
        let old: JobNote = serde_json::from_value(stored).unwrap();
        assert_eq!(
            old.english(JobKind::Ticket),
            "ticket #101 created: Inbound Completed"
        );
        let moved = JobNote::CallActivity {
            subject: "Inbound Completed".into(),
            status: "Completed".into(),
            found_earlier: false,
            instead: Some("Lima-Souza".into()),
        };
        assert_eq!(
            moved.english(JobKind::CallLog),
            "call activity logged: Inbound Completed (Completed) — the caller's contact was gone \
             from Zoho Desk: on Lima-Souza, who has the number now"
        );
        let v = serde_json::to_value(&moved).unwrap();
        assert_eq!(serde_json::from_value::<JobNote>(v).unwrap(), moved);
        assert!(serde_json::to_value(&old).unwrap().get("instead").is_none());
    }
}
