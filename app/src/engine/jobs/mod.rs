//! The job runner (design/reliability.md): claims due jobs with a lease, does their Zoho work
//! outside any transaction, records the outcome, and classifies failures into retry (with
//! backoff, jitter and `Retry-After`), wait for quota, pause (integration off, authorization
//! expired) and permanent failure. Creations that may already have happened are looked up
//! before they are retried, so Zoho never gets a duplicate.
//!
//! [`Jobs`] owns the runner's state (its lease, the worker's wake-up, the instances sharing
//! Zoho's limit); the steps below (one per kind of job) use the services they name through
//! the engine they are given. The numbers and rules of the runner are in [`policy`].

mod policy;

pub use policy::*;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::bus;
use super::calls::event::Direction;
use super::calls::machine::CallType;
use super::calls::{now_ms, Switch};
use super::lookup::ZohoRecord;
use super::metrics::Metrics;
use super::queue::{key, Job, JobResult};
use super::rules::{self, CallWork, CreateWork};
use super::store::jobs::{ClaimedJob, Finish, NewJob};
use super::store::{Dialect, Store};
use super::zoho::api::{Desk, NewAccount, NewCall, NewContact, NewTicket};
use super::zoho::connection::DeskCtx;
use super::zoho::ZohoError;
use super::{Engine, EngineError};
use crate::model::{AttemptOutcome, JobKind, JobNote, JobState, SyncNote, ZohoModule};

/// What a job step did when it did not fail.
enum Step {
    Done(Box<JobResult>),
    Wait { for_key: String, detail: String },
}

/// A finished step that only says `note`.
fn done(kind: JobKind, note: JobNote) -> Step {
    Step::Done(Box::new(JobResult::new(kind, note)))
}

/// The job runner's own state: the store it claims from, how long a claim holds, what wakes
/// the worker, and how many instances share the org's Zoho limit.
#[derive(Debug)]
pub struct Jobs {
    store: Store,
    metrics: Arc<Metrics>,
    /// How long a claimed job is this instance's ([`LEASE_MS`] by default).
    lease_ms: i64,
    /// Wakes the worker: new work, a retry, the switch turned on, a token renewed.
    wake: Arc<tokio::sync::Notify>,
    /// Instances alive on this database, this one included (its last heartbeat's count).
    instances: AtomicI64,
    /// Results of jobs seen done, by key: a done job is final (only failed ones are retried),
    /// so the job that needs one (a ticket, its caller's lookup) reads it here rather than
    /// from the store. Emptied when [`DONE_HELD`] are held.
    done: std::sync::Mutex<HashMap<String, Arc<JobResult>>>,
    /// Test hook: the job kind whose next outcome is "lost".
    #[cfg(feature = "test-hooks")]
    crash_point: std::sync::Mutex<Option<JobKind>>,
}

/// How many done jobs' results [`Jobs`] holds before it lets them all go (a few calls' worth
/// of seconds at full load; a later job of an older call reads the store).
const DONE_HELD: usize = 8192;

/// What a job reads of one it depends on (its caller's lookup, the call's ticket).
#[derive(Debug)]
struct Prior {
    state: JobState,
    result: Option<Arc<JobResult>>,
    last_error: Option<String>,
}

impl Jobs {
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        lease_ms: i64,
        wake: Arc<tokio::sync::Notify>,
    ) -> Jobs {
        Jobs {
            store,
            metrics,
            lease_ms,
            wake,
            instances: AtomicI64::new(1),
            done: Default::default(),
            #[cfg(feature = "test-hooks")]
            crash_point: Default::default(),
        }
    }

    fn hold_done(&self, key: &str, result: Arc<JobResult>) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if done.len() >= DONE_HELD {
            done.clear();
        }
        done.insert(key.to_string(), result);
    }

    /// The job of `key` as a job that depends on it needs it: from the results held, else
    /// from the store (and held when done).
    async fn prior(&self, key: &str) -> Result<Option<Prior>, EngineError> {
        let held = self
            .done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned();
        if let Some(result) = held {
            return Ok(Some(Prior {
                state: JobState::Done,
                result: Some(result),
                last_error: None,
            }));
        }
        let Some(row) = self.store.job_by_key(key).await? else {
            return Ok(None);
        };
        let result = row.result.map(Arc::new);
        if let (JobState::Done, Some(r)) = (row.state, &result) {
            self.hold_done(key, r.clone());
        }
        Ok(Some(Prior {
            state: row.state,
            result,
            last_error: row.last_error,
        }))
    }

    /// Wakes the worker (new work; another instance made some).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Writes this instance's heartbeat at `now_ms` and learns how many instances run jobs on
    /// the database (one on SQLite); the housekeeping calls it every minute.
    pub async fn heartbeat(&self, now_ms: i64) -> Result<i64, EngineError> {
        let n = self
            .store
            .heartbeat(now_ms, now_ms - INSTANCE_GONE_MS)
            .await?;
        self.instances.store(n, Ordering::Relaxed);
        Ok(n)
    }

    /// Jobs this instance runs at once for an org of `edition`: its share of what the edition
    /// allows ([`workers_for`]) among the instances alive at the last heartbeat.
    pub fn job_slots(&self, edition: Option<&str>) -> usize {
        let instances = self.instances.load(Ordering::Relaxed);
        share_of(workers_for(edition), instances) as usize
    }

    /// Runs every job due at `now_ms` (and those they make due), as many at a time as the
    /// org's edition allows ([`workers_for`]), until none is left; returns how many attempts
    /// ran. The steps use `engine`'s services. Tests call it to drain the queue.
    ///
    /// A rolling window, not batches: once half the slots are free, more jobs are claimed for
    /// them, so one slow Zoho request holds up only its own job (claiming for every single
    /// free slot would cost a claim per job).
    pub async fn run_due(&self, engine: &Engine, now_ms: i64) -> Result<usize, EngineError> {
        use futures::stream::{FuturesUnordered, StreamExt};
        let zoho = &engine.zoho;
        self.store.reap_jobs(now_ms, false).await?;
        let edition = zoho.desk_ctx().await.ok().and_then(|c| c.edition);
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
                && zoho.switch() == Switch::On
                && zoho.refresh_backoff().is_none();
            if claiming.is_none()
                && may_claim
                && !queue_empty
                && running.len() <= workers - refill_at
            {
                let limit = (workers - running.len()) as i64;
                claiming = Some((
                    finished,
                    Box::pin(self.store.claim_jobs(now_ms, now_ms + self.lease_ms, limit)),
                ));
            }
            tokio::select! {
                claimed = async { claiming.as_mut().expect("a claim").1.as_mut().await }, if claiming.is_some() => {
                    let asked_at = claiming.take().expect("a claim").0;
                    match claimed {
                        Ok(jobs) => {
                            queue_empty = jobs.is_empty() && finished == asked_at;
                            ran += jobs.len();
                            running.extend(jobs.into_iter().map(|j| self.run_job(engine, j, now_ms)));
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
                    engine.intake.note_changed();
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
        let lease = self.lease_ms;
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
        let all = self.store.dialect() == Dialect::Sqlite;
        Ok(self.store.reap_jobs(now_ms(), all).await?)
    }

    #[tracing::instrument(name = "job", skip_all, fields(
        job_id = job.job_id,
        key = %job.key,
        kind = %job.kind,
        attempt = job.attempts,
    ))]
    async fn run_job(&self, engine: &Engine, job: ClaimedJob, now: i64) -> Result<(), EngineError> {
        let work = async {
            match &job.job {
                Err(e) => Err(EngineError::Job(format!("unreadable job: {e}"))),
                Ok(Job::Contact(w)) => contact(engine, w, now).await,
                Ok(Job::Create(w)) => create(engine, &job, w).await,
                Ok(Job::Ticket(w)) => ticket(engine, &job, w, now).await,
                Ok(Job::CallLog(w)) => call_log(engine, &job, w, now).await,
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
        } else if let Finish::Done(result) = finish {
            self.hold_done(&job.key, Arc::new(*result));
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
        self.wake();
        Ok(())
    }

    /// The background worker: runs due jobs, then sleeps until the next is due (or new work
    /// or a change of the switch wakes it).
    pub async fn worker(&self, engine: &Engine) {
        if let Err(e) = self.recover_jobs().await {
            tracing::error!(error = %e, "recovering jobs");
        }
        let zoho = &engine.zoho;
        loop {
            if let Err(e) = self.run_due(engine, now_ms()).await {
                tracing::error!(error = %e, "running jobs");
            }
            let wait = match (self.store.next_job_due().await, zoho.refresh_backoff()) {
                (Ok(Some(_)), Some(pause)) => pause.max(Duration::from_millis(50)),
                (Ok(Some(due)), None) if zoho.switch() == Switch::On => {
                    Duration::from_millis((due - now_ms()).clamp(50, 30_000) as u64)
                }
                _ => Duration::from_secs(30),
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

// --- the steps, one per kind of job ---------------------------------------------------------

/// Who the call is with: the lookup (cached), the creation of an unknown caller, and the
/// sync of the record to the company contacts group.
async fn contact(engine: &Engine, w: &CallWork, now: i64) -> Result<Step, EngineError> {
    let mut record = engine.lookup.lookup_number(&engine.zoho, &w.number).await?;
    let mut created = false;
    let mut failed = None;
    if let (Some(rec), Some(_)) = (&record, w.create_as) {
        // Found: perhaps the record a creation for this number just made (for this call or
        // one ringing at the same time).
        let mut key = key::creation(&w.number_key);
        for _ in 0..MAX_CREATIONS {
            let creation = engine.jobs.prior(&key).await?;
            match record_of(creation.as_ref()) {
                Some(r) if r.id == rec.id => {
                    created = true;
                    break;
                }
                Some(r) => key = key::creation_after(&w.number_key, &r.id),
                None => break,
            }
        }
    }
    if record.is_none() {
        if let Some(module) = w.create_as {
            match through_creations(engine, w, module, now, None).await? {
                Creations::Wait(step) => return Ok(step),
                Creations::Made(r) => {
                    record = Some(r);
                    created = true;
                }
                Creations::Failed(error) => failed = Some(error),
                Creations::Gone => {}
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
        Some(t) => Some(
            engine
                .phonebook
                .sync_record(&engine.rules.current(), t.group_id, &rec)
                .await?,
        ),
    };
    super::agent::caller_found(engine, &w.call_id, &rec).await;
    engine.bus.tell(bus::Notice::CallerFound {
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
async fn create(engine: &Engine, job: &ClaimedJob, w: &CreateWork) -> Result<Step, EngineError> {
    let ctx = engine.zoho.desk_ctx().await?;
    let desk = Desk::new(&engine.zoho, &ctx);
    if job.uncertain || job.attempts > 1 {
        // An earlier attempt may have created it: look before creating again, first among
        // the newest records (a list, which Zoho serves from its data: a record made a
        // moment ago is not in its search index yet), then by a search.
        let recent = recent_record_with(engine, &ctx, w.create_as, &w.number).await?;
        let found = match recent {
            Some(r) => Some(r),
            None => {
                engine
                    .lookup
                    .search_number(&engine.zoho, &ctx, &w.number)
                    .await?
            }
        };
        if let Some(rec) = found {
            engine.lookup.cache.put(&w.number_key, Some(rec.clone()));
            engine.bus.tell(bus::Notice::Forget {
                key: w.number_key.clone(),
                account: rec.module == ZohoModule::Accounts,
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
            let (field, number) = engine.numbers().storable(&w.number);
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
                phone: Some(engine.numbers().storable(&w.number).1),
                description: Some(created_for(&w.number)),
            };
            let made = desk.create_account(&account).await?;
            engine.lookup.accounts.remember(&ctx.org_id, &made);
            ZohoRecord::from_account(&made)
        }
    }
    .ok_or_else(|| EngineError::Zoho(ZohoError::Decode("the created record has no id".into())))?;
    engine.lookup.cache.put(&w.number_key, Some(rec.clone()));
    engine.bus.tell(bus::Notice::Forget {
        key: w.number_key.clone(),
        account: rec.module == ZohoModule::Accounts,
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

async fn ticket(
    engine: &Engine,
    job: &ClaimedJob,
    w: &CallWork,
    now: i64,
) -> Result<Step, EngineError> {
    let Some(o) = w.outcome.clone() else {
        return Ok(done(JobKind::Ticket, JobNote::NotEnded));
    };
    let contact = engine
        .jobs
        .prior(&key::call(&w.call_id, JobKind::Contact))
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
    let ctx = engine.zoho.desk_ctx().await?;
    let desk = Desk::new(&engine.zoho, &ctx);
    let marker = rules::call_marker(&w.call_id);
    let subject = rules::ticket_subject(w, o.call_type);
    let since_ms = job.created_ms - 60_000; // the PBX host's and Zoho's clocks differ
    if job.uncertain {
        if let Some(t) = earlier_ticket(&desk, &rec.id, &subject, &marker, since_ms).await? {
            return Ok(ticket_done(&t, true, false, None));
        }
    }
    let department = engine
        .zoho
        .department(&ctx, w.department_id.as_deref())
        .await?;
    let mut ticket = NewTicket {
        subject,
        department_id: department,
        contact_id: rec.id.clone(),
        channel: "Phone".into(),
        phone: Some(w.number.clone()),
        description: rules::call_description(
            w,
            &o,
            engine.pbx_utc_offset(),
            &engine.recordings_url(),
        ),
        assignee_id: w.agent_id.clone(),
    };
    let (t, unassigned, instead) = match make_ticket(&desk, &mut ticket).await {
        Err(refused) if refuses_contact(&refused) => {
            // The contact was deleted since the lookup found it (its cache held it).
            let again = caller_again(engine, w, &rec, refused, now).await?;
            let live = match again.contact(JobKind::Ticket, &w.number) {
                Ok(r) => r,
                Err(step) => return Ok(step),
            };
            if job.uncertain {
                let earlier = earlier_ticket(&desk, &live.id, &ticket.subject, &marker, since_ms);
                if let Some(t) = earlier.await? {
                    return Ok(ticket_done(&t, true, false, Some(live)));
                }
            }
            ticket.contact_id = live.id.clone();
            let (t, unassigned) = make_ticket(&desk, &mut ticket).await?;
            (t, unassigned, Some(live))
        }
        other => {
            let (t, unassigned) = other?;
            (t, unassigned, None)
        }
    };
    if t.get("id").is_none() {
        return Err(EngineError::Zoho(ZohoError::Decode(
            "the ticket has no id".into(),
        )));
    }
    Ok(ticket_done(&t, false, unassigned, instead))
}

/// Creates `ticket`, unassigned when Zoho refuses its assignee (the agent cannot own tickets
/// of that department); the answer, and whether it was made unassigned.
async fn make_ticket(
    desk: &Desk<'_>,
    ticket: &mut NewTicket,
) -> Result<(Value, bool), EngineError> {
    match desk.create_ticket(ticket).await {
        Err(EngineError::Zoho(ZohoError::Api {
            status, message, ..
        })) if status < 500 && message.contains("/assigneeId") => {
            ticket.assignee_id = None;
            Ok((desk.create_ticket(ticket).await?, true))
        }
        other => Ok((other?, false)),
    }
}

/// The ticket an earlier attempt made for this call on this contact, if any: the contact's
/// tickets with this subject made since `since_ms`, each read whole to find the call's
/// marker in its description, the earliest first (the earlier attempt's is among them
/// however many tickets of the same subject a busy caller has had since).
async fn earlier_ticket(
    desk: &Desk<'_>,
    contact_id: &str,
    subject: &str,
    marker: &str,
    since_ms: i64,
) -> Result<Option<Value>, EngineError> {
    let mut candidates: Vec<(i64, String)> = Vec::new();
    for page in 0..10 {
        let items = desk.contact_tickets(contact_id, page * 50, 50).await?;
        for t in &items {
            let created = t
                .get("createdTime")
                .and_then(Value::as_str)
                .and_then(rules::zoho_time_ms);
            if created.is_some_and(|c| c < since_ms)
                || t.get("subject").and_then(Value::as_str) != Some(subject)
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
            .is_some_and(|d| d.contains(marker));
        if ours {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Whether Zoho refused a ticket's or call activity's `contactId`: the contact is not in the
/// org (any more).
fn refuses_contact(e: &EngineError) -> bool {
    matches!(e, EngineError::Zoho(ZohoError::Api { status, message, .. })
        if *status < 500 && message.contains("/contactId"))
}

/// Who a call is with, once Zoho refused the contact its lookup found.
enum Caller {
    /// Another record with the number, or the one made for it.
    Now(ZohoRecord),
    /// The caller is being created: the job waits for it.
    Wait(Step),
    /// Nobody has the number, and unknown callers are not created.
    Nobody,
}

impl Caller {
    /// The contact a ticket or call activity (`kind`) goes to, or the step that ends it (an
    /// account has the number, or nobody) or makes it wait for the caller's creation.
    fn contact(self, kind: JobKind, number: &str) -> Result<ZohoRecord, Step> {
        let number = number.to_string();
        match self {
            Caller::Now(r) if r.module == ZohoModule::Contacts => Ok(r),
            Caller::Now(r) => Err(done(
                kind,
                JobNote::IsAccount {
                    number,
                    name: r.name,
                },
            )),
            Caller::Wait(step) => Err(step),
            Caller::Nobody => Err(done(kind, JobNote::NoContact { number })),
        }
    }
}

/// Who has the call's number now that Zoho refused `gone`, the contact the call's lookup
/// found (an agent deleted it while the lookup's cache still held it): the number searched
/// again, past the cache, or, when nobody else has it, the caller created as an unknown
/// caller is (once, however many calls find it gone). `refused` is Zoho's answer, returned
/// as is when `gone` is in fact still there (the refusal was about something else).
async fn caller_again(
    engine: &Engine,
    w: &CallWork,
    gone: &ZohoRecord,
    refused: EngineError,
    now: i64,
) -> Result<Caller, EngineError> {
    if still_there(engine, gone).await? {
        return Err(refused);
    }
    engine.lookup.cache.forget(&w.number_key);
    engine.bus.tell(bus::Notice::Forget {
        key: w.number_key.clone(),
        account: false,
    });
    let ctx = engine.zoho.desk_ctx().await?;
    let found = engine
        .lookup
        .search_number(&engine.zoho, &ctx, &w.number)
        .await?
        .filter(|r| r.id != gone.id);
    if let Some(r) = found {
        engine.lookup.cache.put(&w.number_key, Some(r.clone()));
        return Ok(Caller::Now(r));
    }
    let Some(module) = w.create_as else {
        return Ok(Caller::Nobody);
    };
    match through_creations(engine, w, module, now, Some(&gone.id)).await? {
        Creations::Wait(step) => Ok(Caller::Wait(step)),
        Creations::Made(r) => Ok(Caller::Now(r)),
        Creations::Failed(error) => Err(EngineError::Job(format!(
            "the caller's contact is gone and creating it again failed ({error})"
        ))),
        Creations::Gone => Ok(Caller::Nobody),
    }
}

async fn call_log(
    engine: &Engine,
    job: &ClaimedJob,
    w: &CallWork,
    now: i64,
) -> Result<Step, EngineError> {
    let Some(o) = w.outcome.clone() else {
        return Ok(done(JobKind::CallLog, JobNote::NotEnded));
    };
    let ctx = engine.zoho.desk_ctx().await?;
    let desk = Desk::new(&engine.zoho, &ctx);
    if !call_logs_available(ctx.edition.as_deref()) {
        let note = JobNote::EditionWithoutCalls {
            edition: ctx.edition.clone().unwrap_or_else(|| "?".into()),
        };
        return Ok(done(JobKind::CallLog, note));
    }
    let contact = engine
        .jobs
        .prior(&key::call(&w.call_id, JobKind::Contact))
        .await?;
    prerequisite_ok(contact.as_ref())?;
    let ticket = engine
        .jobs
        .prior(&key::call(&w.call_id, JobKind::Ticket))
        .await?
        .and_then(|j| j.result);
    // The ticket's contact when the lookup's was gone by then, else the lookup's.
    let mut instead = ticket.as_ref().and_then(|t| t.record.clone());
    let rec = match instead.clone().or_else(|| record_of(contact.as_ref())) {
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
    let ticket_id = ticket
        .and_then(|r| r.ticket_id.clone())
        .filter(|id| !id.is_empty());
    let subject = rules::ticket_subject(w, o.call_type);
    let start = rules::zoho_time(o.started_ms);
    // An uncertain attempt first looks for what an earlier one may have logged: the
    // contact's calls (a list, not the lagging search index) with this subject and start,
    // read whole for the marker.
    let marker = rules::call_marker(&w.call_id);
    if job.uncertain {
        if let Some(c) = logged_call(engine, &ctx, &rec.id, &subject, &start, &marker).await? {
            return Ok(call_done(&c, true, instead));
        }
    }
    let status = match o.call_type {
        CallType::InboundMissed | CallType::OutboundUnanswered => "Missed",
        _ => "Completed",
    };
    let department = engine
        .zoho
        .department(&ctx, w.department_id.as_deref())
        .await?;
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
            engine.pbx_utc_offset(),
            &engine.recordings_url(),
        ),
        owner_id: w.agent_id.clone(),
        ticket_id,
    };
    let answer = match log_call(&desk, &mut activity).await {
        Err(refused) if refuses_contact(&refused) => {
            // The contact was deleted since the lookup found it (its cache held it).
            let again = caller_again(engine, w, &rec, refused, now).await?;
            let live = match again.contact(JobKind::CallLog, &w.number) {
                Ok(r) => r,
                Err(step) => return Ok(step),
            };
            if job.uncertain {
                let (subject, start) = (&activity.subject, &activity.start_time);
                let earlier = logged_call(engine, &ctx, &live.id, subject, start, &marker);
                if let Some(c) = earlier.await? {
                    return Ok(call_done(&c, true, Some(live)));
                }
            }
            activity.contact_id = live.id.clone();
            instead = Some(live);
            log_call(&desk, &mut activity).await
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
            Ok(call_done(&c, false, instead))
        }
    }
}

/// Logs `activity`, without an owner when Zoho refuses its owner (the agent is not in the
/// call's department), as an unassigned ticket is.
async fn log_call(desk: &Desk<'_>, activity: &mut NewCall) -> Result<Value, EngineError> {
    match desk.create_call(activity).await {
        Err(EngineError::Zoho(ZohoError::Api {
            status, message, ..
        })) if status < 500 && message.contains("/ownerId") => {
            activity.owner_id = None;
            desk.create_call(activity).await
        }
        other => other,
    }
}

/// Where the creations of a caller the lookup did not find leave its call.
enum Creations {
    /// A creation is queued or under way: the call's lookup waits for it.
    Wait(Step),
    /// The record the last creation made, still in the org (the search index lags behind it).
    Made(ZohoRecord),
    /// The last creation failed, with this error.
    Failed(String),
    /// Every record made is gone and [`MAX_CREATIONS`] were made: nobody.
    Gone,
}

/// The number's creations, oldest first: one whose record is gone from the org (deleted, or
/// made in the org chosen before) is followed by the next; the first not yet made is queued.
/// `known_gone`: a record already read as gone, not read again.
async fn through_creations(
    engine: &Engine,
    w: &CallWork,
    module: ZohoModule,
    now: i64,
    known_gone: Option<&str>,
) -> Result<Creations, EngineError> {
    let mut key = key::creation(&w.number_key);
    for _ in 0..MAX_CREATIONS {
        let Some(j) = engine.jobs.prior(&key).await? else {
            let work = CreateWork {
                number: w.number.clone(),
                number_key: w.number_key.clone(),
                create_as: module,
            };
            let job = NewJob {
                key: key.clone(),
                job: Job::Create(work),
                call_id: Some(w.call_id.clone()),
                waits_for: None,
            };
            engine.store.enqueue(&job, now).await?;
            return Ok(Creations::Wait(Step::Wait {
                for_key: key,
                detail: format!("{} is unknown: creating it", w.number),
            }));
        };
        if j.state.is_open() {
            return Ok(Creations::Wait(Step::Wait {
                for_key: key,
                detail: format!("{} is being created", w.number),
            }));
        }
        if j.state != JobState::Done {
            return Ok(Creations::Failed(j.last_error.unwrap_or_default()));
        }
        let Some(r) = record_of(Some(&j)) else {
            return Ok(Creations::Gone);
        };
        if known_gone != Some(r.id.as_str()) && still_there(engine, &r).await? {
            return Ok(Creations::Made(r));
        }
        key = key::creation_after(&w.number_key, &r.id);
    }
    Ok(Creations::Gone)
}

/// How many records one number may have had made for it (each deleted, or left in another
/// org, before the next): the chain of its creations is read no further.
const MAX_CREATIONS: usize = 16;

/// Whether a record a creation made is still in the org: Zoho reads it (`GET` by id), not
/// trashed. A record of another org (the admin chose another) reads as missing.
async fn still_there(engine: &Engine, rec: &ZohoRecord) -> Result<bool, EngineError> {
    let ctx = engine.zoho.desk_ctx().await?;
    let desk = Desk::new(&engine.zoho, &ctx);
    let now = match rec.module {
        ZohoModule::Contacts => desk.contact(&rec.id).await?,
        ZohoModule::Accounts => desk.account(&rec.id).await?,
    };
    Ok(now.is_some_and(|v| {
        v.get("isTrashed").and_then(Value::as_bool) != Some(true)
            && v.get("isDeleted").and_then(Value::as_bool) != Some(true)
    }))
}

/// A ticket or call activity cannot go on when the lookup of its caller failed: it fails too
/// (retrying the lookup by hand queues it again).
fn prerequisite_ok(contact: Option<&Prior>) -> Result<(), EngineError> {
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

/// Among the org's newest contacts (or accounts), one with this number: what an earlier
/// attempt of a creation made, read from a list (searches lag behind new records).
async fn recent_record_with(
    engine: &Engine,
    ctx: &DeskCtx,
    module: ZohoModule,
    number: &str,
) -> Result<Option<ZohoRecord>, EngineError> {
    let policy = engine.numbers();
    let make: fn(&Value) -> Option<ZohoRecord> = match module {
        ZohoModule::Contacts => ZohoRecord::from_contact,
        ZohoModule::Accounts => ZohoRecord::from_account,
    };
    Ok(Desk::new(&engine.zoho, ctx)
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
    engine: &Engine,
    ctx: &DeskCtx,
    contact_id: &str,
    subject: &str,
    start: &str,
    marker: &str,
) -> Result<Option<Value>, EngineError> {
    let desk = Desk::new(&engine.zoho, ctx);
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

/// The description of a record the integration creates for an unknown caller.
fn created_for(number: &str) -> String {
    format!("Created by the PBX integration for calls from {number}.")
}

/// A text field of a Zoho answer (empty when absent).
fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// A made (or found) ticket; `instead`: the contact it went to when the lookup's was gone.
fn ticket_done(
    t: &Value,
    found_earlier: bool,
    unassigned: bool,
    instead: Option<ZohoRecord>,
) -> Step {
    let note = JobNote::Ticket {
        number: text(t, "ticketNumber"),
        subject: text(t, "subject"),
        found_earlier,
        unassigned,
        instead: instead.as_ref().map(|r| r.name.clone()),
    };
    Step::Done(Box::new(JobResult {
        ticket_id: Some(text(t, "id")),
        ticket_number: Some(text(t, "ticketNumber")),
        link: Some(text(t, "webUrl")).filter(|u| !u.is_empty()),
        record: instead,
        ..JobResult::new(JobKind::Ticket, note)
    }))
}

/// A logged (or found) call activity; `instead` as [`ticket_done`]'s.
fn call_done(c: &Value, found_earlier: bool, instead: Option<ZohoRecord>) -> Step {
    let note = JobNote::CallActivity {
        subject: text(c, "subject"),
        status: text(c, "status"),
        found_earlier,
        instead: instead.map(|r| r.name),
    };
    Step::Done(Box::new(JobResult {
        call_activity_id: Some(text(c, "id")),
        link: Some(text(c, "webUrl")).filter(|u| !u.is_empty()),
        ..JobResult::new(JobKind::CallLog, note)
    }))
}

fn is_license_limited(e: &EngineError) -> bool {
    matches!(e, EngineError::Zoho(ZohoError::Api { code, .. }) if code == "LICENSE_ACCESS_LIMITED")
}

/// The caller's record a finished contact or creation job found or made.
fn record_of(job: Option<&Prior>) -> Option<ZohoRecord> {
    job.and_then(|j| j.result.as_ref())
        .and_then(|r| r.record.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn jobs_on_a_new_store() -> (Jobs, Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "helpdesk-jobs-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let store = Store::connect(&format!("sqlite://{}/h.db", dir.display()))
            .await
            .unwrap();
        let jobs = Jobs::new(
            store.clone(),
            Arc::new(Metrics::default()),
            LEASE_MS,
            Default::default(),
        );
        (jobs, store, dir)
    }

    fn creation(number_key: &str) -> NewJob {
        NewJob {
            key: key::creation(number_key),
            job: Job::Create(CreateWork {
                number: number_key.into(),
                number_key: number_key.into(),
                create_as: ZohoModule::Contacts,
            }),
            call_id: None,
            waits_for: None,
        }
    }

    fn result(summary: &str) -> JobResult {
        JobResult {
            summary: summary.into(),
            ..JobResult::new(JobKind::Create, JobNote::NotEnded)
        }
    }

    #[tokio::test]
    async fn a_prior_job_is_held_once_done_and_read_from_the_store_until_then() {
        let (jobs, store, dir) = jobs_on_a_new_store().await;
        let job = creation("4155550134");
        assert!(
            jobs.prior(&job.key).await.unwrap().is_none(),
            "no such job yet"
        );

        // Failed: read from the store each time, never held.
        store.enqueue(&job, 1).await.unwrap();
        let claimed = store.claim_jobs(1, 1 + LEASE_MS, 10).await.unwrap();
        let id = claimed[0].job_id;
        let failed = Finish::Failed("Zoho said no".into());
        assert!(store.finish_job(id, 1, 1, 2, &failed).await.unwrap());
        let p = jobs.prior(&job.key).await.unwrap().unwrap();
        assert_eq!(
            (p.state, p.last_error.as_deref()),
            (JobState::Failed, Some("Zoho said no"))
        );
        assert!(
            jobs.done.lock().unwrap().is_empty(),
            "a failed job is not final"
        );

        // Retried by hand and done: the store's result is read, and held from then on.
        assert!(store.retry_job(id, 3).await.unwrap());
        store.claim_jobs(3, 3 + LEASE_MS, 10).await.unwrap();
        let done = Finish::Done(Box::new(result("made contact 42")));
        assert!(store.finish_job(id, 2, 3, 4, &done).await.unwrap());
        let p = jobs.prior(&job.key).await.unwrap().unwrap();
        assert_eq!(p.state, JobState::Done);
        assert_eq!(p.result.unwrap().summary, "made contact 42");
        assert!(jobs.done.lock().unwrap().contains_key(&job.key));

        // A job this instance saw end is answered without the store (none has this key).
        jobs.hold_done("creation:elsewhere", Arc::new(result("held")));
        let p = jobs.prior("creation:elsewhere").await.unwrap().unwrap();
        assert_eq!(
            (p.state, p.result.unwrap().summary.as_str()),
            (JobState::Done, "held")
        );

        // Bounded: once full, the held results are let go and the store answers again.
        for i in 0..DONE_HELD {
            jobs.hold_done(&format!("creation:n{i}"), Arc::new(result("x")));
        }
        assert!(jobs.done.lock().unwrap().len() <= DONE_HELD);
        assert!(jobs.prior("creation:elsewhere").await.unwrap().is_none());
        let p = jobs.prior(&job.key).await.unwrap().unwrap();
        assert_eq!(p.result.unwrap().summary, "made contact 42");
        drop((jobs, store));
        let _ = std::fs::remove_dir_all(dir);
    }
}
