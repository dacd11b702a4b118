//! Sessions in the app's own database, whichever dialect it is: several instances on one
//! PostgreSQL share them, so a browser stays signed in whichever instance answers.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::sqlx;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store of the database in `DATABASE_URL`.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// Opens its own small pool on the app's database and creates the sessions' table.
    pub async fn open(database_url: &str) -> anyhow::Result<Sessions> {
        use app::engine::store::Dialect;
        let sessions = match Dialect::of_url(database_url) {
            Some(Dialect::Postgres) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(database_url)
                    .await?;
                let store = PostgresStore::new(pool);
                store.migrate().await?;
                Sessions::Postgres(store)
            }
            Some(Dialect::Sqlite) => {
                use std::str::FromStr;
                // The store has created the file; this pool shares it (WAL, waits its turn).
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)?
                    .busy_timeout(std::time::Duration::from_secs(5));
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(opts)
                    .await?;
                let store = SqliteStore::new(pool);
                store.migrate().await?;
                Sessions::Sqlite(store)
            }
            None => anyhow::bail!("DATABASE_URL: not a database the sessions can be kept in"),
        };
        Ok(sessions)
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}
