//! Secrets at rest: the Zoho client secret and the OAuth tokens are sealed with AES-256-GCM under
//! a key from `HELPDESK_SECRET_KEY` (64 hex digits, or the path of a file holding them) or, by
//! default, a key generated once into the data folder with 0600 permissions.
//!
//! Plaintext secrets travel as [`Sensitive`]: no `Serialize`, a redacted `Debug`, so they cannot
//! reach a browser or a log line by accident.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;

/// A secret in memory. Deliberately not `Serialize`; `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(s: impl Into<String>) -> Self {
        Sensitive(s.into())
    }

    /// The plaintext, for the one place that must send it (an HTTP request to Zoho).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("HELPDESK_SECRET_KEY must be 64 hex digits or the path of a file holding them")]
    BadKey,
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a sealed secret could not be opened (wrong key or damaged data)")]
    Open,
}

/// Where the encryption key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// In `HELPDESK_SECRET_KEY` itself.
    Hex,
    /// In this file.
    File(std::path::PathBuf),
}

/// Seals and opens secrets. Each value is bound to its purpose (the AEAD's associated data), so
/// a sealed refresh token cannot be passed off as a client secret.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

const PREFIX: &str = "v1:";

fn parse_hex_key(s: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(s.trim()).ok()?;
    bytes.try_into().ok()
}

impl SecretBox {
    pub fn from_key(key: [u8; 32]) -> Self {
        let key: &Key<Aes256Gcm> = &key.into();
        SecretBox {
            cipher: Aes256Gcm::new(key),
        }
    }

    /// The key from `HELPDESK_SECRET_KEY` (hex, or a key file path), else from
    /// `default_file`, created with a fresh random key (mode 0600) when missing.
    pub fn load(configured: Option<&str>, default_file: &Path) -> Result<Self, SecretError> {
        if let Some(value) = configured.map(str::trim).filter(|v| !v.is_empty()) {
            if let Some(key) = parse_hex_key(value) {
                return Ok(Self::from_key(key));
            }
            let path = Path::new(value);
            if path.is_file() {
                return Self::read_file(path);
            }
            return Err(SecretError::BadKey);
        }
        if default_file.is_file() {
            return Self::read_file(default_file);
        }
        let key: [u8; 32] = rand::random();
        let io = |source| SecretError::KeyFile {
            path: default_file.display().to_string(),
            source,
        };
        if let Some(dir) = default_file.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        write_private(default_file, &hex::encode(key)).map_err(io)?;
        Ok(Self::from_key(key))
    }

    /// Where the key comes from: `HELPDESK_SECRET_KEY`'s hex digits, else a key file (the
    /// variable's path, else `default_file`).
    pub fn key_source(configured: Option<&str>, default_file: &Path) -> KeySource {
        match configured.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if parse_hex_key(v).is_some() => KeySource::Hex,
            Some(v) => KeySource::File(v.into()),
            None => KeySource::File(default_file.to_path_buf()),
        }
    }

    /// A fresh random key, as the box and as its hex digits.
    pub fn generate() -> (Self, Sensitive) {
        let key: [u8; 32] = rand::random();
        (Self::from_key(key), Sensitive::new(hex::encode(key)))
    }

    /// Writes a key (hex digits) to a new file readable by its owner only.
    pub fn write_key_file(path: &Path, hex_key: &Sensitive) -> std::io::Result<()> {
        write_private(path, hex_key.expose())
    }

    fn read_file(path: &Path) -> Result<Self, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        })?;
        parse_hex_key(&text)
            .map(Self::from_key)
            .ok_or(SecretError::BadKey)
    }

    /// `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, purpose: &str, secret: &Sensitive) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce: &Nonce<_> = &nonce_bytes.into();
        let ct = self
            .cipher
            .encrypt(
                nonce,
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for in-memory data");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ct);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        )
    }

    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Sensitive, SecretError> {
        let raw = sealed.strip_prefix(PREFIX).ok_or(SecretError::Open)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| SecretError::Open)?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError::Open);
        }
        let (n, ct) = bytes.split_at(12);
        let nonce_bytes: [u8; 12] = n.try_into().map_err(|_| SecretError::Open)?;
        let nonce: &Nonce<_> = &nonce_bytes.into();
        let pt = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: ct,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(pt)
            .map(Sensitive)
            .map_err(|_| SecretError::Open)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_purpose() {
        let b = SecretBox::from_key([7; 32]);
        let s = Sensitive::new("1000.refresh.token");
        let sealed = b.seal("refresh_token", &s);
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("refresh.token"));
        assert_eq!(b.open("refresh_token", &sealed).unwrap(), s);
        assert!(
            b.open("client_secret", &sealed).is_err(),
            "purpose is bound"
        );
        assert!(SecretBox::from_key([8; 32])
            .open("refresh_token", &sealed)
            .is_err());
        assert_ne!(sealed, b.seal("refresh_token", &s), "fresh nonce each time");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert_eq!(format!("{:?}", Sensitive::new("hunter2")), "Sensitive(***)");
    }

    #[test]
    fn key_comes_from_hex_a_file_or_a_generated_private_file() {
        let dir = std::env::temp_dir().join(format!("hk-{}", rand::random::<u64>()));
        let default = dir.join("secret.key");
        let hex_key = "11".repeat(32);
        let a = SecretBox::load(Some(&hex_key), &default).unwrap();
        assert!(!default.exists(), "a configured key creates no file");
        let sealed = a.seal("x", &Sensitive::new("v"));
        assert!(SecretBox::load(Some("nonsense"), &default).is_err());

        let generated = SecretBox::load(None, &default).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&default).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SecretBox::load(None, &default).unwrap();
        let s = generated.seal("x", &Sensitive::new("v"));
        assert_eq!(again.open("x", &s).unwrap().expose(), "v");
        let file = dir.join("k2");
        std::fs::write(&file, &hex_key).unwrap();
        let from_file = SecretBox::load(Some(file.to_str().unwrap()), &default).unwrap();
        assert_eq!(from_file.open("x", &sealed).unwrap().expose(), "v");
        std::fs::remove_dir_all(dir).ok();
    }
}
