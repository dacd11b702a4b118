//! The PBX's extensions the integration knows (number, name, e-mail): entered by hand,
//! imported, or synced from the PBX; and their web-client passwords.

use time::OffsetDateTime;

use super::Directory;
use crate::engine::auth::{self, Gate, SignInError};
use crate::engine::pbx_connection::PbxConnection;
use crate::engine::secrets::Sensitive;
use crate::engine::store::{ExtensionRow, WriteError};
use crate::engine::EngineError;
use crate::model::{
    Extension, ExtensionInput, FieldError, FieldProblem, PbxSyncProgress, PbxSyncReport,
    RemovedExtension,
};

/// Demo extensions seeded on a first start with the sandbox: their e-mails match sandbox agents
/// (one differs only in case and spaces, one matches nobody), so Auto Bind has work to do.
pub const DEMO_EXTENSIONS: &[(&str, &str, Option<&str>)] = &[
    ("2001", "Avery Admin", Some("admin@pbxsandbox.example.com")),
    (
        "2005",
        "Kristin Hale",
        Some("kristin.hale@pbxsandbox.example.com"),
    ),
    (
        "2006",
        "Liam Chen",
        Some("liam.chen@pbxsandbox.example.com"),
    ),
    (
        "2007",
        "Sofia Rossi",
        Some("  sofia.rossi@PBXSANDBOX.example.com "),
    ),
    (
        "2008",
        "Noah Patel",
        Some("noah.patel@pbxsandbox.example.com"),
    ),
    ("2009", "Reception", None),
    (
        "2010",
        "Lucas Meyer",
        Some("lucas.meyer@pbxsandbox.example.com"),
    ),
];

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A well-formed e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 255
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks one extension; `prefix` names the row in an import (`"2."`).
pub fn validate(input: &ExtensionInput, prefix: &str) -> (ExtensionInput, Vec<FieldError>) {
    let mut errors = Vec::new();
    let err = |field: &str, problem| FieldError {
        field: format!("{prefix}{field}"),
        problem,
    };
    let number = input.number.trim().to_string();
    if number.is_empty() {
        errors.push(err("number", FieldProblem::Required));
    } else if number.len() > 15 || !number.chars().all(|c| c.is_ascii_digit()) {
        errors.push(err("number", FieldProblem::NotExtensionNumber));
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(err("name", FieldProblem::Required));
    } else if name.chars().count() > 64 {
        errors.push(err("name", FieldProblem::TooLong));
    }
    let email = input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    if let Some(e) = &email {
        if e.len() > 254 || !is_email(e) {
            errors.push(err("email", FieldProblem::BadEmail));
        }
    }
    (
        ExtensionInput {
            number,
            name,
            email,
        },
        errors,
    )
}

pub(crate) fn to_model(r: ExtensionRow) -> Extension {
    Extension {
        id: r.id,
        number: r.number,
        name: r.name,
        email: r.email,
        web_password_set: r.web_password_set,
    }
}

/// The length a web-client password must have.
pub const WEB_PASSWORD_MIN: usize = 8;
pub const WEB_PASSWORD_MAX: usize = 128;

fn duplicate(field: &str) -> EngineError {
    EngineError::Invalid(vec![FieldError {
        field: field.into(),
        problem: FieldProblem::Duplicate,
    }])
}

/// What an agent's session holds: the extension, and a stamp of the password it signed in
/// with (not the password, not its hash: a digest of the hash).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentSession {
    pub extension: String,
    pub stamp: String,
}

fn password_stamp(hash: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(hash.as_bytes())[..12])
}

impl Directory {
    /// Sets an extension's web-client password (argon2id), or removes it with an empty one.
    pub async fn set_web_password(&self, id: i64, password: &str) -> Result<(), EngineError> {
        let hash = if password.is_empty() {
            None
        } else {
            let n = password.chars().count();
            if !(WEB_PASSWORD_MIN..=WEB_PASSWORD_MAX).contains(&n) {
                return Err(EngineError::Invalid(vec![FieldError {
                    field: "web_password".into(),
                    problem: if n < WEB_PASSWORD_MIN {
                        FieldProblem::PasswordTooShort
                    } else {
                        FieldProblem::TooLong
                    },
                }]));
            }
            Some(auth::hash_password(Sensitive::new(password)).await)
        };
        if self
            .store
            .set_web_password(id, hash.as_deref(), now())
            .await?
        {
            self.access_changed();
            Ok(())
        } else {
            Err(EngineError::NotFound)
        }
    }

    /// The extension an agent signs in to the web client with, if the number has a password
    /// and it matches (constant work whether or not the extension exists).
    pub async fn verify_web_client(
        &self,
        number: &str,
        password: &str,
    ) -> Result<Option<Extension>, EngineError> {
        let found = self.store.web_password_hash(number.trim()).await?;
        let ok = auth::verify_or_dummy(
            Sensitive::new(password),
            found.as_ref().map(|(_, h)| h.clone()),
        )
        .await;
        Ok(found.filter(|_| ok).map(|(row, _)| to_model(row)))
    }

    /// The extension an agent is signed in with, while its sign-in is still good: the
    /// extension exists and its web-client password is the one the agent signed in with
    /// (changing or removing the password signs its agents out).
    pub async fn signed_in_extension(
        &self,
        session: &AgentSession,
    ) -> Result<Option<Extension>, EngineError> {
        Ok(self
            .store
            .web_password_hash(&session.extension)
            .await?
            .filter(|(_, hash)| password_stamp(hash) == session.stamp)
            .map(|(row, _)| to_model(row)))
    }

    /// The session record of a successful sign-in.
    pub async fn agent_session(&self, number: &str) -> Result<Option<AgentSession>, EngineError> {
        Ok(self
            .store
            .web_password_hash(number)
            .await?
            .map(|(row, hash)| AgentSession {
                extension: row.number,
                stamp: password_stamp(&hash),
            }))
    }

    /// Signs an agent in to the web client with an extension number and its password,
    /// throttled like the admin's sign-in ([`auth::attempt`]) through the same `gate`.
    pub async fn agent_sign_in(
        &self,
        gate: &Gate,
        number: &str,
        password: &str,
        addr: &str,
        now: i64,
    ) -> Result<Extension, SignInError> {
        auth::attempt(
            &self.store,
            gate,
            auth::Kind::Agent,
            number.trim(),
            addr,
            now,
            |number| {
                let number = number.to_string();
                async move {
                    self.verify_web_client(&number, password)
                        .await
                        .map_err(|_| SignInError::Internal)
                }
            },
        )
        .await
    }

    pub async fn extensions(&self) -> Result<Vec<Extension>, EngineError> {
        Ok(self
            .store
            .extensions()
            .await?
            .into_iter()
            .map(to_model)
            .collect())
    }

    pub async fn create_extension(&self, input: ExtensionInput) -> Result<i64, EngineError> {
        let (clean, errors) = validate(&input, "");
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        match self
            .store
            .insert_extensions(&[(clean.number, clean.name, clean.email)], now())
            .await
        {
            Ok(ids) => Ok(ids[0]),
            Err(WriteError::DuplicateNumber) => Err(duplicate("number")),
            Err(WriteError::NotFound) => Err(EngineError::NotConfigured),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    pub async fn update_extension(
        &self,
        id: i64,
        input: ExtensionInput,
    ) -> Result<(), EngineError> {
        let (clean, errors) = validate(&input, "");
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        match self
            .store
            .update_extension(
                id,
                &clean.number,
                &clean.name,
                clean.email.as_deref(),
                now(),
            )
            .await
        {
            Ok(()) => Ok(self.rebuild().await?),
            Err(WriteError::DuplicateNumber) => Err(duplicate("number")),
            Err(WriteError::NotFound) => Err(EngineError::NotFound),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    pub async fn delete_extension(&self, id: i64) -> Result<(), EngineError> {
        match self.store.delete_extension(id).await {
            Ok(()) => Ok(self.rebuild().await?),
            Err(WriteError::NotFound) => Err(EngineError::NotFound),
            Err(WriteError::DuplicateNumber) => Err(duplicate("number")),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    /// Imports many extensions at once: every row valid and new, or nothing is stored. Errors
    /// name the row (`"3.email"`, counting from 1).
    pub async fn import_extensions(
        &self,
        items: Vec<ExtensionInput>,
    ) -> Result<usize, EngineError> {
        let mut errors = Vec::new();
        let mut clean = Vec::new();
        let existing: std::collections::HashSet<String> = self
            .store
            .extensions()
            .await?
            .into_iter()
            .map(|e| e.number)
            .collect();
        let mut seen = std::collections::HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("{}.", i + 1);
            let (c, errs) = validate(item, &prefix);
            if errs.is_empty() && (existing.contains(&c.number) || !seen.insert(c.number.clone())) {
                errors.push(FieldError {
                    field: format!("{prefix}number"),
                    problem: FieldProblem::Duplicate,
                });
            }
            errors.extend(errs);
            clean.push((c.number, c.name, c.email));
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        match self.store.insert_extensions(&clean, now()).await {
            Ok(ids) => Ok(ids.len()),
            Err(WriteError::DuplicateNumber) => Err(duplicate("number")),
            Err(WriteError::NotFound) => Err(EngineError::NotFound),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    /// Seeds the demo extensions when there are none (first start with the sandbox).
    pub async fn seed_demo_extensions(&self) -> Result<bool, EngineError> {
        if !self.store.extensions().await?.is_empty() {
            return Ok(false);
        }
        let items: Vec<ExtensionInput> = DEMO_EXTENSIONS
            .iter()
            .map(|(n, name, e)| ExtensionInput {
                number: n.to_string(),
                name: name.to_string(),
                email: e.map(str::to_string),
            })
            .collect();
        self.import_extensions(items).await?;
        Ok(true)
    }
}

/// Extensions asked of the PBX per request when syncing.
const SYNC_PAGE: usize = 500;

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f()
            }
        }
    }
    Guard(Some(f))
}

impl Directory {
    /// "Sync extensions from the PBX": reads every extension of the connected PBX (page by
    /// page) and makes this list the same: new numbers added, names and e-mails updated,
    /// numbers gone from the PBX removed with their bindings (the report names them and the
    /// agent each was bound to). Web-client passwords and bindings of kept extensions stay.
    /// One transaction: a failure changes nothing.
    pub async fn sync_from_pbx(&self, pbx: &PbxConnection) -> Result<PbxSyncReport, EngineError> {
        let outcome = self.sync_from_pbx_once(pbx).await;
        // What the last sync did (or why it failed), for the page to show once it has ended.
        let said = match &outcome {
            Ok(report) => Ok(report.clone()),
            Err(EngineError::Pbx(e)) => Err(e.to_string()),
            Err(_) => Err(String::new()),
        };
        *self.pbx_sync.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(said);
        outcome
    }

    async fn sync_from_pbx_once(&self, pbx: &PbxConnection) -> Result<PbxSyncReport, EngineError> {
        let _one = self.pbx_sync.lock.lock().await;
        let progress = &self.pbx_sync.progress;
        progress.send_replace(Some(PbxSyncProgress::default()));
        // However the sync ends, it is no longer running.
        let _done = scopeguard(|| {
            progress.send_replace(None);
        });
        let api = pbx.api().await?;
        let read = api.all_extensions(SYNC_PAGE, |read, total| {
            progress.send_replace(Some(PbxSyncProgress {
                read,
                total,
                saving: false,
            }));
        });
        let remote = match read.await {
            Ok(r) => {
                pbx.record(Ok(r.len())).await?;
                r
            }
            Err(e) => {
                pbx.record(Err(&e)).await?;
                return Err(e.into());
            }
        };
        let local = self.store.extensions().await?;
        let by_number: std::collections::HashMap<&str, &ExtensionRow> =
            local.iter().map(|l| (l.number.as_str(), l)).collect();
        let dir = self.get();
        let mut report = PbxSyncReport {
            total: remote.len(),
            ..Default::default()
        };
        let mut added = Vec::new();
        let mut updated = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for x in remote {
            let input = ExtensionInput {
                number: x.number.clone(),
                // A PBX extension without a display name is shown by its number.
                name: if x.caller_id_name.trim().is_empty() {
                    x.number.clone()
                } else {
                    x.caller_id_name.chars().take(64).collect()
                },
                email: Some(x.email_addr.clone()),
            };
            let (mut clean, errors) = validate(&input, "");
            if errors.iter().any(|e| e.field == "number") || !seen.insert(clean.number.clone()) {
                report.skipped.push(x.number);
                continue;
            }
            // An e-mail the PBX holds but we cannot use is left out, not the extension.
            if errors.iter().any(|e| e.field == "email") {
                clean.email = None;
            }
            match by_number.get(clean.number.as_str()) {
                None => added.push((clean.number, clean.name, clean.email)),
                Some(l) if l.name != clean.name || l.email != clean.email => {
                    updated.push((l.id, clean.name, clean.email))
                }
                Some(_) => {}
            }
        }
        let removed: Vec<_> = local.iter().filter(|l| !seen.contains(&l.number)).collect();
        report.added = added.len();
        report.updated = updated.len();
        report.removed = removed
            .iter()
            .map(|l| RemovedExtension {
                number: l.number.clone(),
                name: l.name.clone(),
                agent: dir.by_extension(&l.number).map(|a| a.agent_name.clone()),
            })
            .collect();
        let removed_ids: Vec<i64> = removed.iter().map(|l| l.id).collect();
        progress.send_modify(|p| {
            if let Some(p) = p {
                p.saving = true;
            }
        });
        self.store
            .apply_extension_sync(&added, &updated, &removed_ids, now())
            .await?;
        self.rebuild().await?;
        tracing::info!(
            total = report.total,
            added = report.added,
            updated = report.updated,
            removed = report.removed.len(),
            "extensions synced from the PBX"
        );
        Ok(report)
    }

    /// The housekeeping's automatic sync: every `pbx_sync_every_ms` while the PBX is connected.
    /// A failure is logged and tried again at the next period.
    pub async fn sync_from_pbx_if_due(&self, pbx: &PbxConnection, now_ms: i64) {
        use std::sync::atomic::Ordering;
        let every = self.pbx_sync.every_ms;
        let last = &self.pbx_sync.last_auto_ms;
        if every <= 0 || now_ms - last.load(Ordering::Relaxed) < every {
            return;
        }
        if !matches!(pbx.is_connected().await, Ok(true)) {
            return;
        }
        last.store(now_ms, Ordering::Relaxed);
        if let Err(e) = self.sync_from_pbx(pbx).await {
            tracing::warn!(error = %e, "the automatic extension sync from the PBX failed");
        }
    }

    /// The sync from the PBX in progress, if one is running.
    pub fn sync_progress(&self) -> Option<PbxSyncProgress> {
        *self.pbx_sync.progress.borrow()
    }

    /// What the last sync from the PBX did, or the PBX's words when it failed (empty: another
    /// failure); `None` before the first one.
    pub fn last_sync(&self) -> Option<Result<PbxSyncReport, String>> {
        self.pbx_sync
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every step of the syncs from the PBX, as they happen.
    pub fn watch_sync_progress(&self) -> tokio::sync::watch::Receiver<Option<PbxSyncProgress>> {
        self.pbx_sync.progress.subscribe()
    }
}

/// "Sync extensions from the PBX": one at a time, its progress, the last automatic one.
#[derive(Debug)]
pub(super) struct PbxSync {
    lock: tokio::sync::Mutex<()>,
    /// How far the running sync is (`None`: no sync running).
    progress: tokio::sync::watch::Sender<Option<PbxSyncProgress>>,
    /// When the last automatic sync was tried (ms).
    last_auto_ms: std::sync::atomic::AtomicI64,
    /// What the last sync did (see `Directory::last_sync`).
    last: std::sync::Mutex<Option<Result<PbxSyncReport, String>>>,
    /// How often the housekeeping syncs (`0`: only by hand).
    every_ms: i64,
}

impl PbxSync {
    pub(super) fn new(every_ms: i64) -> PbxSync {
        PbxSync {
            lock: Default::default(),
            progress: tokio::sync::watch::Sender::new(None),
            last_auto_ms: Default::default(),
            last: Default::default(),
            every_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_numbers_names_and_emails() {
        let ok = ExtensionInput {
            number: " 2005 ".into(),
            name: " Kristin Hale ".into(),
            email: Some(" K.Hale@Example.com ".into()),
        };
        let (clean, errs) = validate(&ok, "");
        assert!(errs.is_empty());
        assert_eq!(clean.number, "2005");
        assert_eq!(clean.email.as_deref(), Some("K.Hale@Example.com"));
        let bad = ExtensionInput {
            number: "20a5".into(),
            name: "".into(),
            email: Some("not an email".into()),
        };
        let (_, errs) = validate(&bad, "3.");
        let fields: Vec<(&str, FieldProblem)> =
            errs.iter().map(|e| (e.field.as_str(), e.problem)).collect();
        assert_eq!(
            fields,
            vec![
                ("3.number", FieldProblem::NotExtensionNumber),
                ("3.name", FieldProblem::Required),
                ("3.email", FieldProblem::BadEmail),
            ]
        );
        assert!(is_email("a@b.co"));
        for e in ["a@b", "@b.co", "a@.co", "a@b..co", "a b@c.co", "a@b@c.co"] {
            assert!(!is_email(e), "{e}");
        }
    }
}
