//! Process configuration from the environment (`docs/interfaces.md`), validated at start:
//! a bad value is a clear error and a non-zero exit, never a silent default.

use std::net::SocketAddr;

use anyhow::{bail, Context};

/// Settings of one server process.
#[derive(Clone, Debug)]
pub struct Config {
    /// `HELPDESK_ADDR`: where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// `HELPDESK_PUBLIC_URL`: the PBX's public base URL, without a trailing slash. `None` means
    /// `http://<bound address>`, known once the listener is bound.
    pub public_url: Option<String>,
    /// `HELPDESK_SANDBOX=1`: mount the Zoho Desk sandbox at `/sandbox`.
    pub sandbox: bool,
    /// `HELPDESK_SANDBOX_CLIENT_ID` / `_SECRET`: the sandbox's demo client.
    pub sandbox_client_id: String,
    pub sandbox_client_secret: String,
    /// `HELPDESK_SANDBOX_PBX_CLIENT_ID` / `_SECRET`: the PBX sandbox's OpenAPI application.
    pub sandbox_pbx_client_id: String,
    pub sandbox_pbx_client_secret: String,
    /// `HELPDESK_SANDBOX_APP_URL`: for `server sandbox` serving an app elsewhere (benchmarks):
    /// that app's public URL, whose OAuth callback the demo client accepts too.
    pub sandbox_app_url: Option<String>,
    /// `HELPDESK_SANDBOX_PBX_CONNECT` (default on): with the sandbox on, the first start
    /// connects the PBX sandbox, so calls flow through it at once.
    pub sandbox_pbx_connect: bool,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `HELPDESK_JOB_LEASE_SECS`: how long a claimed job is one instance's before another (or
    /// this one, restarted) may take it over.
    pub job_lease_secs: u64,
    /// `HELPDESK_ADMIN_PASSWORD`: sets the `admin` password at start.
    pub admin_password: Option<String>,
    /// `HELPDESK_SECRET_KEY`: 64 hex digits, or the path of a file holding them.
    pub secret_key: Option<String>,
    /// `HELPDESK_WEBHOOK_SECRET`: the call-event intake's shared secret (else generated and
    /// kept in the database).
    pub webhook_secret: Option<String>,
    /// `HELPDESK_PBX_UTC_OFFSET` (`+08:00`): the PBX clock's offset, for the vendor's CDR
    /// times; UTC by default.
    pub pbx_utc_offset: time::UtcOffset,
    /// `HELPDESK_DEFAULT_COUNTRY` (`CN`): how numbers without a country code are read.
    pub default_country: Option<app::engine::numbers::Country>,
    /// Where generated files live (the secret key): the folder of a SQLite database, else `data`.
    pub data_dir: std::path::PathBuf,
    /// `HELPDESK_SANDBOX_FORCE=1`: mount the sandbox even on an https public URL or a listen
    /// address other than loopback (demonstrations on a LAN; never in production).
    pub sandbox_force: bool,
    /// `HELPDESK_METRICS_ADDR`: serve `/metrics` there, and not on the app's listener.
    pub metrics_addr: Option<SocketAddr>,
    /// `HELPDESK_SESSION_IDLE_SECS`: a signed-in session ends after this long without use
    /// (8 hours by default).
    pub session_idle_secs: i64,
    /// `HELPDESK_CLIENT_TIMEOUT_SECS`: time a client has to send a request's head (and an idle
    /// connection stays open), and then its body (30 s by default).
    pub client_timeout_secs: u64,
    /// `HELPDESK_PBX_SYNC_MINUTES`: extensions are synced from a connected PBX this often
    /// (`0`: only by hand).
    pub pbx_sync_minutes: u64,
    /// `LEPTOS_SITE_ROOT`: the built site (`frontend/build-site.sh`), relative to the working
    /// directory; `target/site` by default.
    pub site_root: std::path::PathBuf,
}

impl Config {
    /// `DATABASE_URL` as it may be shown: without its password.
    pub fn database_label(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(None);
                u.to_string()
            }
            _ => self.database_url.clone(),
        }
    }

    /// Reads the configuration from a variable lookup (the process environment in `main`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let addr_raw = get("HELPDESK_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let addr: SocketAddr = addr_raw.parse().with_context(|| {
            format!("HELPDESK_ADDR={addr_raw:?} is not an address like 127.0.0.1:3000")
        })?;
        let public_url = match get("HELPDESK_PUBLIC_URL").filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(parse_public_url("HELPDESK_PUBLIC_URL", &raw)?),
        };
        let sandbox = match get("HELPDESK_SANDBOX").as_deref().map(str::trim) {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => bail!("HELPDESK_SANDBOX={other:?}: use 1 (on) or 0 (off)"),
        };
        let flag = |name: &str| -> anyhow::Result<bool> {
            match get(name).as_deref().map(str::trim) {
                None | Some("") | Some("0") | Some("false") => Ok(false),
                Some("1") | Some("true") => Ok(true),
                Some(other) => bail!("{name}={other:?}: use 1 (on) or 0 (off)"),
            }
        };
        let sandbox_force = flag("HELPDESK_SANDBOX_FORCE")?;
        let sandbox_app_url = match get("HELPDESK_SANDBOX_APP_URL").filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(raw) => Some(parse_public_url("HELPDESK_SANDBOX_APP_URL", &raw)?),
        };
        let sandbox_pbx_connect =
            get("HELPDESK_SANDBOX_PBX_CONNECT").is_none() || flag("HELPDESK_SANDBOX_PBX_CONNECT")?;
        let metrics_addr = match get("HELPDESK_METRICS_ADDR").filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(raw.trim().parse::<SocketAddr>().with_context(|| {
                format!("HELPDESK_METRICS_ADDR={raw:?} is not an address like 127.0.0.1:9100")
            })?),
        };
        let seconds = |name: &str, default: u64, max: u64| -> anyhow::Result<u64> {
            match get(name).filter(|s| !s.trim().is_empty()) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => bail!("{name}={raw:?}: a number of seconds from 1 to {max}"),
                },
            }
        };
        let session_idle_secs =
            seconds("HELPDESK_SESSION_IDLE_SECS", 8 * 3600, 30 * 86_400)? as i64;
        let client_timeout_secs = seconds("HELPDESK_CLIENT_TIMEOUT_SECS", 30, 3600)?;
        let pbx_sync_minutes = match get("HELPDESK_PBX_SYNC_MINUTES") {
            None => 10,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if n <= 7 * 24 * 60 => n,
                _ => {
                    bail!("HELPDESK_PBX_SYNC_MINUTES={raw:?}: a number of minutes from 0 to 10080")
                }
            },
        };
        let job_lease_secs = match get("HELPDESK_JOB_LEASE_SECS") {
            None => (app::engine::jobs::LEASE_MS / 1000) as u64,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if (2..=3600).contains(&n) => n,
                _ => bail!("HELPDESK_JOB_LEASE_SECS={raw:?}: a number of seconds from 2 to 3600"),
            },
        };
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/helpdesk.db".into());
        if app::engine::store::Dialect::of_url(&database_url).is_none() {
            // Not echoed: a PostgreSQL URL may carry a password.
            bail!("DATABASE_URL: use sqlite://path/file.db or postgres://user@host/database");
        }
        // The folder of the generated secret key: HELPDESK_DATA_DIR, else the SQLite file's,
        // else `data`.
        let data_dir = get("HELPDESK_DATA_DIR")
            .filter(|d| !d.trim().is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| {
                database_url
                    .strip_prefix("sqlite://")
                    .or_else(|| database_url.strip_prefix("sqlite:"))
                    .map(|p| p.split('?').next().unwrap_or(""))
                    .and_then(|p| std::path::Path::new(p).parent().map(|d| d.to_path_buf()))
                    .filter(|d| !d.as_os_str().is_empty())
            })
            .unwrap_or_else(|| "data".into());
        let admin_password = get("HELPDESK_ADMIN_PASSWORD").filter(|p| !p.is_empty());
        if admin_password
            .as_ref()
            .is_some_and(|p| p.chars().count() < 8)
        {
            bail!("HELPDESK_ADMIN_PASSWORD must have at least 8 characters");
        }
        let webhook_secret = get("HELPDESK_WEBHOOK_SECRET").filter(|s| !s.trim().is_empty());
        if webhook_secret
            .as_ref()
            .is_some_and(|s| s.trim().len() < 16 || s.trim() != s)
        {
            bail!("HELPDESK_WEBHOOK_SECRET must have at least 16 characters and no surrounding spaces");
        }
        let pbx_utc_offset = match get("HELPDESK_PBX_UTC_OFFSET").filter(|s| !s.trim().is_empty()) {
            None => time::UtcOffset::UTC,
            Some(raw) => parse_offset(raw.trim()).with_context(|| {
                format!("HELPDESK_PBX_UTC_OFFSET={raw:?} is not an offset like +08:00 or -05:30")
            })?,
        };
        let default_country = match get("HELPDESK_DEFAULT_COUNTRY").filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(raw) => Some(
                app::engine::numbers::parse_country(&raw)
                    .map_err(|e| anyhow::anyhow!("HELPDESK_DEFAULT_COUNTRY: {e}"))?,
            ),
        };
        Ok(Config {
            default_country,
            webhook_secret,
            pbx_utc_offset,
            database_url,
            job_lease_secs,
            admin_password,
            secret_key: get("HELPDESK_SECRET_KEY").filter(|k| !k.trim().is_empty()),
            data_dir,
            sandbox_force,
            sandbox_pbx_connect,
            metrics_addr,
            session_idle_secs,
            client_timeout_secs,
            pbx_sync_minutes,
            site_root: get("LEPTOS_SITE_ROOT")
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "target/site".into())
                .into(),
            addr,
            public_url,
            sandbox,
            sandbox_client_id: get("HELPDESK_SANDBOX_CLIENT_ID")
                .unwrap_or_else(|| crate::sandbox::DEMO_CLIENT_ID.into()),
            sandbox_client_secret: get("HELPDESK_SANDBOX_CLIENT_SECRET")
                .unwrap_or_else(|| crate::sandbox::DEMO_CLIENT_SECRET.into()),
            sandbox_pbx_client_id: get("HELPDESK_SANDBOX_PBX_CLIENT_ID")
                .unwrap_or_else(|| crate::sandbox::pbx::DEMO_PBX_CLIENT_ID.into()),
            sandbox_pbx_client_secret: get("HELPDESK_SANDBOX_PBX_CLIENT_SECRET")
                .unwrap_or_else(|| crate::sandbox::pbx::DEMO_PBX_CLIENT_SECRET.into()),
            sandbox_app_url,
        })
    }

    /// The sandbox is for trying and testing on this machine: it refuses to mount where real
    /// users could reach it (an https public URL, a listen address other than loopback)
    /// unless `HELPDESK_SANDBOX_FORCE=1`.
    pub fn check_sandbox(&self, public_url: &str) -> anyhow::Result<()> {
        if !self.sandbox || self.sandbox_force {
            return Ok(());
        }
        if public_url.starts_with("https://") {
            bail!(
                "HELPDESK_SANDBOX=1 with the https public URL {public_url}: the sandbox is for \
                 trying and testing, never where real users are (HELPDESK_SANDBOX_FORCE=1 overrides)"
            );
        }
        if !self.addr.ip().is_loopback() {
            bail!(
                "HELPDESK_SANDBOX=1 while listening on {}: the sandbox is served on loopback \
                 addresses only (HELPDESK_SANDBOX_FORCE=1 overrides)",
                self.addr
            );
        }
        Ok(())
    }

    /// The public URL once the listener is bound.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// `+08:00`, `-05:30`, `Z`.
fn parse_offset(s: &str) -> anyhow::Result<time::UtcOffset> {
    if s == "Z" || s == "UTC" {
        return Ok(time::UtcOffset::UTC);
    }
    let fmt = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    Ok(time::UtcOffset::parse(s, &fmt)?)
}

/// An absolute http(s) URL with no path, query or credentials; returned without trailing slash.
/// A base URL given in the environment variable `name`: http(s), a host, nothing else.
fn parse_public_url(name: &str, raw: &str) -> anyhow::Result<String> {
    let url =
        url::Url::parse(raw.trim()).with_context(|| format!("{name}={raw:?} is not a URL"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        bail!("{name}={raw:?} must start with https:// (or http://)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!("{name} must not carry credentials");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{name}={raw:?} must not have a query or fragment");
    }
    if url.host_str().is_none() {
        bail!("{name}={raw:?} has no host");
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sandbox_stays_on_loopback_and_plain_http() {
        let on = |vars: &[(&str, &str)]| {
            let mut all = vec![("HELPDESK_SANDBOX", "1")];
            all.extend_from_slice(vars);
            cfg(&all).unwrap()
        };
        let c = on(&[]);
        assert!(c.check_sandbox("http://127.0.0.1:3000").is_ok());
        let e = c
            .check_sandbox("https://pbx.example.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("HELPDESK_SANDBOX_FORCE"), "{e}");
        let c = on(&[("HELPDESK_ADDR", "0.0.0.0:3000")]);
        let e = c
            .check_sandbox("http://10.0.0.5:3000")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback"), "{e}");
        let c = on(&[("HELPDESK_ADDR", "[::1]:3000")]);
        assert!(c.check_sandbox("http://[::1]:3000").is_ok());
        let c = on(&[
            ("HELPDESK_ADDR", "0.0.0.0:3000"),
            ("HELPDESK_SANDBOX_FORCE", "1"),
        ]);
        assert!(c.check_sandbox("https://demo.example.com").is_ok());
        let off = cfg(&[("HELPDESK_ADDR", "0.0.0.0:3000")]).unwrap();
        assert!(off.check_sandbox("https://pbx.example.com").is_ok());
    }

    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert!(!c.sandbox);
        assert_eq!(c.public_url_for(c.addr), "http://127.0.0.1:3000");
        assert_eq!(c.database_url, "sqlite://data/helpdesk.db");
        assert_eq!(c.data_dir, std::path::PathBuf::from("data"));
        let c = cfg(&[("DATABASE_URL", "sqlite:///tmp/x/h.db")]).unwrap();
        assert_eq!(c.data_dir, std::path::PathBuf::from("/tmp/x"));
        assert!(cfg(&[("DATABASE_URL", "mysql://x")]).is_err());
        assert_eq!(cfg(&[]).unwrap().job_lease_secs, 120);
        let lease = cfg(&[("HELPDESK_JOB_LEASE_SECS", "5")]).unwrap();
        assert_eq!(lease.job_lease_secs, 5);
        let e = cfg(&[("HELPDESK_JOB_LEASE_SECS", "1")]).unwrap_err();
        assert!(e.to_string().contains("HELPDESK_JOB_LEASE_SECS"), "{e}");
        let pg = cfg(&[(
            "DATABASE_URL",
            "postgres://helpdesk:s3cret@db.local/helpdesk",
        )])
        .unwrap();
        assert_eq!(pg.data_dir, std::path::PathBuf::from("data"));
        assert_eq!(pg.database_label(), "postgres://helpdesk@db.local/helpdesk");
        let there = cfg(&[
            ("DATABASE_URL", "postgresql://db.local/helpdesk"),
            ("HELPDESK_DATA_DIR", "/var/lib/helpdesk"),
        ])
        .unwrap();
        assert_eq!(
            there.data_dir,
            std::path::PathBuf::from("/var/lib/helpdesk")
        );
        assert!(cfg(&[("HELPDESK_ADMIN_PASSWORD", "short")]).is_err());
    }

    #[test]
    fn public_url_is_normalised_and_checked() {
        let c = cfg(&[("HELPDESK_PUBLIC_URL", "https://pbx.example.com/")]).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://pbx.example.com"));
        assert!(cfg(&[("HELPDESK_PUBLIC_URL", "ftp://x")]).is_err());
        assert!(cfg(&[("HELPDESK_PUBLIC_URL", "https://u:p@x.com")]).is_err());
        assert!(cfg(&[("HELPDESK_PUBLIC_URL", "not a url")]).is_err());
    }

    #[test]
    fn bad_values_are_errors_that_name_the_variable() {
        let e = cfg(&[("HELPDESK_ADDR", "localhost")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("HELPDESK_ADDR"), "{e}");
        let e = cfg(&[("HELPDESK_SANDBOX", "yes")]).unwrap_err().to_string();
        assert!(e.contains("HELPDESK_SANDBOX"), "{e}");
        assert!(cfg(&[("HELPDESK_SANDBOX", "1")]).unwrap().sandbox);
        for (var, bad) in [
            ("HELPDESK_DEFAULT_COUNTRY", "Narnia"),
            ("HELPDESK_PBX_UTC_OFFSET", "8"),
            ("HELPDESK_WEBHOOK_SECRET", "short"),
        ] {
            let e = format!("{:#}", cfg(&[(var, bad)]).unwrap_err());
            assert!(e.contains(var), "{e}");
        }
        for (var, bad) in [
            ("HELPDESK_SESSION_IDLE_SECS", "0"),
            ("HELPDESK_CLIENT_TIMEOUT_SECS", "soon"),
        ] {
            let e = format!("{:#}", cfg(&[(var, bad)]).unwrap_err());
            assert!(e.contains(var), "{e}");
        }
        let e = format!(
            "{:#}",
            cfg(&[("HELPDESK_METRICS_ADDR", "metrics")]).unwrap_err()
        );
        assert!(e.contains("HELPDESK_METRICS_ADDR"), "{e}");
        let e = format!(
            "{:#}",
            cfg(&[("HELPDESK_SANDBOX_FORCE", "please")]).unwrap_err()
        );
        assert!(e.contains("HELPDESK_SANDBOX_FORCE"), "{e}");
        let c = cfg(&[
            ("HELPDESK_DEFAULT_COUNTRY", "cn"),
            ("HELPDESK_PBX_UTC_OFFSET", "+08:00"),
        ])
        .unwrap();
        assert_eq!(
            c.default_country.map(|c| c.as_ref().to_string()).as_deref(),
            Some("CN")
        );
        assert_eq!(c.pbx_utc_offset.whole_hours(), 8);
    }

    #[test]
    fn a_standalone_sandbox_can_accept_another_apps_callback() {
        let c = cfg(&[("HELPDESK_SANDBOX_APP_URL", "http://127.0.0.1:3921/")]).unwrap();
        assert_eq!(c.sandbox_app_url.as_deref(), Some("http://127.0.0.1:3921"));
        let sb = crate::sandbox_config(&c, "http://127.0.0.1:3920");
        assert_eq!(
            sb.clients[0].redirect_uris,
            [
                "http://127.0.0.1:3920/oauth/zoho/callback",
                "http://127.0.0.1:3921/oauth/zoho/callback"
            ]
        );
        let e = cfg(&[("HELPDESK_SANDBOX_APP_URL", "ftp://x")]).unwrap_err();
        assert!(e.to_string().contains("HELPDESK_SANDBOX_APP_URL"), "{e}");
        assert_eq!(cfg(&[]).unwrap().sandbox_app_url, None);
    }
}
