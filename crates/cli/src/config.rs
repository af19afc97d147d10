//! Configuration: defaults → optional TOML file → `CUSTOS_*` environment → command-line
//! flags, in one struct. Unknown keys in the file or environment are warned about.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Where the embedded SQLite database lives when no database URL is given.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://user:password@host/db`. Secret: never logged.
    pub database_url: Option<String>,
    /// Database connections per instance.
    pub max_connections: u32,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `custos_server=debug`.
    pub log_level: String,
    /// Mark cookies Secure (leave on; browsers accept them on http://localhost).
    pub cookie_secure: bool,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// How long an API-token lookup is reused, in ms (0: look up every request). Bounds how
    /// long a token revoked on another instance keeps working.
    pub auth_cache_ttl_ms: u64,
    /// Display names for the classification levels low, moderate, high.
    pub level_labels: Vec<String>,
    /// How often the SLA report scheduler looks for due reports, in ms (0: off).
    pub report_interval_ms: u64,
    /// Public address of this installation, for links in report PDFs, HTML files and
    /// notification e-mails.
    pub public_url: String,
    /// How often the SLA clock job marks warnings and breaches, in ms (0: off).
    pub clock_interval_ms: u64,
    /// How long an incident context is reused by an instance, in ms (0: never).
    pub context_cache_ttl_ms: u64,
    /// Impact × urgency → priority: `cells[impact][urgency]`, high/medium/low order.
    pub priority_matrix: custos_core::incident::PriorityMatrix,
    /// How often the notification dispatcher runs, in ms (0: off).
    pub notify_interval_ms: u64,
    /// SMTP server for notification e-mails; empty: no e-mail.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: String,
    pub smtp_username: String,
    /// Secret: never logged.
    pub smtp_password: String,
    /// Sender, e.g. `Custos <custos@example.org>`.
    pub smtp_from: String,
    /// PEM file of CA certificates to trust besides the system's (a relay with a private CA).
    pub smtp_ca_file: String,
    /// Webhooks receiving notification events (`CUSTOS_WEBHOOKS` takes a JSON list).
    pub webhooks: Vec<Webhook>,
}

/// One webhook. URL and secret are never logged (the URL may carry a token).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub name: String,
    pub url: String,
    /// Key of the HMAC-SHA256 in `X-Custos-Signature`.
    pub secret: String,
    /// Event kinds it receives (e.g. `breach`, `major_incident`); empty: all.
    #[serde(default)]
    pub events: Vec<custos_core::notify::EventKind>,
    /// Trusted with need-to-know (the security team's tooling): receives security
    /// incidents' events with their content. Other webhooks receive none of them.
    #[serde(default)]
    pub need_to_know: bool,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("url", &"[redacted]")
            .field("secret", &"[redacted]")
            .field("events", &self.events)
            .field("need_to_know", &self.need_to_know)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./custos-data"),
            database_url: None,
            max_connections: 8,
            log_format: "text".into(),
            log_level: "info".into(),
            cookie_secure: true,
            body_limit_bytes: 1024 * 1024,
            auth_cache_ttl_ms: 1000,
            level_labels: vec!["low".into(), "moderate".into(), "high".into()],
            report_interval_ms: 600_000,
            public_url: String::new(),
            clock_interval_ms: 5_000,
            context_cache_ttl_ms: 1000,
            priority_matrix: custos_core::incident::PriorityMatrix::default(),
            notify_interval_ms: 1000,
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_tls: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: String::new(),
            smtp_ca_file: String::new(),
            webhooks: Vec::new(),
        }
    }
}

/// The configuration printed for people: the database password is replaced.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("max_connections", &self.max_connections)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("cookie_secure", &self.cookie_secure)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("auth_cache_ttl_ms", &self.auth_cache_ttl_ms)
            .field("level_labels", &self.level_labels)
            .field("report_interval_ms", &self.report_interval_ms)
            .field("public_url", &self.public_url)
            .field("clock_interval_ms", &self.clock_interval_ms)
            .field("context_cache_ttl_ms", &self.context_cache_ttl_ms)
            .field("priority_matrix", &self.priority_matrix)
            .field("notify_interval_ms", &self.notify_interval_ms)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &if self.smtp_password.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("smtp_from", &self.smtp_from)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:[redacted]@host/db`; also hides a
/// `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        out = format!("{scheme}://{user}:[redacted]@{host}");
    }
    if let Some(i) = out.find("password=") {
        let end = out[i..].find('&').map(|e| i + e).unwrap_or(out.len());
        out.replace_range(i..end, "password=[redacted]");
    }
    out
}

impl Config {
    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.is_empty() => u.clone(),
            _ => format!("sqlite:{}", self.data_dir.join("custos.db").display()),
        }
    }
}

/// Flags that override everything else (absent flags override nothing).
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

const KNOWN: &[&str] = &[
    "clock_interval_ms",
    "context_cache_ttl_ms",
    "priority_matrix",
    "notify_interval_ms",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "smtp_ca_file",
    "webhooks",
    "public_url",
    "report_interval_ms",
    "level_labels",
    "auth_cache_ttl_ms",
    "listen",
    "data_dir",
    "database_url",
    "max_connections",
    "log_format",
    "log_level",
    "cookie_secure",
    "body_limit_bytes",
];

/// Keys whose environment value is a string as it stands.
const VERBATIM: [&str; 4] = ["smtp_host", "smtp_username", "smtp_password", "smtp_from"];

/// Loads the configuration. `file` defaults to `./custos.toml` when that exists.
/// Returns the configuration and warnings about unknown keys.
pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<(Config, Vec<String>)> {
    let default_file = Path::new("custos.toml");
    let file = file.or_else(|| default_file.exists().then_some(default_file));
    let mut warnings = Vec::new();
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    if let Some(f) = file {
        if !f.exists() {
            anyhow::bail!("configuration file {} does not exist", f.display());
        }
        let raw: toml_keys::Table = Figment::from(Toml::file(f))
            .extract()
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        for k in raw.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
            warnings.push(format!("unknown key `{k}` in {} (ignored)", f.display()));
        }
        fig = fig.merge(Toml::file(f));
    }
    for (k, _) in std::env::vars() {
        if let Some(key) = k.strip_prefix("CUSTOS_") {
            let key = key.to_ascii_lowercase();
            if !KNOWN.contains(&key.as_str())
                && key != "config"
                && !key.starts_with("test_")
                && key != "e2e"
            {
                warnings.push(format!("unknown environment variable {k} (ignored)"));
            }
        }
    }
    // Free text is taken from the environment verbatim (figment would read a numeric
    // password as a number), and a list of webhooks is JSON.
    let env_keys: Vec<&str> = KNOWN
        .iter()
        .copied()
        .filter(|k| !VERBATIM.contains(k) && *k != "webhooks")
        .collect();
    fig = fig.merge(Env::prefixed("CUSTOS_").only(&env_keys));
    for key in VERBATIM {
        if let Ok(v) = std::env::var(format!("CUSTOS_{}", key.to_ascii_uppercase())) {
            fig = fig.merge(Serialized::global(key, v));
        }
    }
    if let Ok(json) = std::env::var("CUSTOS_WEBHOOKS") {
        let hooks: Vec<Webhook> = serde_json::from_str(&json).map_err(|e| {
            anyhow::anyhow!(
                "invalid configuration: CUSTOS_WEBHOOKS must be a JSON list of {{\"name\", \"url\", \"secret\", \"events\"}}: {e}"
            )
        })?;
        fig = fig.merge(Serialized::global("webhooks", hooks));
    }
    fig = fig.merge(Serialized::globals(overrides));
    let config: Config = fig
        .extract()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    if config.level_labels.len() != 3
        || config
            .level_labels
            .iter()
            .any(|l| l.trim().is_empty() || l.len() > 40)
    {
        anyhow::bail!(
            "invalid configuration: level_labels must be three names (for low, moderate, high), e.g. [\"public\", \"internal\", \"confidential\"]"
        );
    }
    config
        .priority_matrix
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {}: {}", e.field, e.message))?;
    if custos_server::http::state::SmtpTls::parse(&config.smtp_tls).is_none() {
        anyhow::bail!("invalid configuration: smtp_tls must be none, starttls or tls");
    }
    Ok((config, warnings))
}

mod toml_keys {
    pub type Table = std::collections::BTreeMap<String, figment::value::Value>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_database_password() {
        let c = Config {
            database_url: Some("postgres://custos:s3cret@db/custos".into()),
            ..Config::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert!(dbg.contains("postgres://custos:[redacted]@db/custos"));
        assert_eq!(
            redact_url("postgres://h/db?user=a&password=x&sslmode=require"),
            "postgres://h/db?user=a&password=[redacted]&sslmode=require"
        );
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "listen = \"0.0.0.0:9000\"\nmax_connections = 3\nbogus = 1\nlevel_labels = [\"public\", \"internal\", \"confidential\"]\n",
            )?;
            jail.set_env("CUSTOS_MAX_CONNECTIONS", "5");
            let o = Overrides {
                data_dir: Some("/tmp/x".into()),
                ..Default::default()
            };
            let (c, warnings) = load(Some(Path::new("c.toml")), &o).unwrap();
            assert_eq!(c.listen, "0.0.0.0:9000", "file beats default");
            assert_eq!(c.max_connections, 5, "environment beats file");
            assert_eq!(c.data_dir, PathBuf::from("/tmp/x"), "flag beats all");
            assert_eq!(c.database_url(), "sqlite:/tmp/x/custos.db");
            assert!(warnings.iter().any(|w| w.contains("bogus")), "{warnings:?}");
            assert_eq!(c.level_labels, ["public", "internal", "confidential"]);
            jail.create_file("bad.toml", "level_labels = [\"a\"]\n")?;
            assert!(load(Some(Path::new("bad.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn notification_settings_from_file_and_environment_stay_secret() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "n.toml",
                "smtp_host = \"mail.example.org\"\nsmtp_from = \"Custos <custos@example.org>\"\n\n[[webhooks]]\nname = \"chat\"\nurl = \"https://chat.example.org/hook?token=t0ps3cret\"\nsecret = \"file-secret\"\nevents = [\"breach\"]\nneed_to_know = true\n",
            )?;
            jail.set_env("CUSTOS_SMTP_PASSWORD", "123456");
            jail.set_env("CUSTOS_SMTP_PORT", "587");
            let (c, warnings) = load(Some(Path::new("n.toml")), &Overrides::default()).unwrap();
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!((c.smtp_port, c.smtp_password.as_str()), (587, "123456"));
            assert_eq!(
                c.webhooks[0].events,
                [custos_core::notify::EventKind::Breach]
            );
            assert!(c.webhooks[0].need_to_know);
            let dbg = format!("{c:?}");
            for secret in ["123456", "t0ps3cret", "file-secret"] {
                assert!(!dbg.contains(secret), "{dbg}");
            }
            // The environment's JSON list replaces the file's.
            jail.set_env(
                "CUSTOS_WEBHOOKS",
                r#"[{"name": "ops", "url": "http://10.0.0.1/h", "secret": "x"}]"#,
            );
            let (c, _) = load(Some(Path::new("n.toml")), &Overrides::default()).unwrap();
            assert_eq!(c.webhooks.len(), 1);
            assert_eq!(c.webhooks[0].name, "ops");
            assert!(c.webhooks[0].events.is_empty());
            assert!(!c.webhooks[0].need_to_know, "not trusted unless said");
            jail.set_env("CUSTOS_WEBHOOKS", "[{\"name\": 1}]");
            assert!(load(None, &Overrides::default()).is_err());
            jail.set_env("CUSTOS_WEBHOOKS", "[]");
            jail.set_env("CUSTOS_SMTP_TLS", "ssl");
            assert!(load(None, &Overrides::default()).is_err());
            Ok(())
        });
    }
}
