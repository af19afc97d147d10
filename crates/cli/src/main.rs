//! `custos`: the one binary. Serves the API and web UI, runs the demo, and offers the
//! operator commands (migrations, accounts, tokens, audit verification).

mod bench;
mod bench_incidents;
mod config;
mod demo;
mod demo_announcements;
mod demo_cmdb;
mod demo_incidents;
mod demo_problems;
mod demo_sl;

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use config::{Config, Overrides};
use custos_core::account::Roles;
use custos_core::authz::Actor;
use custos_core::store::Store;
use custos_server::audit::verify_chain;
use custos_server::{AppState, ServerSettings};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc instead of glibc's allocator: the request path allocates a lot of small,
/// short-lived objects across threads, where glibc spent ~15 % of a list request's CPU
/// (measured with perf) and keeps more memory resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "custos",
    version,
    about = "IT service management with information security in every process"
)]
struct Cli {
    /// Configuration file (TOML). Default: ./custos.toml if it exists.
    #[arg(long, global = true, env = "CUSTOS_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the embedded SQLite database.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:PATH or postgres://… (overrides --data-dir).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API and web UI.
    Serve(ServeArgs),
    /// Serve a demo organisation with sample users (fresh data unless --data-dir is given).
    Demo(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts and tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Produce SLA reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Work with the control catalogue.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Bulk import and export of CIs and relationships.
    #[command(subcommand)]
    Cmdb(CmdbCommand),
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Benchmarks that print figures (see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        /// A role (repeat or comma-separate for several): requester, agent, security_manager,
        /// service_owner, customer_representative, auditor, admin.
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// Department name or id.
        #[arg(long)]
        department: Option<String>,
        /// Display name (default: the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
    },
    /// Issue an API token for a user and print it (once; only its hash is stored).
    IssueToken {
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import an OSCAL catalog or profile (JSON). Importing the same file again changes nothing.
    Import {
        /// The OSCAL JSON file.
        file: PathBuf,
        /// For a profile: the catalog (id) to apply it to; default: the one holding its controls.
        #[arg(long)]
        catalog: Option<String>,
    },
}

#[derive(Subcommand)]
enum CmdbCommand {
    /// Import CIs or relationships from CSV or JSON; rejected rows are listed by line.
    Import {
        /// A .csv or .json file.
        file: PathBuf,
    },
    /// Write CIs or relationships to standard output in the import format.
    Export {
        /// cis or relationships
        #[arg(long, default_value = "cis")]
        kind: String,
        /// csv or json
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Write an SLA's report for a period: the kept one if there is one, else generated now.
    Sla {
        /// The SLA's id.
        #[arg(long)]
        sla: String,
        /// A month (2026-10) or a quarter (2026-Q4).
        #[arg(long)]
        period: String,
        /// html, pdf, csv or json.
        #[arg(long, default_value = "html")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Keep (freeze and hash) the report if none is kept for the period yet.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Prepare the configured database for the incident load test (scripts/bench-incidents.sh):
    /// a service with an agreed SLA, groups, an agent token and N incidents; prints JSON.
    Incidents {
        #[arg(long, default_value_t = 100_000)]
        seed: usize,
    },
    /// Build a synthetic CMDB in the configured database and time the CMDB operations.
    Cmdb {
        #[arg(long, default_value_t = 100_000)]
        cis: usize,
        #[arg(long, default_value_t = 300_000)]
        rels: usize,
        /// Time an existing bench CMDB again instead of refusing a non-empty database.
        #[arg(long)]
        reuse: bool,
    },
    /// Build a service with a large CMDB behind it and time SLA report generation.
    Report {
        /// CIs the service depends on.
        #[arg(long, default_value_t = 10_000)]
        cis: usize,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain; exit 0 if intact, 2 naming the first broken entry otherwise.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        listen: match &cli.command {
            Command::Serve(a) | Command::Demo(a) => a.listen.clone(),
            _ => None,
        },
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        log_format: cli.log_format.clone(),
    };
    let (config, warnings) = match config::load(cli.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(1);
        }
    };
    init_logging(&config);
    for w in warnings {
        tracing::warn!("{w}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let opts = custos_store::ConnectOptions {
        max_connections: config.max_connections,
        migrate: true,
    };
    custos_store::connect(&config.database_url(), &opts)
        .await
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config::redact_url(&config.database_url())
            )
        })
}

fn settings(config: &Config) -> anyhow::Result<ServerSettings> {
    let settings = ServerSettings {
        cookie_secure: config.cookie_secure,
        body_limit: config.body_limit_bytes,
        auth_cache_ttl_ms: config.auth_cache_ttl_ms,
        report_interval_ms: config.report_interval_ms,
        clock_interval_ms: config.clock_interval_ms,
        context_cache_ttl_ms: config.context_cache_ttl_ms,
        priority_matrix: config.priority_matrix,
        public_url: config.public_url.trim_end_matches('/').to_string(),
        level_labels: [
            config.level_labels[0].clone(),
            config.level_labels[1].clone(),
            config.level_labels[2].clone(),
        ],
        notify_interval_ms: config.notify_interval_ms,
        smtp: custos_server::http::state::SmtpSettings {
            host: config.smtp_host.trim().to_string(),
            port: config.smtp_port,
            tls: custos_server::http::state::SmtpTls::parse(&config.smtp_tls).unwrap_or_default(),
            username: config.smtp_username.clone(),
            password: custos_core::secret::Secret::new(config.smtp_password.clone()),
            from: config.smtp_from.clone(),
            ca_file: config.smtp_ca_file.trim().to_string(),
        },
        webhooks: config
            .webhooks
            .iter()
            .map(|w| custos_server::http::state::WebhookSettings {
                name: w.name.clone(),
                url: w.url.clone(),
                secret: custos_core::secret::Secret::new(w.secret.clone()),
                events: w.events.clone(),
                need_to_know: w.need_to_know,
            })
            .collect(),
        ..ServerSettings::default()
    };
    custos_server::notifications::validate(&settings)
        .map_err(|e| anyhow!("invalid configuration: {e}"))?;
    Ok(settings)
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(_) => {
            let store = open_store(&config).await?;
            serve(store, &config, None).await?;
        }
        Command::Demo(_) => {
            if config.database_url.is_none()
                && !std::env::args().any(|a| a.starts_with("--data-dir"))
            {
                config.data_dir =
                    std::env::temp_dir().join(format!("custos-demo-{}", std::process::id()));
            }
            let store = open_store(&config).await?;
            demo::seed(store.as_ref()).await?;
            serve(store, &config, Some(demo::banner)).await?;
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!("database {} is up to date", store.backend());
        }
        Command::Admin(AdminCommand::CreateUser {
            email,
            roles,
            department,
            name,
        }) => {
            let store = open_store(&config).await?;
            let password = read_password()?;
            let roles = Roles::new(
                roles
                    .iter()
                    .map(|r| r.parse())
                    .collect::<Result<Vec<_>, _>>()?,
            )?;
            let dept = match department {
                Some(d) => Some(find_department(store.as_ref(), &d).await?),
                None => None,
            };
            let new =
                custos_core::account::new_user(&email, name.as_deref(), roles, dept, &password)
                    .map_err(|e| anyhow!("{e}"))?;
            let user = store
                .create_user(&Actor::System("cli"), new)
                .await
                .map_err(|e| anyhow!("{}", custos_core::Error::from(e)))?;
            seal(store.as_ref()).await;
            println!(
                "created user {} ({}) with roles {}",
                user.email,
                user.id,
                user.roles.to_list()
            );
        }
        Command::Admin(AdminCommand::IssueToken {
            email,
            name,
            expires_in_days,
        }) => {
            let store = open_store(&config).await?;
            let creds = store
                .credentials_by_email(&email)
                .await
                .map_err(|_| anyhow!("no user with e-mail {email}"))?;
            let (secret, token) = custos_server::accounts::issue(
                store.as_ref(),
                &Actor::System("cli"),
                creds.user.id,
                &name,
                expires_in_days,
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
            seal(store.as_ref()).await;
            eprintln!(
                "token {} for {} (shown once; only its hash is stored):",
                token.id, creds.user.email
            );
            println!("{}", secret.expose());
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = open_store(&config).await?;
            let (checked, result) = verify_chain(store.as_ref())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let unsealed = store
                .unsealed_audit_count()
                .await
                .map_err(|e| anyhow!("{e}"))?;
            match result {
                Ok(()) => {
                    println!(
                        "audit chain intact: {checked} entries verified, {unsealed} not yet sealed"
                    );
                }
                Err(b) => {
                    println!("audit chain BROKEN at {b} ({checked} entries verified before it)");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Command::Catalog(CatalogCommand::Import { file, catalog }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let doc: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| anyhow!("{} is not JSON: {e}", file.display()))?;
            let catalog = catalog
                .map(|c| {
                    c.parse::<custos_core::CatalogId>().map_err(|_| {
                        anyhow!("--catalog must be a catalog id (see GET /api/v1/catalogs)")
                    })
                })
                .transpose()?;
            let store = open_store(&config).await?;
            let r = custos_server::measures::controls::import(
                store.as_ref(),
                &Actor::System("cli"),
                &doc,
                catalog,
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
            seal(store.as_ref()).await;
            match r.baseline_controls {
                None => println!(
                    "catalog \"{}\" ({}): {} controls added, {} updated, {} unchanged",
                    r.title, r.catalog_id, r.inserted, r.updated, r.unchanged
                ),
                Some(n) => {
                    println!(
                        "baseline \"{}\": {n} controls of catalog {}{}",
                        r.title,
                        r.catalog_id,
                        if r.updated > 0 { "" } else { " (unchanged)" }
                    );
                    if !r.missing.is_empty() {
                        eprintln!(
                            "warning: {} controls named by the profile are not in the catalog: {}",
                            r.missing.len(),
                            r.missing.join(", ")
                        );
                    }
                }
            }
        }
        Command::Cmdb(CmdbCommand::Import { file }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let is_json = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let store = open_store(&config).await?;
            let r = custos_server::cmdb::io::import_bytes(
                store.as_ref(),
                &Actor::System("cli"),
                &bytes,
                is_json,
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
            seal(store.as_ref()).await;
            println!(
                "CIs: {} created, {} updated, {} unchanged; relationships: {} created, {} already there; {} CIs re-classified",
                r.cis_created,
                r.cis_updated,
                r.cis_unchanged,
                r.relationships_created,
                r.relationships_existing,
                r.reclassified
            );
            for e in &r.errors {
                eprintln!("line {} ({}): {}", e.line, e.section, e.reason);
            }
            if !r.errors.is_empty() {
                eprintln!("{} rows rejected; the others were imported", r.errors.len());
                return Ok(ExitCode::from(3));
            }
        }
        Command::Cmdb(CmdbCommand::Export { kind, format }) => {
            let json = match format.as_str() {
                "csv" => false,
                "json" => true,
                _ => anyhow::bail!("--format must be csv or json"),
            };
            let store = open_store(&config).await?;
            let out = custos_server::cmdb::io::export_data(store.as_ref(), &kind, json)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            print!("{out}");
        }
        Command::Report(ReportCommand::Sla {
            sla,
            period,
            format,
            output,
            keep,
        }) => {
            return report_sla(&config, &sla, &period, &format, output, keep).await;
        }
        Command::Bench(BenchCommand::Incidents { seed }) => {
            let store = open_store(&config).await?;
            bench_incidents::seed(store.as_ref(), seed).await?;
        }
        Command::Bench(BenchCommand::Report { cis }) => {
            let store = open_store(&config).await?;
            bench::report(store.as_ref(), cis).await?;
        }
        Command::Bench(BenchCommand::Cmdb { cis, rels, reuse }) => {
            if cis < 1000 {
                anyhow::bail!("--cis must be at least 1000");
            }
            let store = open_store(&config).await?;
            bench::run(store.as_ref(), cis, rels, reuse).await?;
        }
        Command::Openapi => {
            println!("{}", custos_server::http::api::openapi_json());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find_department(store: &dyn Store, d: &str) -> anyhow::Result<custos_core::DepartmentId> {
    if let Ok(id) = d.parse::<custos_core::DepartmentId>()
        && let Ok(dep) = store.department(id).await
    {
        return Ok(dep.id);
    }
    store
        .department_by_name(d)
        .await
        .map(|dep| dep.id)
        .map_err(|_| anyhow!("no department named {d:?}"))
}

/// One line from standard input (prompting when it is a terminal).
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for the new user: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        anyhow::bail!(
            "no password on standard input (pipe it in, e.g. `echo \"$PW\" | custos admin create-user …`)"
        );
    }
    Ok(pw)
}

async fn seal(store: &dyn Store) {
    while let Ok(n) = store.seal_audit(1000).await {
        if n < 1000 {
            break;
        }
    }
}

async fn serve(
    store: Arc<dyn Store>,
    config: &Config,
    banner: Option<fn(std::net::SocketAddr) -> String>,
) -> anyhow::Result<()> {
    // Settings first: a bad one stops the start before anything says it is listening.
    let settings = settings(config)?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = store.backend(), "custos listening on http://{addr}");
    if let Some(b) = banner {
        println!("{}", b(addr));
    }
    let state = AppState::new(store.clone(), settings);
    custos_server::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// `custos report sla`: renders (and optionally keeps) one SLA report.
async fn report_sla(
    config: &Config,
    sla: &str,
    period: &str,
    format: &str,
    output: Option<PathBuf>,
    keep: bool,
) -> anyhow::Result<ExitCode> {
    use custos_core::sla_report::Period;
    if !matches!(format, "html" | "pdf" | "csv" | "json") {
        return Err(anyhow!("--format must be html, pdf, csv or json"));
    }
    let id: custos_core::SlaId = sla
        .parse()
        .map_err(|_| anyhow!("--sla must be an SLA id (see GET /api/v1/slas)"))?;
    let period = Period::parse(period).map_err(|e| anyhow!("--period {}", e.message))?;
    if format == "pdf" && output.is_none() && std::io::stdout().is_terminal() {
        return Err(anyhow!(
            "a PDF needs --output FILE (or redirect standard output)"
        ));
    }
    let store = open_store(config).await?;
    let fail = |e: custos_core::Error| anyhow!("{e}");
    let sla = store.sla(id).await.map_err(|e| fail(e.into()))?;
    let mut found = custos_server::service_levels::report_for(store.as_ref(), &sla, &period)
        .await
        .map_err(fail)?;
    if keep && found.0.is_none() {
        let (kept, report) = custos_server::service_levels::keep_report(
            store.as_ref(),
            &Actor::System("cli"),
            &sla,
            &period,
            custos_core::Timestamp::now(),
        )
        .await
        .map_err(fail)?;
        seal(store.as_ref()).await;
        eprintln!(
            "kept report {} for {} (sha256 {})",
            kept.id, period, kept.sha256
        );
        found = (Some(kept), report);
    }
    let (_, report) = found;
    let base = config.public_url.trim_end_matches('/');
    let bytes: Vec<u8> = match format {
        "html" => custos_report::to_html(&report, base).into_bytes(),
        "csv" => custos_report::to_csv(&report).into_bytes(),
        "json" => serde_json::to_vec_pretty(&report)?,
        _ => custos_report::to_pdf(&report, base)
            .map_err(|e| anyhow!("PDF rendering failed: {e}"))?,
    };
    match output {
        Some(path) => std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
