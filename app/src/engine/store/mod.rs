//! The store: every SQL statement of the app lives here. The same statements run on SQLite
//! (the embedded default: one file, WAL) and on PostgreSQL (several instances on one
//! database): `$n` parameters, integers for times and yes/no values, no dialect's own
//! functions. What differs is in [`Store::connect`] (the connection and the migrations, one set
//! per dialect) and in the few statements that ask [`Store::dialect`].

pub mod calls;
pub mod contacts;
pub mod jobs;
pub mod pbx;

use std::str::FromStr;

use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Executor, Row};

pub type Pool = sqlx::AnyPool;
/// A row of either dialect.
pub type DbRow = sqlx::any::AnyRow;
/// A transaction of either dialect.
pub type DbTx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Which database the store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect of a `DATABASE_URL`, if it is one the store runs on.
    pub fn of_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("DATABASE_URL is not supported: use sqlite://path or postgres://user@host/database")]
    Unsupported,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    dialect: Dialect,
    /// PostgreSQL: the URL (for the listener's own connection) and this instance's name
    /// there (`application_name`).
    postgres: Option<(String, String)>,
}

/// The connection row as stored (secrets still sealed).
#[derive(Clone, Debug, Default)]
pub struct ConnectionRow {
    pub accounts_url: String,
    pub desk_url: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub location: Option<String>,
    pub refresh_token_sealed: Option<String>,
    pub access_token_sealed: Option<String>,
    pub access_expires_at: Option<i64>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub orgs_json: Option<String>,
    pub status: String,
    pub last_error: Option<String>,
    pub enabled: bool,
}

/// The database holds the sealed secrets, the sessions and the calls: it is readable by its
/// owner only. The file is created 0600 before SQLite opens it (SQLite gives its `-wal` and
/// `-shm` files the database's mode), and an existing one is narrowed to 0600.
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            match std::fs::metadata(&file) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Where a sealed value is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealedAt {
    ClientSecret,
    RefreshToken,
    AccessToken,
    /// A row of `app_secret`, by name.
    App(String),
}

impl Store {
    /// Opens (creating if needed) the database and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        match Dialect::of_url(url).ok_or(StoreError::Unsupported)? {
            Dialect::Sqlite => Self::connect_sqlite(url).await,
            Dialect::Postgres => Self::connect_postgres(url).await,
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Store, StoreError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or("");
            if path != ":memory:" && !path.is_empty() {
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(e.into()))?;
                    }
                }
                owner_only(std::path::Path::new(path)).map_err(|e| StoreError::Db(e.into()))?;
            }
        }
        // The URL as SQLite's driver reads it (created if missing); the settings a URL cannot
        // carry are set on each new connection.
        let url = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .to_url_lossy();
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(url.as_str())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store {
            pool,
            dialect: Dialect::Sqlite,
            postgres: None,
        })
    }

    async fn connect_postgres(url: &str) -> Result<Store, StoreError> {
        // This instance's connections carry its name: the triggers' notices say who changed
        // what, and each instance skips its own (engine::bus).
        let name = format!("helpdesk-{:08x}", rand::random::<u32>());
        let mut named = url::Url::parse(url).map_err(|_| StoreError::Unsupported)?;
        let kept: Vec<(String, String)> = named
            .query_pairs()
            .filter(|(k, _)| k != "application_name")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        named
            .query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("application_name", &name);
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(named.as_str())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store {
            pool,
            dialect: Dialect::Postgres,
            postgres: Some((named.to_string(), name)),
        })
    }

    /// PostgreSQL: where to listen for the other instances, and this instance's name.
    pub fn listen_target(&self) -> Option<(String, String)> {
        self.postgres.clone()
    }

    /// Sends a notice on a channel (PostgreSQL), delivered to the listeners when it commits.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// PostgreSQL: a transaction holding the database's one "Zoho token renewal" lock until
    /// it ends, so that instances renew the token one at a time (the next one finds it new).
    /// SQLite: `None` (the process's own lock is enough).
    pub async fn hold_token_renewal(&self) -> Result<Option<calls::Tx>, StoreError> {
        if self.dialect != Dialect::Postgres {
            return Ok(None);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('helpdesk:zoho-token', 0))")
            .execute(&mut *tx)
            .await?;
        Ok(Some(tx))
    }

    /// PostgreSQL: records the claim of a call's pop on an extension; whether it is the first.
    pub async fn claim_pop(
        &self,
        call_id: &str,
        extension: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO pop_claim (call_id, extension, claimed_ms) VALUES ($1, $2, $3)
             ON CONFLICT (call_id, extension) DO NOTHING",
        )
        .bind(call_id)
        .bind(extension)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Forgets pop claims older than `before_ms` (PostgreSQL; housekeeping).
    pub async fn prune_pop_claims(&self, before_ms: i64) -> Result<(), StoreError> {
        if self.dialect == Dialect::Postgres {
            sqlx::query("DELETE FROM pop_claim WHERE claimed_ms < $1")
                .bind(before_ms)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Records that this instance is alive at `now_ms`, and returns how many instances have
    /// been (this one included) since `since_ms`. One process owns a SQLite database: 1.
    pub async fn heartbeat(&self, now_ms: i64, since_ms: i64) -> Result<i64, StoreError> {
        let Some((_, me)) = &self.postgres else {
            return Ok(1);
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO instance_heartbeat (name, seen_ms) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET seen_ms = EXCLUDED.seen_ms",
        )
        .bind(me)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        // Instances gone for a day are forgotten (each start is a new name).
        sqlx::query("DELETE FROM instance_heartbeat WHERE seen_ms < $1")
            .bind(now_ms - 86_400_000)
            .execute(&mut *tx)
            .await?;
        let live: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM instance_heartbeat WHERE seen_ms >= $1")
                .bind(since_ms)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(live.max(1))
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    // --- admins -------------------------------------------------------------------------

    pub async fn admin_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM admin_user")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    pub async fn set_admin_password(
        &self,
        username: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_user (username, password_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash",
        )
        .bind(username)
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn admin_password_hash(&self, username: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT password_hash FROM admin_user WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get(0)),
        )
    }

    // --- sign-in throttling ----------------------------------------------------------------

    /// Counts one more sign-in attempt under a throttling key and returns (attempts counted
    /// before this one, time of the previous one). Counts older than `forget_before` start
    /// again from zero. One statement: concurrent attempts each see their own count.
    pub async fn count_login_attempt(
        &self,
        key: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "INSERT INTO login_failure (key, failures, last_failure_at, prev_failure_at)
             VALUES ($1, 1, $2, 0)
             ON CONFLICT (key) DO UPDATE SET
                 failures = CASE WHEN login_failure.last_failure_at < $3 THEN 1
                                 ELSE login_failure.failures + 1 END,
                 prev_failure_at = CASE WHEN login_failure.last_failure_at < $3 THEN 0
                                        ELSE login_failure.last_failure_at END,
                 last_failure_at = excluded.last_failure_at
             RETURNING failures, prev_failure_at",
        )
        .bind(key)
        .bind(now)
        .bind(forget_before)
        .fetch_one(&self.pool)
        .await?;
        let failures: i64 = row.get(0);
        Ok((failures - 1, row.get(1)))
    }

    /// Forgets attempts older than `before` (housekeeping).
    pub async fn prune_login_attempts(&self, before: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM login_failure WHERE last_failure_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failure WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- the Zoho connection -----------------------------------------------------------------

    pub async fn connection(&self) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT accounts_url, desk_url, client_id, client_secret_sealed, location,
                    refresh_token_sealed, access_token_sealed, access_expires_at, org_id, org_name,
                    orgs_json, status, last_error, enabled
             FROM zoho_connection WHERE connection_id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| ConnectionRow {
            accounts_url: r.get(0),
            desk_url: r.get(1),
            client_id: r.get(2),
            client_secret_sealed: r.get(3),
            location: r.get(4),
            refresh_token_sealed: r.get(5),
            access_token_sealed: r.get(6),
            access_expires_at: r.get(7),
            org_id: r.get(8),
            org_name: r.get(9),
            orgs_json: r.get(10),
            status: r.get(11),
            last_error: r.get(12),
            enabled: r.get::<i64, _>(13) != 0,
        }))
    }

    /// Writes the whole row (insert or replace).
    pub async fn save_connection(&self, c: &ConnectionRow, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO zoho_connection (connection_id, accounts_url, desk_url, client_id,
                 client_secret_sealed, location, refresh_token_sealed, access_token_sealed,
                 access_expires_at, org_id, org_name, orgs_json, status, last_error, enabled, updated_at)
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (connection_id) DO UPDATE SET
                 accounts_url = excluded.accounts_url, desk_url = excluded.desk_url,
                 client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
                 location = excluded.location, refresh_token_sealed = excluded.refresh_token_sealed,
                 access_token_sealed = excluded.access_token_sealed,
                 access_expires_at = excluded.access_expires_at, org_id = excluded.org_id,
                 org_name = excluded.org_name, orgs_json = excluded.orgs_json,
                 status = excluded.status, last_error = excluded.last_error,
                 enabled = excluded.enabled, updated_at = excluded.updated_at",
        )
        .bind(&c.accounts_url)
        .bind(&c.desk_url)
        .bind(&c.client_id)
        .bind(&c.client_secret_sealed)
        .bind(&c.location)
        .bind(&c.refresh_token_sealed)
        .bind(&c.access_token_sealed)
        .bind(c.access_expires_at)
        .bind(&c.org_id)
        .bind(&c.org_name)
        .bind(&c.orgs_json)
        .bind(&c.status)
        .bind(&c.last_error)
        .bind(c.enabled as i64)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A PBX extension as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtensionRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub email: Option<String>,
    /// The extension has a web-client password (the hash never leaves the store's callers).
    pub web_password_set: bool,
}

/// Why a write was refused by the database's rules.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the number is taken")]
    DuplicateNumber,
    #[error("no such record")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn write_error(e: sqlx::Error) -> WriteError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => WriteError::DuplicateNumber,
        _ => WriteError::Store(e.into()),
    }
}

impl Store {
    pub async fn extensions(&self) -> Result<Vec<ExtensionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT extension_id, number, name, email,
                    CASE WHEN web_password_hash IS NULL THEN 0 ELSE 1 END
             FROM pbx_extension ORDER BY number",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ExtensionRow {
                id: r.get(0),
                number: r.get(1),
                name: r.get(2),
                email: r.get(3),
                web_password_set: r.get::<i64, _>(4) != 0,
            })
            .collect())
    }

    /// Sets (or, with `None`, removes) an extension's web-client password hash. Returns
    /// whether the extension exists.
    pub async fn set_web_password(
        &self,
        id: i64,
        hash: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE pbx_extension SET web_password_hash = $2, updated_at = $3 WHERE extension_id = $1",
        )
        .bind(id)
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The extension with this number and its web-client password hash, if it has one.
    pub async fn web_password_hash(
        &self,
        number: &str,
    ) -> Result<Option<(ExtensionRow, String)>, StoreError> {
        Ok(sqlx::query(
            "SELECT extension_id, number, name, email, web_password_hash FROM pbx_extension
             WHERE number = $1 AND web_password_hash IS NOT NULL",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            (
                ExtensionRow {
                    id: r.get(0),
                    number: r.get(1),
                    name: r.get(2),
                    email: r.get(3),
                    web_password_set: true,
                },
                r.get(4),
            )
        }))
    }

    /// Inserts several extensions in one transaction: all or none.
    pub async fn insert_extensions(
        &self,
        items: &[(String, String, Option<String>)],
        now: i64,
    ) -> Result<Vec<i64>, WriteError> {
        let mut tx = self.pool.begin().await.map_err(write_error)?;
        let mut ids = Vec::new();
        for (number, name, email) in items {
            let id: i64 = sqlx::query(
                "INSERT INTO pbx_extension (number, name, email, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $4) RETURNING extension_id",
            )
            .bind(number)
            .bind(name)
            .bind(email)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(write_error)?
            .get(0);
            ids.push(id);
        }
        tx.commit().await.map_err(write_error)?;
        Ok(ids)
    }

    pub async fn update_extension(
        &self,
        id: i64,
        number: &str,
        name: &str,
        email: Option<&str>,
        now: i64,
    ) -> Result<(), WriteError> {
        let r = sqlx::query(
            "UPDATE pbx_extension SET number = $1, name = $2, email = $3, updated_at = $4
             WHERE extension_id = $5",
        )
        .bind(number)
        .bind(name)
        .bind(email)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        if r.rows_affected() == 0 {
            return Err(WriteError::NotFound);
        }
        Ok(())
    }

    /// Applies a sync from the PBX in one transaction: extensions added `(number, name,
    /// email)`, updated `(id, name, email)`, removed by id (their bindings go with them).
    pub async fn apply_extension_sync(
        &self,
        added: &[(String, String, Option<String>)],
        updated: &[(i64, String, Option<String>)],
        removed: &[i64],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for id in removed {
            sqlx::query("DELETE FROM pbx_extension WHERE extension_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for (id, name, email) in updated {
            sqlx::query(
                "UPDATE pbx_extension SET name = $1, email = $2, updated_at = $3
                 WHERE extension_id = $4",
            )
            .bind(name)
            .bind(email)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for (number, name, email) in added {
            sqlx::query(
                "INSERT INTO pbx_extension (number, name, email, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(number)
            .bind(name)
            .bind(email)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_extension(&self, id: i64) -> Result<(), WriteError> {
        let r = sqlx::query("DELETE FROM pbx_extension WHERE extension_id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(write_error)?;
        if r.rows_affected() == 0 {
            return Err(WriteError::NotFound);
        }
        Ok(())
    }
}

/// An agent as fetched from Zoho.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedAgent {
    pub agent_id: String,
    pub name: String,
    pub email: Option<String>,
    pub active: bool,
}

impl Store {
    /// Replaces the agent list with `agents` in one transaction. Agents no longer in Zoho are
    /// deleted (their bindings with them) and recorded as vanished; returns their names.
    pub async fn replace_agents(
        &self,
        agents: &[FetchedAgent],
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM vanished_agent")
            .execute(&mut *tx)
            .await?;
        for (i, a) in agents.iter().enumerate() {
            sqlx::query(
                "INSERT INTO zoho_agent (agent_id, name, email, active, position, seen_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (agent_id) DO UPDATE SET name = excluded.name, email = excluded.email,
                     active = excluded.active, position = excluded.position, seen_at = excluded.seen_at",
            )
            .bind(&a.agent_id)
            .bind(&a.name)
            .bind(&a.email)
            .bind(a.active as i64)
            .bind(i as i64)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // Gone = stored but not in this fetch (compared by id, not by time: two refreshes can
        // fall in the same second).
        let fetched: std::collections::HashSet<&str> =
            agents.iter().map(|a| a.agent_id.as_str()).collect();
        let gone: Vec<_> = sqlx::query(
            "SELECT a.agent_id, a.name, a.email, e.number FROM zoho_agent a
             LEFT JOIN agent_binding b ON b.agent_id = a.agent_id
             LEFT JOIN pbx_extension e ON e.extension_id = b.extension_id",
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .filter(|r| !fetched.contains(r.get::<String, _>(0).as_str()))
        .collect();
        let mut names = Vec::new();
        for r in &gone {
            let id: String = r.get(0);
            let name: String = r.get(1);
            sqlx::query(
                "INSERT INTO vanished_agent (agent_id, name, email, extension_number, vanished_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(&name)
            .bind(r.get::<Option<String>, _>(2))
            .bind(r.get::<Option<String>, _>(3))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM agent_binding WHERE agent_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM zoho_agent WHERE agent_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            names.push(name);
        }
        tx.commit().await?;
        Ok(names)
    }

    /// The Zoho Desk agents with their bindings, as the Zoho Desk Users table shows them.
    pub async fn agents(&self) -> Result<Vec<crate::model::ZohoUser>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.agent_id, a.name, a.email, a.active, b.extension_id, b.manual
             FROM zoho_agent a LEFT JOIN agent_binding b ON b.agent_id = a.agent_id
             ORDER BY a.position",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| crate::model::ZohoUser {
                agent_id: r.get(0),
                name: r.get(1),
                email: r.get(2),
                active: r.get::<i64, _>(3) != 0,
                extension_id: r.get(4),
                manual: r.get::<Option<i64>, _>(5).unwrap_or(0) != 0,
            })
            .collect())
    }

    /// A secret the app generated for itself, sealed.
    pub async fn app_secret(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query("SELECT sealed FROM app_secret WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get(0)))
    }

    pub async fn set_app_secret(
        &self,
        name: &str,
        sealed: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO app_secret (name, sealed, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET sealed = $2, created_at = $3",
        )
        .bind(name)
        .bind(sealed)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every sealed value in the database, with where it lives (for `server rotate-key`).
    pub async fn sealed_values(&self) -> Result<Vec<(SealedAt, String)>, StoreError> {
        let mut out = Vec::new();
        if let Some(r) = sqlx::query(
            "SELECT client_secret_sealed, refresh_token_sealed, access_token_sealed
             FROM zoho_connection WHERE connection_id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        {
            let client: String = r.get(0);
            if !client.is_empty() {
                out.push((SealedAt::ClientSecret, client));
            }
            if let Some(v) = r.get::<Option<String>, _>(1) {
                out.push((SealedAt::RefreshToken, v));
            }
            if let Some(v) = r.get::<Option<String>, _>(2) {
                out.push((SealedAt::AccessToken, v));
            }
        }
        for r in sqlx::query("SELECT name, sealed FROM app_secret ORDER BY name")
            .fetch_all(&self.pool)
            .await?
        {
            out.push((SealedAt::App(r.get(0)), r.get(1)));
        }
        Ok(out)
    }

    /// Replaces sealed values, all or none.
    pub async fn replace_sealed(&self, values: &[(SealedAt, String)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (at, sealed) in values {
            let column = match at {
                SealedAt::ClientSecret => "client_secret_sealed",
                SealedAt::RefreshToken => "refresh_token_sealed",
                SealedAt::AccessToken => "access_token_sealed",
                SealedAt::App(name) => {
                    sqlx::query("UPDATE app_secret SET sealed = $1 WHERE name = $2")
                        .bind(sealed)
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
            };
            sqlx::query(&format!(
                "UPDATE zoho_connection SET {column} = $1 WHERE connection_id = 1"
            ))
            .bind(sealed)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every binding with its extension and agent, for the engine's in-memory directory.
    pub async fn bound_agents(&self) -> Result<Vec<super::directory::BoundAgent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.extension_id, e.number, e.name, a.agent_id, a.name, a.email
             FROM agent_binding b
             JOIN pbx_extension e ON e.extension_id = b.extension_id
             JOIN zoho_agent a ON a.agent_id = b.agent_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| super::directory::BoundAgent {
                extension_id: r.get(0),
                extension_number: r.get(1),
                extension_name: r.get(2),
                agent_id: r.get(3),
                agent_name: r.get(4),
                agent_email: r.get(5),
            })
            .collect())
    }

    /// (name, e-mail, extension number) of the agents the last refresh found gone.
    pub async fn vanished_agents(
        &self,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
        let rows =
            sqlx::query("SELECT name, email, extension_number FROM vanished_agent ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// Sets the bindings in one transaction: `(agent, Some(extension))` binds, `None` unbinds.
    pub async fn set_bindings(
        &self,
        changes: &[(String, Option<i64>, bool)],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Unbind first, so that moving an extension between agents does not trip the unique key.
        for (agent, _, _) in changes {
            sqlx::query("DELETE FROM agent_binding WHERE agent_id = $1")
                .bind(agent)
                .execute(&mut *tx)
                .await?;
        }
        for (agent, ext, manual) in changes {
            if let Some(ext) = ext {
                sqlx::query(
                    "INSERT INTO agent_binding (agent_id, extension_id, manual, bound_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(agent)
                .bind(ext)
                .bind(*manual as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrates_and_round_trips_the_connection() {
        let dir = std::env::temp_dir().join(format!("hk-store-{}", rand::random::<u64>()));
        let url = format!("sqlite://{}/t.db", dir.display());
        let s = Store::connect(&url).await.unwrap();
        assert_eq!(s.admin_count().await.unwrap(), 0);
        s.set_admin_password("admin", "h1", 1).await.unwrap();
        s.set_admin_password("admin", "h2", 2).await.unwrap();
        assert_eq!(s.admin_count().await.unwrap(), 1);
        assert_eq!(
            s.admin_password_hash("admin").await.unwrap().as_deref(),
            Some("h2")
        );
        assert!(s.connection().await.unwrap().is_none());
        let row = ConnectionRow {
            accounts_url: "https://accounts.zoho.com".into(),
            desk_url: "https://desk.zoho.com".into(),
            client_id: "1000.X".into(),
            client_secret_sealed: "v1:abc".into(),
            status: "not_connected".into(),
            enabled: true,
            ..Default::default()
        };
        s.save_connection(&row, 5).await.unwrap();
        let mut back = s.connection().await.unwrap().unwrap();
        assert_eq!(back.client_id, "1000.X");
        back.org_id = Some("1".into());
        s.save_connection(&back, 6).await.unwrap();
        assert_eq!(
            s.connection().await.unwrap().unwrap().org_id.as_deref(),
            Some("1")
        );
        assert_eq!(s.count_login_attempt("k", 10, 0).await.unwrap(), (0, 0));
        assert_eq!(s.count_login_attempt("k", 11, 0).await.unwrap(), (1, 10));
        assert_eq!(s.count_login_attempt("k", 15, 0).await.unwrap(), (2, 11));
        // Older than the window: counted afresh.
        assert_eq!(s.count_login_attempt("k", 100, 50).await.unwrap(), (0, 0));
        s.clear_login_failures("k").await.unwrap();
        assert_eq!(s.count_login_attempt("k", 101, 50).await.unwrap(), (0, 0));
        assert_eq!(s.prune_login_attempts(102).await.unwrap(), 1);
        assert_eq!(s.count_login_attempt("k", 103, 50).await.unwrap(), (0, 0));
        drop(s);
        std::fs::remove_dir_all(dir).ok();
    }
}
