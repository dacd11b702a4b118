//! The job runner (design/reliability.md): claims due jobs with a lease, does their Zoho work
//! outside any transaction, records the outcome, and classifies failures into retry (with
//! backoff, jitter and `Retry-After`), wait for quota, pause (integration off, authorization
//! expired) and permanent failure. Creations that may already have happened are looked up
//! before they are retried, so Zoho never gets a duplicate.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use super::calls::event::Direction;
use super::calls::{now_ms, Switch};
use super::lookup::ZohoRecord;
use super::queue::{key, Job, JobResult};
use super::rules::{self, CallWork, CreateWork};
use super::store::jobs::{ClaimedJob, Finish, JobRow, NewJob};
use super::zoho::api::{Desk, NewAccount, NewCall, NewContact, NewTicket};
use super::zoho::connection::DeskCtx;
use super::zoho::ZohoError;
use super::{Engine, EngineError};
use crate::model::{AttemptOutcome, JobKind, JobNote, JobState, SyncNote, ZohoModule};

/// The org's departments: (id, name, is default).
pub type Departments = Vec<(String, String, bool)>;

/// How long a claimed job is ours by default (`HELPDESK_JOB_LEASE_SECS`): longer than a Zoho
/// request can take (20 s) plus margin. An instance that dies leaves its jobs to the others
/// (PostgreSQL) or to itself after a restart when this runs out.
pub const LEASE_MS: i64 = 120_000;
/// Jobs run at once when the org's edition is unknown (Zoho allows 5 concurrent requests even
/// on the Free edition).
pub const WORKERS: i64 = 4;

/// Jobs run at once for an org of this edition: one below Zoho's concurrency limit for it
/// (docs/zoho-desk-api.md §3.5: Free 5, Express and Standard 10, Professional 15, Enterprise
/// 25), which leaves a request for what admins do on the pages meanwhile. A 429 from Zoho is
/// retried later all the same.
pub fn workers_for(edition: Option<&str>) -> i64 {
    match edition.map(|e| e.trim().to_ascii_uppercase()).as_deref() {
        Some("EXPRESS" | "STANDARD") => 9,
        Some("PROFESSIONAL") => 14,
        Some("ENTERPRISE") => 24,
        _ => WORKERS,
    }
}
/// An instance whose heartbeat is older than this is gone: its share of Zoho's requests in
/// flight goes back to the others (the housekeeping beats every minute).
pub const INSTANCE_GONE_MS: i64 = 150_000;

/// This instance's share of `workers` (Zoho's requests in flight for the org, a limit per org)
/// when `instances` instances run jobs on one database: the same share each, at least one.
pub fn share_of(workers: i64, instances: i64) -> i64 {
    (workers / instances.max(1)).max(1)
}

/// The retry schedule: after the n-th failed attempt wait `SCHEDULE[n-1]` (the last repeats).
pub const SCHEDULE_SECS: &[i64] = &[5, 30, 120, 600, 1800, 3600];
/// A job still failing this long after it was made fails for good (retry by hand).
pub const GIVE_UP_MS: i64 = 24 * 3600 * 1000;
/// The least wait after a 429.
const RATE_LIMIT_FLOOR_SECS: i64 = 10;
/// The wait when the day's API credits are gone and Zoho did not say for how long.
const QUOTA_WAIT_SECS: i64 = 3600;

/// The delay before attempt `attempts + 1`, with ±20 % jitter (`jitter` in -1.0..=1.0).
pub fn backoff_ms(attempts: i64, jitter: f64) -> i64 {
    let i = (attempts.max(1) - 1) as usize;
    let base = SCHEDULE_SECS[i.min(SCHEDULE_SECS.len() - 1)] as f64 * 1000.0;
    (base * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0))).round() as i64
}

/// What a job step did when it did not fail.
enum Step {
    Done(Box<JobResult>),
    Wait { for_key: String, detail: String },
}

/// A finished step that only says `note`.
fn done(kind: JobKind, note: JobNote) -> Step {
    Step::Done(Box::new(JobResult::new(kind, note)))
}

/// Classifies a failed attempt.
pub fn classify(e: &EngineError, attempts: i64, created_ms: i64, now: i64, jitter: f64) -> Finish {
    let retry = |delay_ms: i64, uncertain: bool| {
        if now - created_ms > GIVE_UP_MS {
            Finish::Failed(format!("gave up after {attempts} attempts over a day: {e}"))
        } else {
            Finish::Retry {
                at_ms: now + delay_ms,
                uncertain,
                error: e.to_string(),
            }
        }
    };
    match e {
        EngineError::AuthExpired => Finish::Paused(
            "the Zoho Desk authorization has expired: the work waits for it to be renewed".into(),
        ),
        EngineError::TokenRefresh(why) => Finish::Paused(format!(
            "the access token could not be renewed ({why}): the work waits"
        )),
        EngineError::NotConfigured => {
            Finish::Paused("the integration is not connected or is switched off".into())
        }
        EngineError::Zoho(z) => match z {
            ZohoError::Timeout | ZohoError::Decode(_) => retry(backoff_ms(attempts, jitter), true),
            ZohoError::Network(m) => retry(
                backoff_ms(attempts, jitter),
                m.as_str() != "connection failed",
            ),
            ZohoError::RateLimited { code, retry_after } => {
                let told = retry_after.map(|s| s as i64 * 1000);
                if code == "THRESHOLD_EXCEEDED" {
                    // The day's credits are gone: wait for the reset, not the schedule.
                    retry(told.unwrap_or(QUOTA_WAIT_SECS * 1000), false)
                } else {
                    let wait = backoff_ms(attempts, jitter)
                        .max(told.unwrap_or(0))
                        .max(RATE_LIMIT_FLOOR_SECS * 1000);
                    retry(wait, false)
                }
            }
            ZohoError::Api { status, .. } if *status >= 500 => {
                retry(backoff_ms(attempts, jitter), true)
            }
            ZohoError::Unauthorized => Finish::Paused("Zoho refused the access token".into()),
            ZohoError::OAuth(_) => retry(backoff_ms(attempts, jitter), false),
            ZohoError::Api { .. } => Finish::Failed(e.to_string()),
        },
        EngineError::Store(_) => retry(backoff_ms(attempts, jitter), true),
        _ => Finish::Failed(e.to_string()),
    }
}

fn is_license_limited(e: &EngineError) -> bool {
    matches!(e, EngineError::Zoho(ZohoError::Api { code, .. }) if code == "LICENSE_ACCESS_LIMITED")
}

/// Call activities exist from the Standard edition up (requirements §6).
pub fn call_logs_available(edition: Option<&str>) -> bool {
    !matches!(edition, Some("FREE") | Some("EXPRESS"))
}

/// The caller's record a finished contact or creation job found or made.
fn record_of(job: Option<&JobRow>) -> Option<ZohoRecord> {
    job.and_then(|j| j.result.as_ref())
        .and_then(|r| r.record.clone())
}

impl Engine {
    /// Writes this instance's heartbeat at `now_ms` and learns how many instances run jobs on
    /// the database (one on SQLite); the housekeeping calls it every minute.
    pub async fn heartbeat(&self, now_ms: i64) -> Result<i64, EngineError> {
        let n = self
            .store
            .heartbeat(now_ms, now_ms - INSTANCE_GONE_MS)
            .await?;
        self.instances
            .store(n, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }

    /// Jobs this instance runs at once for an org of `edition`: its share of what the edition
    /// allows ([`workers_for`]) among the instances alive at the last heartbeat.
    pub fn job_slots(&self, edition: Option<&str>) -> usize {
        let instances = self.instances.load(std::sync::atomic::Ordering::Relaxed);
        share_of(workers_for(edition), instances) as usize
    }

    /// Runs every job due at `now_ms` (and those they make due), as many at a time as the
    /// org's edition allows ([`workers_for`]), until none is left; returns how many attempts
    /// ran. Tests call it to drain the queue.
    ///
    /// A rolling window, not batches: once half the slots are free, more jobs are claimed for
    /// them, so one slow Zoho request holds up only its own job (claiming for every single
    /// free slot would cost a claim per job).
    pub async fn run_due_jobs(&self, now_ms: i64) -> Result<usize, EngineError> {
        use futures::stream::{FuturesUnordered, StreamExt};
        self.store.reap_jobs(now_ms, false).await?;
        let edition = self.zoho.desk_ctx().await.ok().and_then(|c| c.edition);
        let workers = self.job_slots(edition.as_deref());
        let refill_at = workers.div_ceil(2);
        let mut running = FuturesUnordered::new();
        // The jobs running go on while more are claimed (one may hold the database's write
        // lock the claim waits for), and a claim once asked is never dropped half-way (its
        // jobs would stay `running` until their lease ran out).
        let mut claiming = None;
        let (mut ran, mut first_error, mut queue_empty) = (0, None, false);
        // Attempts finished so far: an empty claim proves the queue empty only if none
        // finished while it was asked (one may have made another job due meanwhile).
        let mut finished = 0u64;
        loop {
            let may_claim = first_error.is_none()
                && self.zoho.switch() == Switch::On
                && self.zoho.refresh_backoff().is_none();
            if claiming.is_none()
                && may_claim
                && !queue_empty
                && running.len() <= workers - refill_at
            {
                let limit = (workers - running.len()) as i64;
                claiming = Some((
                    finished,
                    Box::pin(self.store.claim_jobs(
                        now_ms,
                        now_ms + self.config.job_lease_ms,
                        limit,
                    )),
                ));
            }
            tokio::select! {
                claimed = async { claiming.as_mut().expect("a claim").1.as_mut().await }, if claiming.is_some() => {
                    let asked_at = claiming.take().expect("a claim").0;
                    match claimed {
                        Ok(jobs) => {
                            queue_empty = jobs.is_empty() && finished == asked_at;
                            ran += jobs.len();
                            running.extend(jobs.into_iter().map(|j| self.run_job(j, now_ms)));
                        }
                        Err(e) => {
                            first_error.get_or_insert(e.into());
                        }
                    }
                }
                done = running.next(), if !running.is_empty() => {
                    finished += 1;
                    if let Some(Err(e)) = done {
                        first_error.get_or_insert(e);
                    }
                    // A finished job may have made others due (a ticket waiting for its
                    // contact).
                    queue_empty = false;
                    self.calls_changed.send_modify(|v| *v += 1);
                }
                else => break,
            }
        }
        first_error.map_or(Ok(ran), Err)
    }

    /// Runs an attempt while renewing its lease every third of the lease, so that an attempt
    /// longer than the lease (a slow Zoho) is not taken over by another instance while it
    /// runs. The renewal is polled beside the attempt, never instead of it: on SQLite the
    /// attempt may hold the write lock the renewal waits for.
    async fn keeping_lease<T>(&self, job: &ClaimedJob, work: impl Future<Output = T>) -> T {
        let lease = self.config.job_lease_ms;
        let every = Duration::from_millis((lease / 3).max(1) as u64);
        let renew = async {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                match self
                    .store
                    .renew_lease(job.job_id, job.attempts, now_ms() + lease)
                    .await
                {
                    Ok(true) => self.metrics.inc("helpdesk_job_lease_renewals_total", &[]),
                    // Already long enough, or no longer this attempt's.
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "renewing a job's lease"),
                }
            }
        };
        tokio::select! {
            out = work => out,
            _ = renew => unreachable!("the renewal never ends"),
        }
    }

    /// After a restart: on SQLite (one process's) every job left running was cut off
    /// mid-attempt, so it goes back to the queue as uncertain. On PostgreSQL other instances
    /// may be running theirs: only jobs whose lease ran out go back.
    pub async fn recover_jobs(&self) -> Result<u64, EngineError> {
        let all = self.store.dialect() == crate::engine::store::Dialect::Sqlite;
        Ok(self.store.reap_jobs(now_ms(), all).await?)
    }

    #[tracing::instrument(name = "job", skip_all, fields(
        job_id = job.job_id,
        key = %job.key,
        kind = %job.kind,
        attempt = job.attempts,
    ))]
    async fn run_job(&self, job: ClaimedJob, now: i64) -> Result<(), EngineError> {
        let work = async {
            match &job.job {
                Err(e) => Err(EngineError::Job(format!("unreadable job: {e}"))),
                Ok(Job::Contact(w)) => self.job_contact(w, now).await,
                Ok(Job::Create(w)) => self.job_create(&job, w).await,
                Ok(Job::Ticket(w)) => self.job_ticket(&job, w).await,
                Ok(Job::CallLog(w)) => self.job_call_log(&job, w).await,
            }
        };
        let result = self.keeping_lease(&job, work).await;
        // Test hook: die between Zoho's answer and the record of it.
        if result.is_ok() && self.take_crash_point(job.kind) {
            tracing::warn!(job = job.key, "crash point: the outcome is not recorded");
            return Ok(());
        }
        let finish = match result {
            Ok(Step::Done(v)) => Finish::Done(v),
            Ok(Step::Wait { for_key, detail }) => Finish::Wait { for_key, detail },
            Err(e) => {
                let f = classify(
                    &e,
                    job.attempts,
                    job.created_ms,
                    now,
                    rand::random::<f64>() * 2.0 - 1.0,
                );
                if let Finish::Failed(why) | Finish::Paused(why) = &f {
                    tracing::warn!(job = job.key, %why, "job not done");
                }
                f
            }
        };
        self.metrics.inc(
            "helpdesk_job_attempts_total",
            &[
                ("kind", job.kind.as_str()),
                (
                    "outcome",
                    match &finish {
                        Finish::Done(_) => AttemptOutcome::Done,
                        Finish::Retry { .. } => AttemptOutcome::Retry,
                        Finish::Failed(_) => AttemptOutcome::Failed,
                        Finish::Wait { .. } => AttemptOutcome::Waiting,
                        Finish::Paused(_) => AttemptOutcome::Paused,
                    }
                    .as_str(),
                ),
            ],
        );
        if !self
            .store
            .finish_job(job.job_id, job.attempts, now, now.max(now_ms()), &finish)
            .await?
        {
            tracing::warn!("the job was taken over before this attempt ended (its lease ran out)");
        }
        Ok(())
    }

    /// Sets a one-shot crash point after the Zoho work of a job kind. Only in test builds
    /// (the `test-hooks` feature, which the server's tests turn on): a release has no way to
    /// lose an outcome on purpose.
    #[cfg(feature = "test-hooks")]
    pub fn set_crash_point(&self, kind: Option<JobKind>) {
        *self.crash_point.lock().unwrap_or_else(|p| p.into_inner()) = kind;
    }

    #[cfg(feature = "test-hooks")]
    fn take_crash_point(&self, kind: JobKind) -> bool {
        let mut cp = self.crash_point.lock().unwrap_or_else(|p| p.into_inner());
        if *cp == Some(kind) {
            *cp = None;
            true
        } else {
            false
        }
    }

    #[cfg(not(feature = "test-hooks"))]
    fn take_crash_point(&self, _: JobKind) -> bool {
        false
    }

    /// "Retry now" on a failed job.
    pub async fn retry_job(&self, job_id: i64) -> Result<(), EngineError> {
        if !self.store.retry_job(job_id, now_ms()).await? {
            return Err(EngineError::NotFound);
        }
        self.calls_changed.send_modify(|v| *v += 1);
        self.jobs_wake.notify_one();
        Ok(())
    }

    /// The background worker: runs due jobs, then sleeps until the next is due (or new work
    /// or a change of the switch wakes it).
    pub async fn job_worker(self: std::sync::Arc<Self>) {
        if let Err(e) = self.recover_jobs().await {
            tracing::error!(error = %e, "recovering jobs");
        }
        loop {
            if let Err(e) = self.run_due_jobs(now_ms()).await {
                tracing::error!(error = %e, "running jobs");
            }
            let wait = match (self.store.next_job_due().await, self.zoho.refresh_backoff()) {
                (Ok(Some(_)), Some(pause)) => pause.max(Duration::from_millis(50)),
                (Ok(Some(due)), None) if self.zoho.switch() == Switch::On => {
                    Duration::from_millis((due - now_ms()).clamp(50, 30_000) as u64)
                }
                _ => Duration::from_secs(30),
            };
            tokio::select! {
                _ = self.jobs_wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    // --- the steps -----------------------------------------------------------------------------

    /// Who the call is with: the lookup (cached), the creation of an unknown caller, and the
    /// sync of the record to the company contacts group.
    async fn job_contact(&self, w: &CallWork, now: i64) -> Result<Step, EngineError> {
        let mut record = self.lookup.lookup_number(&self.zoho, &w.number).await?;
        let mut created = false;
        let mut failed = None;
        if let (Some(rec), Some(_)) = (&record, w.create_as) {
            // Found: perhaps the record a creation for this number just made (for this call or
            // one ringing at the same time).
            let creation = self.store.job_by_key(&key::creation(&w.number_key)).await?;
            created = record_of(creation.as_ref()).is_some_and(|r| r.id == rec.id);
        }
        if record.is_none() {
            if let Some(module) = w.create_as {
                let key = key::creation(&w.number_key);
                match self.store.job_by_key(&key).await? {
                    None => {
                        let work = CreateWork {
                            number: w.number.clone(),
                            number_key: w.number_key.clone(),
                            create_as: module,
                        };
                        self.store
                            .enqueue(
                                &NewJob {
                                    key: key.clone(),
                                    job: Job::Create(work),
                                    call_id: Some(w.call_id.clone()),
                                    waits_for: None,
                                },
                                now,
                            )
                            .await?;
                        return Ok(Step::Wait {
                            for_key: key,
                            detail: format!("{} is unknown: creating it", w.number),
                        });
                    }
                    Some(j) if j.state.is_open() => {
                        return Ok(Step::Wait {
                            for_key: key,
                            detail: format!("{} is being created", w.number),
                        });
                    }
                    Some(j) if j.state == JobState::Done => {
                        record = record_of(Some(&j));
                        created = true;
                    }
                    Some(j) => {
                        failed = Some(j.last_error.unwrap_or_default());
                    }
                }
            }
        }
        let Some(rec) = record else {
            let note = match failed {
                Some(error) => JobNote::CreationFailed {
                    number: w.number.clone(),
                    error,
                },
                None => JobNote::NoMatch {
                    number: w.number.clone(),
                    creation_off: w.create_as.is_none(),
                },
            };
            return Ok(done(JobKind::Contact, note));
        };
        let sync = match w.sync {
            None => None,
            Some(t) if t.module != rec.module => Some(SyncNote::ModuleMismatch {
                record: rec.module,
                target: t.module,
            }),
            Some(t) => Some(self.sync_record(t.group_id, &rec).await?),
        };
        self.caller_found(&w.call_id, &rec).await;
        self.tell(super::bus::Notice::CallerFound {
            call_id: w.call_id.clone(),
            record: rec.clone(),
        });
        let sync_words = sync.as_ref().map(SyncNote::english);
        let note = JobNote::Matched {
            number: w.number.clone(),
            module: rec.module,
            name: rec.name.clone(),
            created,
            sync,
            others: rec.others,
        };
        Ok(Step::Done(Box::new(JobResult {
            record: Some(rec),
            created: Some(created),
            sync: sync_words,
            ..JobResult::new(JobKind::Contact, note)
        })))
    }

    /// Creates an unknown caller once, whatever the number of calls waiting for it.
    async fn job_create(&self, job: &ClaimedJob, w: &CreateWork) -> Result<Step, EngineError> {
        let ctx = self.zoho.desk_ctx().await?;
        let desk = Desk::new(&self.zoho, &ctx);
        if job.uncertain || job.attempts > 1 {
            // An earlier attempt may have created it: look before creating again, first among
            // the newest records (a list, which Zoho serves from its data: a record made a
            // moment ago is not in its search index yet), then by a search.
            let recent = self
                .recent_record_with(&ctx, w.create_as, &w.number)
                .await?;
            let found = match recent {
                Some(r) => Some(r),
                None => {
                    self.lookup
                        .search_number(&self.zoho, &ctx, &w.number)
                        .await?
                }
            };
            if let Some(rec) = found {
                self.lookup.cache.put(&w.number_key, Some(rec.clone()));
                self.tell(super::bus::Notice::Forget {
                    key: w.number_key.clone(),
                });
                let note = JobNote::CreatedEarlier {
                    module: rec.module,
                    name: rec.name.clone(),
                };
                return Ok(Step::Done(Box::new(JobResult {
                    record: Some(rec),
                    ..JobResult::new(JobKind::Create, note)
                })));
            }
        }
        let name = rules::automatic_name(w.create_as, &w.number);
        let rec = match w.create_as {
            ZohoModule::Contacts => {
                // "Automatic New Contact 5503309": the prefix as first name, the number as last
                // name, so the full name reads as the manual shows and both names are set.
                let (field, number) = self.numbers().storable(&w.number);
                let contact = NewContact {
                    first_name: Some("Automatic New Contact".into()),
                    last_name: w.number.clone(),
                    phone: None,
                    mobile: None,
                    description: Some(created_for(&w.number)),
                }
                .with_number(field, number);
                ZohoRecord::from_contact(&desk.create_contact(&contact).await?)
            }
            ZohoModule::Accounts => {
                let account = NewAccount {
                    account_name: name.clone(),
                    phone: Some(self.numbers().storable(&w.number).1),
                    description: Some(created_for(&w.number)),
                };
                ZohoRecord::from_account(&desk.create_account(&account).await?)
            }
        }
        .ok_or_else(|| {
            EngineError::Zoho(ZohoError::Decode("the created record has no id".into()))
        })?;
        self.lookup.cache.put(&w.number_key, Some(rec.clone()));
        self.tell(super::bus::Notice::Forget {
            key: w.number_key.clone(),
        });
        let link = rec.web_url.clone();
        let note = JobNote::Created {
            module: rec.module,
            name,
        };
        Ok(Step::Done(Box::new(JobResult {
            record: Some(rec),
            link,
            ..JobResult::new(JobKind::Create, note)
        })))
    }

    async fn job_ticket(&self, job: &ClaimedJob, w: &CallWork) -> Result<Step, EngineError> {
        let Some(o) = w.outcome.clone() else {
            return Ok(done(JobKind::Ticket, JobNote::NotEnded));
        };
        let contact = self
            .store
            .job_by_key(&key::call(&w.call_id, JobKind::Contact))
            .await?;
        prerequisite_ok(contact.as_ref())?;
        let rec = record_of(contact.as_ref());
        let rec = match rec {
            None => {
                let note = JobNote::NoContact {
                    number: w.number.clone(),
                };
                return Ok(done(JobKind::Ticket, note));
            }
            Some(r) if r.module == ZohoModule::Accounts => {
                let note = JobNote::IsAccount {
                    number: w.number.clone(),
                    name: r.name,
                };
                return Ok(done(JobKind::Ticket, note));
            }
            Some(r) => r,
        };
        let ctx = self.zoho.desk_ctx().await?;
        let desk = Desk::new(&self.zoho, &ctx);
        let marker = rules::call_marker(&w.call_id);
        let subject = rules::ticket_subject(w, o.call_type);
        if job.uncertain {
            // An earlier attempt may have made it, after the job was queued: the contact's
            // tickets with this subject made since then, each read whole to find this call's
            // marker in its description, the earliest first (the earlier attempt's is among
            // them however many tickets of the same subject a busy caller has had since).
            let since_ms = job.created_ms - 60_000; // the PBX host's and Zoho's clocks differ
            let mut candidates: Vec<(i64, String)> = Vec::new();
            for page in 0..10 {
                let items = desk.contact_tickets(&rec.id, page * 50, 50).await?;
                for t in &items {
                    let created = t
                        .get("createdTime")
                        .and_then(Value::as_str)
                        .and_then(rules::zoho_time_ms);
                    if created.is_some_and(|c| c < since_ms)
                        || t.get("subject").and_then(Value::as_str) != Some(subject.as_str())
                    {
                        continue;
                    }
                    if let Some(id) = t.get("id").and_then(Value::as_str) {
                        candidates.push((created.unwrap_or(i64::MAX), id.to_string()));
                    }
                }
                if items.len() < 50 {
                    break;
                }
            }
            candidates.sort();
            for (_, id) in candidates {
                let t = desk.ticket(&id).await?;
                let ours = t
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.contains(&marker));
                if ours {
                    return Ok(ticket_done(&t, true, false));
                }
            }
        }
        let department = self.department(&ctx, w.department_id.as_deref()).await?;
        let mut ticket = NewTicket {
            subject,
            department_id: department,
            contact_id: rec.id.clone(),
            channel: "Phone".into(),
            phone: Some(w.number.clone()),
            description: rules::call_description(
                w,
                &o,
                self.pbx_utc_offset(),
                &self.recordings_url(),
            ),
            assignee_id: w.agent_id.clone(),
        };
        let answer = match desk.create_ticket(&ticket).await {
            Err(EngineError::Zoho(ZohoError::Api {
                status, message, ..
            })) if status < 500 && message.contains("/assigneeId") => {
                // The agent cannot own tickets of this department: create it unassigned.
                ticket.assignee_id = None;
                (desk.create_ticket(&ticket).await?, true)
            }
            other => (other?, false),
        };
        let t = answer.0;
        if t.get("id").is_none() {
            return Err(EngineError::Zoho(ZohoError::Decode(
                "the ticket has no id".into(),
            )));
        }
        Ok(ticket_done(&t, false, answer.1))
    }

    async fn job_call_log(&self, job: &ClaimedJob, w: &CallWork) -> Result<Step, EngineError> {
        let Some(o) = w.outcome.clone() else {
            return Ok(done(JobKind::CallLog, JobNote::NotEnded));
        };
        let ctx = self.zoho.desk_ctx().await?;
        let desk = Desk::new(&self.zoho, &ctx);
        if !call_logs_available(ctx.edition.as_deref()) {
            let note = JobNote::EditionWithoutCalls {
                edition: ctx.edition.clone().unwrap_or_else(|| "?".into()),
            };
            return Ok(done(JobKind::CallLog, note));
        }
        let contact = self
            .store
            .job_by_key(&key::call(&w.call_id, JobKind::Contact))
            .await?;
        prerequisite_ok(contact.as_ref())?;
        let rec = match record_of(contact.as_ref()) {
            None => {
                let note = JobNote::NoContact {
                    number: w.number.clone(),
                };
                return Ok(done(JobKind::CallLog, note));
            }
            Some(r) if r.module == ZohoModule::Accounts => {
                let note = JobNote::IsAccount {
                    number: w.number.clone(),
                    name: r.name,
                };
                return Ok(done(JobKind::CallLog, note));
            }
            Some(r) => r,
        };
        let ticket_id = self
            .store
            .job_by_key(&key::call(&w.call_id, JobKind::Ticket))
            .await?
            .and_then(|j| j.result)
            .and_then(|r| r.ticket_id)
            .filter(|id| !id.is_empty());
        let subject = rules::ticket_subject(w, o.call_type);
        let start = rules::zoho_time(o.started_ms);
        if job.uncertain {
            // An earlier attempt may have logged it: the contact's calls (a list, not the
            // lagging search index) with this subject and start, read whole for the marker.
            let marker = rules::call_marker(&w.call_id);
            if let Some(c) = self
                .logged_call(&ctx, &rec.id, &subject, &start, &marker)
                .await?
            {
                return Ok(call_done(&c, true));
            }
        }
        let status = match o.call_type {
            super::calls::machine::CallType::InboundMissed
            | super::calls::machine::CallType::OutboundUnanswered => "Missed",
            _ => "Completed",
        };
        let department = self.department(&ctx, w.department_id.as_deref()).await?;
        let mut activity = NewCall {
            subject,
            department_id: department,
            contact_id: rec.id.clone(),
            direction: if w.direction == Direction::Outbound {
                "outbound"
            } else {
                "inbound"
            }
            .into(),
            start_time: start,
            duration: o.talk_secs.to_string(),
            status: status.into(),
            description: rules::call_description(
                w,
                &o,
                self.pbx_utc_offset(),
                &self.recordings_url(),
            ),
            owner_id: w.agent_id.clone(),
            ticket_id,
        };
        let answer = match desk.create_call(&activity).await {
            Err(EngineError::Zoho(ZohoError::Api {
                status, message, ..
            })) if status < 500 && message.contains("/ownerId") => {
                // The agent is not in the call's department: logged without an owner, as an
                // unassigned ticket is.
                activity.owner_id = None;
                desk.create_call(&activity).await
            }
            other => other,
        };
        match answer {
            Err(e) if is_license_limited(&e) => Ok(done(JobKind::CallLog, JobNote::LicenseLimited)),
            Err(e) => Err(e),
            Ok(c) => {
                if c.get("id").is_none() {
                    return Err(EngineError::Zoho(ZohoError::Decode(
                        "the call has no id".into(),
                    )));
                }
                Ok(call_done(&c, false))
            }
        }
    }

    /// The department for tickets and call activities: the chosen one, else the org's default.
    async fn department(&self, ctx: &DeskCtx, chosen: Option<&str>) -> Result<String, EngineError> {
        if let Some(d) = chosen.filter(|d| !d.is_empty()) {
            return Ok(d.to_string());
        }
        let list = self.departments(ctx).await?;
        list.iter()
            .find(|(_, _, default)| *default)
            .or(list.first())
            .map(|(id, _, _)| id.clone())
            .ok_or_else(|| EngineError::Zoho(ZohoError::Decode("the org has no department".into())))
    }

    /// The org's enabled departments: (id, name, is default); read from Zoho at most every
    /// 10 minutes (every ticket and call activity needs one).
    pub(crate) async fn departments(&self, ctx: &DeskCtx) -> Result<Departments, EngineError> {
        {
            let cached = self.departments.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((d, at)) = cached.as_ref() {
                if at.elapsed() < Duration::from_secs(600) {
                    return Ok(d.clone());
                }
            }
        }
        let fresh = self.fetch_departments(ctx).await?;
        *self.departments.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((fresh.clone(), std::time::Instant::now()));
        Ok(fresh)
    }

    /// Forgets the cached departments (settings saved, disconnect).
    pub(crate) fn forget_departments(&self) {
        *self.departments.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn fetch_departments(&self, ctx: &DeskCtx) -> Result<Departments, EngineError> {
        Ok(Desk::new(&self.zoho, ctx)
            .departments()
            .await?
            .iter()
            .filter_map(|d| {
                Some((
                    d.get("id")?.as_str()?.to_string(),
                    text(d, "name"),
                    d.get("isDefault").and_then(Value::as_bool).unwrap_or(false),
                ))
            })
            .collect())
    }
}

/// A ticket or call activity cannot go on when the lookup of its caller failed: it fails too
/// (retrying the lookup by hand queues it again).
fn prerequisite_ok(contact: Option<&JobRow>) -> Result<(), EngineError> {
    match contact {
        Some(j) if matches!(j.state, JobState::Failed | JobState::Cancelled) => {
            Err(EngineError::Job(format!(
                "the lookup of the caller did not succeed ({})",
                j.last_error.as_deref().unwrap_or(j.state.as_str())
            )))
        }
        _ => Ok(()),
    }
}

impl Engine {
    /// Among the org's newest contacts (or accounts), one with this number: what an earlier
    /// attempt of a creation made, read from a list (searches lag behind new records).
    async fn recent_record_with(
        &self,
        ctx: &DeskCtx,
        module: ZohoModule,
        number: &str,
    ) -> Result<Option<ZohoRecord>, EngineError> {
        let policy = self.numbers();
        let make: fn(&Value) -> Option<ZohoRecord> = match module {
            ZohoModule::Contacts => ZohoRecord::from_contact,
            ZohoModule::Accounts => ZohoRecord::from_account,
        };
        Ok(Desk::new(&self.zoho, ctx)
            .newest(module, 50)
            .await?
            .iter()
            .find(|v| {
                ["phone", "mobile"].iter().any(|f| {
                    v.get(*f)
                        .and_then(Value::as_str)
                        .is_some_and(|n| policy.matches_stored(number, n))
                })
            })
            .and_then(make))
    }

    /// A call activity already logged for this call on the contact: same subject and start
    /// in the contact's list, then this call's marker in its description.
    async fn logged_call(
        &self,
        ctx: &DeskCtx,
        contact_id: &str,
        subject: &str,
        start: &str,
        marker: &str,
    ) -> Result<Option<Value>, EngineError> {
        let desk = Desk::new(&self.zoho, ctx);
        for page in 0..10 {
            let calls = match desk.contact_calls(contact_id, page * 99, 99).await {
                Err(e) if is_license_limited(&e) => return Ok(None),
                other => other?,
            };
            for c in &calls {
                let same = c.get("subject").and_then(Value::as_str) == Some(subject)
                    && c.get("startTime").and_then(Value::as_str) == Some(start);
                let Some(id) = same.then(|| c.get("id").and_then(Value::as_str)).flatten() else {
                    continue;
                };
                let full = desk.call(id).await?;
                if full
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.contains(marker))
                {
                    return Ok(Some(full));
                }
            }
            if calls.len() < 99 {
                break;
            }
        }
        Ok(None)
    }
}

/// The description of a record the integration creates for an unknown caller.
fn created_for(number: &str) -> String {
    format!("Created by the PBX integration for calls from {number}.")
}

/// A text field of a Zoho answer (empty when absent).
fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn ticket_done(t: &Value, found_earlier: bool, unassigned: bool) -> Step {
    let note = JobNote::Ticket {
        number: text(t, "ticketNumber"),
        subject: text(t, "subject"),
        found_earlier,
        unassigned,
    };
    Step::Done(Box::new(JobResult {
        ticket_id: Some(text(t, "id")),
        ticket_number: Some(text(t, "ticketNumber")),
        link: Some(text(t, "webUrl")).filter(|u| !u.is_empty()),
        ..JobResult::new(JobKind::Ticket, note)
    }))
}

fn call_done(c: &Value, found_earlier: bool) -> Step {
    let note = JobNote::CallActivity {
        subject: text(c, "subject"),
        status: text(c, "status"),
        found_earlier,
    };
    Step::Done(Box::new(JobResult {
        call_activity_id: Some(text(c, "id")),
        link: Some(text(c, "webUrl")).filter(|u| !u.is_empty()),
        ..JobResult::new(JobKind::CallLog, note)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_share_the_orgs_requests_in_flight() {
        assert_eq!(share_of(24, 1), 24);
        assert_eq!(share_of(24, 2), 12);
        // Never more than the org allows in all, never nothing for an instance.
        assert_eq!(share_of(9, 2), 4);
        assert_eq!(share_of(4, 3), 1);
        assert_eq!(share_of(4, 8), 1);
        assert_eq!(share_of(4, 0), 4);
    }

    #[test]
    fn jobs_at_once_stay_below_the_editions_concurrency() {
        assert_eq!(workers_for(None), 4);
        assert_eq!(workers_for(Some("FREE")), 4);
        assert_eq!(workers_for(Some("Standard")), 9);
        assert_eq!(workers_for(Some("PROFESSIONAL")), 14);
        assert_eq!(workers_for(Some("ENTERPRISE")), 24);
        // An edition this app does not know: the smallest limit.
        assert_eq!(workers_for(Some("ZOHOONE")), 4);
    }

    #[test]
    fn backoff_follows_the_schedule_with_jitter() {
        assert_eq!(backoff_ms(1, 0.0), 5_000);
        assert_eq!(backoff_ms(2, 0.0), 30_000);
        assert_eq!(backoff_ms(6, 0.0), 3_600_000);
        assert_eq!(backoff_ms(60, 0.0), 3_600_000);
        assert_eq!(backoff_ms(1, 1.0), 6_000);
        assert_eq!(backoff_ms(1, -1.0), 4_000);
    }

    fn zoho(e: ZohoError) -> EngineError {
        EngineError::Zoho(e)
    }

    #[test]
    fn failures_are_classified() {
        let now = 1_000_000;
        let f = classify(&zoho(ZohoError::Timeout), 1, now, now, 0.0);
        assert_eq!(
            f,
            Finish::Retry {
                at_ms: now + 5_000,
                uncertain: true,
                error: "Zoho did not answer in time".into()
            }
        );
        let f = classify(
            &zoho(ZohoError::Network("connection failed".into())),
            2,
            now,
            now,
            0.0,
        );
        assert!(
            matches!(f, Finish::Retry { uncertain: false, at_ms, .. } if at_ms == now + 30_000)
        );
        // 429 with Retry-After: the later of the schedule, the header and the floor.
        let f = classify(
            &zoho(ZohoError::RateLimited {
                code: "TOO_MANY_REQUESTS".into(),
                retry_after: Some(45),
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Retry { at_ms, .. } if at_ms == now + 45_000));
        let f = classify(
            &zoho(ZohoError::RateLimited {
                code: "TOO_MANY_REQUESTS".into(),
                retry_after: None,
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Retry { at_ms, .. } if at_ms == now + 10_000));
        // Daily credits gone: wait for the reset Zoho names.
        let f = classify(
            &zoho(ZohoError::RateLimited {
                code: "THRESHOLD_EXCEEDED".into(),
                retry_after: Some(7200),
            }),
            9,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Retry { at_ms, .. } if at_ms == now + 7_200_000));
        let f = classify(
            &zoho(ZohoError::Api {
                status: 503,
                code: "SERVICE_UNAVAILABLE".into(),
                message: String::new(),
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(
            f,
            Finish::Retry {
                uncertain: true,
                ..
            }
        ));
        let f = classify(
            &zoho(ZohoError::Api {
                status: 422,
                code: "INVALID_DATA".into(),
                message: "bad".into(),
            }),
            1,
            now,
            now,
            0.0,
        );
        assert!(matches!(f, Finish::Failed(_)));
        assert!(matches!(
            classify(&EngineError::AuthExpired, 1, now, now, 0.0),
            Finish::Paused(_)
        ));
        // A day of failures: over.
        let f = classify(&zoho(ZohoError::Timeout), 30, 0, GIVE_UP_MS + 1, 0.0);
        assert!(matches!(f, Finish::Failed(w) if w.contains("gave up after 30 attempts")));
    }

    #[test]
    fn call_logs_need_standard_or_above() {
        assert!(!call_logs_available(Some("FREE")));
        assert!(!call_logs_available(Some("EXPRESS")));
        assert!(call_logs_available(Some("PROFESSIONAL")));
        assert!(call_logs_available(None));
    }
}
