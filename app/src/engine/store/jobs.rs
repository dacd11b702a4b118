//! Durable jobs (design/reliability.md): written with the fact that causes them, claimed with
//! a lease in one short statement, finished in another; no transaction is ever held across a
//! request to Zoho.

use sqlx::Row;

use super::{DbRow, DbTx, Store, StoreError};
use crate::engine::queue::{key, Job, JobResult};
use crate::model::{AttemptOutcome, JobKind, JobState};

/// A value bound to a statement whose values vary by case.
enum Param {
    Int(i64),
    Text(String),
}

/// Binds `params` after what `q` has bound.
fn with_params<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for p in params {
        q = match p {
            Param::Int(i) => q.bind(*i),
            Param::Text(t) => q.bind(t.as_str()),
        };
    }
    q
}

/// Work to enqueue. A second job with the same key is a no-op.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub key: String,
    pub job: Job,
    pub call_id: Option<String>,
    pub waits_for: Option<String>,
}

/// A job as claimed by a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedJob {
    pub job_id: i64,
    pub key: String,
    pub kind: JobKind,
    pub call_id: Option<String>,
    /// The job, or why its stored payload could not be read (it then fails, alone).
    pub job: Result<Job, String>,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub uncertain: bool,
    pub created_ms: i64,
}

/// A job as the integration log shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRow {
    pub job_id: i64,
    pub key: String,
    pub kind: JobKind,
    pub call_id: Option<String>,
    pub state: JobState,
    pub attempts: i64,
    pub run_after_ms: i64,
    pub result: Option<JobResult>,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRow {
    pub job_id: i64,
    pub finished_ms: i64,
    pub outcome: AttemptOutcome,
    pub detail: Option<String>,
}

/// How an attempt ended, as the store records it.
#[derive(Clone, Debug, PartialEq)]
pub enum Finish {
    /// Done; what it found or made.
    Done(Box<JobResult>),
    /// Try again at this time. `uncertain`: the request may have had its effect.
    Retry {
        at_ms: i64,
        uncertain: bool,
        error: String,
    },
    /// Over, unsuccessfully, until someone retries by hand.
    Failed(String),
    /// Not an attempt: the job waits for another (its key), then runs again.
    Wait { for_key: String, detail: String },
    /// Not an attempt: the integration is off or its authorization expired.
    Paused(String),
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(Box::new(e)))
}

/// A stored word that is not one of the enum's (the `CHECK` constraints keep them out).
fn word_err(column: &str, word: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("unknown {column} {word:?}").into(),
    ))
}

fn kind_of(r: &DbRow) -> Result<JobKind, StoreError> {
    let w: String = r.get("kind");
    JobKind::parse(&w).ok_or_else(|| word_err("job kind", &w))
}

pub(super) async fn insert_job(
    tx: &mut DbTx<'_>,
    job: &NewJob,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(insert_jobs(tx, std::slice::from_ref(job), now_ms).await? > 0)
}

/// Inserts jobs in one statement (a key already queued is left as it is); returns how many
/// are new.
pub(super) async fn insert_jobs(
    tx: &mut DbTx<'_>,
    jobs: &[NewJob],
    now_ms: i64,
) -> Result<u64, StoreError> {
    if jobs.is_empty() {
        return Ok(0);
    }
    // `$1` is the time; each job's five values follow.
    let rows: Vec<String> = (0..jobs.len())
        .map(|i| {
            let p = 2 + 5 * i;
            format!(
                "(${}, ${}, ${}, ${}, 'queued', ${}, $1, $1, $1)",
                p,
                p + 1,
                p + 2,
                p + 3,
                p + 4
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO job (job_key, kind, call_id, payload, state, waits_for, run_after_ms, created_ms, updated_ms)
         VALUES {} ON CONFLICT (job_key) DO NOTHING",
        rows.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(now_ms);
    for job in jobs {
        q = q
            .bind(&job.key)
            .bind(job.job.kind().as_str())
            .bind(&job.call_id)
            .bind(job.job.payload())
            .bind(&job.waits_for);
    }
    Ok(q.execute(&mut **tx).await?.rows_affected())
}

fn job_row(r: DbRow) -> Result<JobRow, StoreError> {
    let result: Option<String> = r.get("result");
    let state: String = r.get("state");
    Ok(JobRow {
        job_id: r.get("job_id"),
        key: r.get("job_key"),
        kind: kind_of(&r)?,
        call_id: r.get("call_id"),
        state: JobState::parse(&state).ok_or_else(|| word_err("job state", &state))?,
        attempts: r.get("attempts"),
        run_after_ms: r.get("run_after_ms"),
        result: result
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(json_err)?,
        last_error: r.get("last_error"),
    })
}

impl Store {
    /// Enqueues a job outside any fact (a creation a lookup found necessary). Returns whether
    /// it is new.
    pub async fn enqueue(&self, job: &NewJob, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let new = insert_job(&mut tx, job, now_ms).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Claims up to `limit` due jobs whose prerequisite is over: `running` with a lease until
    /// `lease_until_ms`. One statement, so two workers never claim the same job.
    pub async fn claim_jobs(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        // On PostgreSQL several instances claim at once: each skips the rows another is
        // claiming, and the outer `state` test holds if a row changed while we waited.
        const CLAIM_SQLITE: &str = "UPDATE job SET state = 'running', lease_until_ms = $1, attempts = attempts + 1, updated_ms = $2
             WHERE job_id IN (
                SELECT j.job_id FROM job j
                WHERE j.state = 'queued' AND j.run_after_ms <= $2
                  AND (j.waits_for IS NULL OR NOT EXISTS (
                        SELECT 1 FROM job d WHERE d.job_key = j.waits_for AND d.state IN ('queued', 'running')))
                ORDER BY j.run_after_ms, j.job_id LIMIT $3)
             RETURNING job_id, job_key, kind, call_id, payload, attempts, uncertain, created_ms";
        const CLAIM_POSTGRES: &str = "UPDATE job SET state = 'running', lease_until_ms = $1, attempts = attempts + 1, updated_ms = $2
             WHERE state = 'queued' AND job_id IN (
                SELECT j.job_id FROM job j
                WHERE j.state = 'queued' AND j.run_after_ms <= $2
                  AND (j.waits_for IS NULL OR NOT EXISTS (
                        SELECT 1 FROM job d WHERE d.job_key = j.waits_for AND d.state IN ('queued', 'running')))
                ORDER BY j.run_after_ms, j.job_id LIMIT $3
                FOR UPDATE SKIP LOCKED)
             RETURNING job_id, job_key, kind, call_id, payload, attempts, uncertain, created_ms";
        let claim = match self.dialect {
            super::Dialect::Sqlite => CLAIM_SQLITE,
            super::Dialect::Postgres => CLAIM_POSTGRES,
        };
        let rows = sqlx::query(claim)
            .bind(lease_until_ms)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let payload: String = r.get("payload");
            let kind = kind_of(&r)?;
            out.push(ClaimedJob {
                job_id: r.get("job_id"),
                key: r.get("job_key"),
                kind,
                call_id: r.get("call_id"),
                job: Job::from_columns(kind, &payload).map_err(|e| e.to_string()),
                attempts: r.get("attempts"),
                uncertain: r.get::<i64, _>("uncertain") != 0,
                created_ms: r.get("created_ms"),
            });
        }
        out.sort_by_key(|j| j.job_id);
        Ok(out)
    }

    /// Records the end of an attempt, only if the job is still this attempt's: `running`, and
    /// not claimed again since (`attempts` counts the claims: an attempt whose lease ran out
    /// and whose job another instance took over cannot write over it). Whether it was.
    ///
    /// The job's new state and the attempt's record go together: on SQLite in one
    /// transaction, on PostgreSQL in one statement (the attempt is inserted from the update's
    /// `RETURNING`, so only when the update was this attempt's): one round trip instead of
    /// four, and the database is another process there.
    pub async fn finish_job(
        &self,
        job_id: i64,
        attempt: i64,
        started_ms: i64,
        now_ms: i64,
        finish: &Finish,
    ) -> Result<bool, StoreError> {
        // The update of each outcome with its values after `$1` (the job) and the attempt
        // (`$2`), what the attempt records, and its detail.
        let (update, params, outcome, detail): (&str, Vec<Param>, AttemptOutcome, Option<String>) =
            match finish {
                Finish::Done(result) => (
                    "UPDATE job SET state = 'done', result = $3, uncertain = 0, lease_until_ms = NULL,
                        last_error = NULL, updated_ms = $4 WHERE job_id = $1 AND state = 'running' AND attempts = $2",
                    vec![
                        Param::Text(serde_json::to_string(result).map_err(json_err)?),
                        Param::Int(now_ms),
                    ],
                    AttemptOutcome::Done,
                    Some(result.summary.clone()),
                ),
                Finish::Retry {
                    at_ms,
                    uncertain,
                    error,
                } => (
                    "UPDATE job SET state = 'queued', run_after_ms = $3, uncertain = CASE WHEN $4 = 1 THEN 1 ELSE uncertain END,
                        lease_until_ms = NULL, last_error = $5, updated_ms = $6
                     WHERE job_id = $1 AND state = 'running' AND attempts = $2",
                    vec![
                        Param::Int(*at_ms),
                        Param::Int(*uncertain as i64),
                        Param::Text(error.clone()),
                        Param::Int(now_ms),
                    ],
                    if *uncertain {
                        AttemptOutcome::Uncertain
                    } else {
                        AttemptOutcome::Retry
                    },
                    Some(error.clone()),
                ),
                Finish::Failed(why) => (
                    "UPDATE job SET state = 'failed', result = NULL, lease_until_ms = NULL,
                        last_error = $3, updated_ms = $4 WHERE job_id = $1 AND state = 'running' AND attempts = $2",
                    vec![Param::Text(why.clone()), Param::Int(now_ms)],
                    AttemptOutcome::Failed,
                    Some(why.clone()),
                ),
                Finish::Wait { for_key, detail } => (
                    "UPDATE job SET state = 'queued', waits_for = $3, attempts = attempts - 1,
                        lease_until_ms = NULL, updated_ms = $4 WHERE job_id = $1 AND state = 'running' AND attempts = $2",
                    vec![Param::Text(for_key.clone()), Param::Int(now_ms)],
                    AttemptOutcome::Waiting,
                    Some(detail.clone()),
                ),
                Finish::Paused(why) => (
                    "UPDATE job SET state = 'queued', attempts = attempts - 1, lease_until_ms = NULL,
                        run_after_ms = $3 + 5000, updated_ms = $3 WHERE job_id = $1 AND state = 'running' AND attempts = $2",
                    vec![Param::Int(now_ms)],
                    AttemptOutcome::Paused,
                    Some(why.clone()),
                ),
            };
        // The attempt's values follow the update's.
        let n = 2 + params.len();
        let attempt_values = format!("${}, ${}, ${}, ${}", n + 1, n + 2, n + 3, n + 4);
        let (sql, rows_when_ours) = match self.dialect {
            // One statement: the attempt inserted from the update's `RETURNING`, so only when
            // the update was this attempt's. Another instance took the job over (its lease
            // ran out): nothing inserted, its outcome is theirs.
            super::Dialect::Postgres => (
                format!(
                    "WITH ended AS ({update} RETURNING job_id)
                     INSERT INTO job_attempt (job_id, started_ms, finished_ms, outcome, detail)
                     SELECT job_id, {attempt_values} FROM ended"
                ),
                1,
            ),
            // One call to SQLite's thread, two statements (SQLite has no `UPDATE` inside
            // `WITH`): the attempt first, only while the job is still this attempt's, then the
            // job. Each commits as it ends: a crash between them leaves the job `running` with
            // this attempt recorded, and the restart queues it again as uncertain, as after a
            // crash just before this write (the uncertain path finds what the attempt made in
            // Zoho). Four round trips (BEGIN, two statements, COMMIT) become one. Both rows, or
            // the job was taken over (the attempt may then be recorded; its outcome is the new
            // owner's).
            super::Dialect::Sqlite => (
                format!(
                    "INSERT INTO job_attempt (job_id, started_ms, finished_ms, outcome, detail)
                     SELECT $1, {attempt_values} WHERE EXISTS (
                        SELECT 1 FROM job WHERE job_id = $1 AND state = 'running' AND attempts = $2);
                     {update}"
                ),
                2,
            ),
        };
        let q = with_params(sqlx::query(&sql).bind(job_id).bind(attempt), &params)
            .bind(started_ms)
            .bind(now_ms)
            .bind(outcome.as_str())
            .bind(detail.as_deref());
        Ok(q.execute(&self.pool).await?.rows_affected() == rows_when_ours)
    }

    /// Extends a running attempt's lease to `until_ms` (never shortens it), only while the job
    /// is still this attempt's. Whether it was extended.
    pub async fn renew_lease(
        &self,
        job_id: i64,
        attempt: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE job SET lease_until_ms = $3
             WHERE job_id = $1 AND attempts = $2 AND state = 'running' AND lease_until_ms < $3",
        )
        .bind(job_id)
        .bind(attempt)
        .bind(until_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Returns jobs whose lease ran out (their worker died) to the queue, marked uncertain:
    /// the request may have reached Zoho. `all`: every running job (at start, when no other
    /// process can be working: SQLite is one process's).
    pub async fn reap_jobs(&self, now_ms: i64, all: bool) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<i64> = sqlx::query(
            "UPDATE job SET state = 'queued', uncertain = 1, lease_until_ms = NULL,
                run_after_ms = $2, updated_ms = $2
             WHERE state = 'running' AND ($1 OR lease_until_ms < $2) RETURNING job_id",
        )
        .bind(all)
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
        let why = "the worker stopped before recording the outcome";
        record_attempts(&mut tx, &ids, now_ms, AttemptOutcome::Uncertain, why).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// The earliest time a queued job is due, or a running job's lease runs out (its instance
    /// may have died): for the worker's sleep.
    pub async fn next_job_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query(
            "SELECT MIN(t) FROM (
                SELECT MIN(run_after_ms) AS t FROM job WHERE state = 'queued'
                UNION ALL
                SELECT MIN(lease_until_ms) AS t FROM job WHERE state = 'running') AS due",
        )
        .fetch_one(&self.pool)
        .await?
        .get(0))
    }

    /// "Retry now" on a failed job: queued again, due at once, with the failed jobs that
    /// waited for it (a ticket whose lookup failed).
    pub async fn retry_job(&self, job_id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let key: Option<String> =
            sqlx::query("SELECT job_key FROM job WHERE job_id = $1 AND state = 'failed'")
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get(0));
        let Some(key) = key else {
            return Ok(false);
        };
        let mut keys = vec![key];
        while let Some(k) = keys.pop() {
            sqlx::query(
                "UPDATE job SET state = 'queued', run_after_ms = $2, updated_ms = $2
                 WHERE job_key = $1 AND state = 'failed'",
            )
            .bind(&k)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            let next: Vec<String> =
                sqlx::query("SELECT job_key FROM job WHERE waits_for = $1 AND state = 'failed'")
                    .bind(&k)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| r.get(0))
                    .collect();
            keys.extend(next);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Cancels every job not yet over (disconnect), with the reason.
    pub async fn cancel_jobs(&self, why: &str, now_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<i64> = sqlx::query(
            "UPDATE job SET state = 'cancelled', last_error = $1, lease_until_ms = NULL, updated_ms = $2
             WHERE state IN ('queued', 'running') RETURNING job_id",
        )
        .bind(why)
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
        record_attempts(&mut tx, &ids, now_ms, AttemptOutcome::Cancelled, why).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    pub async fn job_by_key(&self, key: &str) -> Result<Option<JobRow>, StoreError> {
        sqlx::query("SELECT * FROM job WHERE job_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .map(job_row)
            .transpose()
    }

    /// A call's jobs, with the creations they waited for.
    pub async fn call_jobs(&self, call_id: &str) -> Result<Vec<JobRow>, StoreError> {
        sqlx::query(
            "SELECT * FROM job WHERE call_id = $1
                OR job_key IN (SELECT waits_for FROM job WHERE call_id = $1 AND waits_for LIKE $2)
             ORDER BY job_id",
        )
        .bind(call_id)
        .bind(format!("{}%", key::CREATION_PREFIX))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(job_row)
        .collect()
    }

    pub async fn job_attempts(&self, job_ids: &[i64]) -> Result<Vec<AttemptRow>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        // `$n` written out: sqlx's query builder writes `?` for the `Any` driver, which
        // PostgreSQL does not read.
        let list: Vec<String> = (1..=job_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT job_id, finished_ms, outcome, detail FROM job_attempt WHERE job_id IN ({})
             ORDER BY attempt_id",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in job_ids {
            q = q.bind(*id);
        }
        q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                let outcome: String = r.get(2);
                Ok(AttemptRow {
                    job_id: r.get(0),
                    finished_ms: r.get(1),
                    outcome: AttemptOutcome::parse(&outcome)
                        .ok_or_else(|| word_err("attempt outcome", &outcome))?,
                    detail: r.get(3),
                })
            })
            .collect()
    }

    /// Calls with Zoho work queued or running.
    pub async fn waiting_calls(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(DISTINCT call_id) FROM job
             WHERE state IN ('queued', 'running') AND call_id IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?
        .get(0))
    }

    /// Jobs by kind and state (for metrics and tests).
    pub async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, i64)>, StoreError> {
        sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM job GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            let state: String = r.get("state");
            Ok((
                kind_of(&r)?,
                JobState::parse(&state).ok_or_else(|| word_err("job state", &state))?,
                r.get("n"),
            ))
        })
        .collect()
    }

    // --- rule settings -------------------------------------------------------------------

    pub async fn rule_settings(&self) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query("SELECT body FROM rule_settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get(0)))
    }

    pub async fn save_rule_settings(&self, body: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rule_settings (id, body, updated_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the Zoho connection: authorization, agents and bindings (Disconnect).
    pub async fn clear_zoho_state(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for stmt in [
            "DELETE FROM agent_binding",
            "DELETE FROM vanished_agent",
            "DELETE FROM zoho_agent",
            "DELETE FROM zoho_connection",
        ] {
            sqlx::query(stmt).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn clear_rule_settings(&self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM rule_settings")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The same attempt outcome for several jobs (reaped, cancelled), at `now_ms`.
async fn record_attempts(
    tx: &mut DbTx<'_>,
    job_ids: &[i64],
    now_ms: i64,
    outcome: AttemptOutcome,
    detail: &str,
) -> Result<(), StoreError> {
    for id in job_ids {
        record_attempt(tx, *id, now_ms, now_ms, outcome, Some(detail)).await?;
    }
    Ok(())
}

async fn record_attempt(
    tx: &mut DbTx<'_>,
    job_id: i64,
    started_ms: i64,
    finished_ms: i64,
    outcome: AttemptOutcome,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_attempt (job_id, started_ms, finished_ms, outcome, detail)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(job_id)
    .bind(started_ms)
    .bind(finished_ms)
    .bind(outcome.as_str())
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// The database of a store of the version before the queue's words were checked: its
    /// migrations up to 0008, with one job and one attempt in it.
    async fn before_checks() -> super::super::Pool {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let mut m = sqlx::migrate!("./migrations/sqlite");
        let upto: Vec<_> = m
            .migrations
            .iter()
            .filter(|x| x.version <= 8)
            .cloned()
            .collect();
        m.migrations = Cow::Owned(upto);
        m.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO job (job_id, job_key, kind, call_id, payload, state, run_after_ms, created_ms, updated_ms, result)
             VALUES (7, 'call:c1:ticket', 'ticket', 'c1', '{}', 'done', 1, 1, 2, '{\"summary\":\"s\",\"ticket_id\":\"42\"}')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO job_attempt (job_id, started_ms, finished_ms, outcome, detail) VALUES (7, 1, 2, 'done', 's')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool
    }

    #[tokio::test]
    async fn the_checked_tables_keep_every_job_and_attempt_and_refuse_unknown_words() {
        let pool = before_checks().await;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .unwrap();
        let store = Store {
            pool,
            dialect: super::super::Dialect::Sqlite,
            postgres: None,
        };

        let job = store.job_by_key("call:c1:ticket").await.unwrap().unwrap();
        assert_eq!(
            (job.job_id, job.kind, job.state),
            (7, JobKind::Ticket, JobState::Done)
        );
        let result = job.result.unwrap();
        assert_eq!(
            (result.summary.as_str(), result.ticket_id.as_deref()),
            ("s", Some("42"))
        );
        let attempts = store.job_attempts(&[7]).await.unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].outcome, AttemptOutcome::Done);

        for bad in [
            "UPDATE job SET state = 'paused' WHERE job_id = 7",
            "UPDATE job SET kind = 'email' WHERE job_id = 7",
            "INSERT INTO job_attempt (job_id, started_ms, finished_ms, outcome) VALUES (7, 3, 3, 'maybe')",
        ] {
            let e = sqlx::query(bad).execute(&store.pool).await.unwrap_err();
            assert!(e.to_string().contains("CHECK"), "{bad}: {e}");
        }
        // The attempts still belong to their job (the foreign key survived the rebuild).
        sqlx::query("DELETE FROM job WHERE job_id = 7")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(store.job_attempts(&[7]).await.unwrap().is_empty());
    }

    /// A new store holding one queued creation job (made at 1,000) for the number as typed.
    async fn store_with_creation(
        typed: &str,
        number_key: &str,
    ) -> (Store, NewJob, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("helpdesk-jobs-{}", rand::random::<u64>()));
        let store = Store::connect(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .unwrap();
        let job = NewJob {
            key: key::creation(number_key),
            job: Job::Create(crate::engine::rules::CreateWork {
                number: typed.into(),
                number_key: number_key.into(),
                create_as: crate::model::ZohoModule::Contacts,
            }),
            call_id: Some("c1".into()),
            waits_for: None,
        };
        assert!(store.enqueue(&job, 1_000).await.unwrap());
        (store, job, dir)
    }

    // An attempt whose job another instance took over writes nothing: the black-box test
    // `instances::an_attempt_whose_job_another_instance_took_over_writes_nothing` runs it on
    // both backends (PostgreSQL ends a job in another statement than SQLite).

    #[tokio::test]
    async fn a_renewed_lease_is_not_taken_over_and_a_stale_attempt_cannot_renew() {
        let (store, _, dir) = store_with_creation("0086-138-0013-8000", "+8613800138000").await;
        let first = store.claim_jobs(1_000, 2_000, 4).await.unwrap();
        // Still working at 1,700: the lease now runs to 2,700.
        assert!(store
            .renew_lease(first[0].job_id, first[0].attempts, 2_700)
            .await
            .unwrap());
        // Never shortened.
        assert!(!store
            .renew_lease(first[0].job_id, first[0].attempts, 2_100)
            .await
            .unwrap());
        // Past the first lease's end nothing is taken over; past the renewed one it is.
        assert_eq!(store.reap_jobs(2_500, false).await.unwrap(), 0);
        assert!(store.claim_jobs(2_500, 9_000, 4).await.unwrap().is_empty());
        assert_eq!(store.reap_jobs(2_800, false).await.unwrap(), 1);
        let second = store.claim_jobs(2_800, 9_000, 4).await.unwrap();
        assert_eq!(second.len(), 1);
        // The first attempt, late, cannot extend what is now the second's.
        assert!(!store
            .renew_lease(first[0].job_id, first[0].attempts, 20_000)
            .await
            .unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
