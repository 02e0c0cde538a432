//! Command line and configuration. Every setting is a flag with an environment variable
//! of the same meaning (the variable names are what the README documents).

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use clap::{Parser, Subcommand};
use gapless_store::{redact_url, Store};
use secrecy::SecretString;

use crate::{
    catalog_import,
    chat::llm::{ExtractorMode, LlmArgs},
    demo, staff, startup, telemetry,
    tools::{bench, eval},
    webhooks::Webhooks,
};

#[derive(Debug, Parser)]
#[command(
    name = "gapless",
    version,
    about = "Chat orders and self-service returns for online shops"
)]
pub struct Cli {
    /// Where the data lives: sqlite://PATH (created on first start) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/gapless.db", global = true)]
    pub database_url: String,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "GAPLESS_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: telemetry::LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (the default).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Work with the shop's catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Score an extractor on labelled utterances (JSONL); no database needed.
    Eval(eval::EvalArgs),
    /// Measure one-row insert transactions per second on DATABASE_URL: the physical
    /// limit for chat turns on this disk (`scripts/load.sh` runs it with `--plain` beside the load).
    BenchWrites(bench::writes::BenchWritesArgs),
    /// Measure chat turns per second and their latency against a running server over
    /// HTTP (`scripts/load.sh` runs it with 1 and 8 workers). No database needed.
    BenchTurns(bench::turns::BenchTurnsArgs),
    /// Measure the LLM path's own cost (prompt, HTTP, parse, validate) against a
    /// zero-delay fake model on loopback, beside the rules path. No database needed.
    BenchLlm(bench::llm::BenchLlmArgs),
    /// Seed DATABASE_URL up to N conversations (100,000 by default) and time the staff
    /// console's conversation list: first page, deep page, filters, word search.
    BenchAudit(bench::audit::BenchAuditArgs),
    /// Seed DATABASE_URL up to N synthetic conversations (1,000,000 by default) and time
    /// the staff dashboard for 1, 30, 365 and 1,098 days.
    BenchDashboard(bench::dashboard::BenchDashboardArgs),
    /// Demo data for trying the product.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Manage staff accounts (sign-in to the staff console and API).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Send order and return events to the shop's systems (signed webhooks).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Manage API keys for the shop's systems (fulfilment reports shipments with one).
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; prints its id and its signing secret (the line starting
    /// `whsec_`), shown this once.
    Add {
        /// Where messages are POSTed: http:// or https://.
        url: String,
        /// Which events it takes, comma-separated: `*` (all, the default), `order.*`,
        /// `return.*`, or types such as `order.confirmed,return.refunded`.
        #[arg(long, value_delimiter = ',', default_value = "*")]
        events: Vec<String>,
    },
    /// List endpoints (without secrets).
    List,
    /// Remove an endpoint and the messages still queued for it.
    Remove { id: String },
    /// Stop sending to an endpoint; its messages queue up until it is resumed.
    Pause { id: String },
    /// Send to a paused endpoint again, starting with what queued up.
    Resume { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for the system NAME and print it once: the one line of standard
    /// output that starts with `gk_`. Only its hash is stored.
    Add { name: String },
    /// List the keys (never the keys themselves): id, name, created, revoked.
    List,
    /// Revoke the key in use with this name or id; requests with it then get 401.
    Revoke { name_or_id: String },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account. The password is read from standard input when it is not
    /// a terminal (the first line), else asked for twice without echo.
    Add(staff::cli::AddArgs),
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Place delivered demo orders (customer demo@example.com) at various ages, to try
    /// the returns portal. Each run adds four more.
    Seed,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Replace the catalog with the products in FILE (JSON). All or nothing: a bad file
    /// changes nothing and every problem is listed.
    Import { file: PathBuf },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Folder with the built front end (`pkg/` with wasm, js and css; static files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Catalog imported at start when the database has none yet; empty to start without.
    #[arg(long, env = "GAPLESS_CATALOG", default_value = "demo/catalog.json")]
    pub catalog: PathBuf,

    /// Chat API requests per second one client IP may make, sustained.
    #[arg(long, env = "GAPLESS_RATE_IP_PER_SECOND", default_value_t = 20.0)]
    pub rate_ip_per_second: f64,

    /// Chat API requests one client IP may make in a burst.
    #[arg(long, env = "GAPLESS_RATE_IP_BURST", default_value_t = 120)]
    pub rate_ip_burst: u32,

    /// Messages per second one conversation may send, sustained.
    #[arg(long, env = "GAPLESS_RATE_CHAT_PER_SECOND", default_value_t = 2.0)]
    pub rate_chat_per_second: f64,

    /// Messages one conversation may send in a burst.
    #[arg(long, env = "GAPLESS_RATE_CHAT_BURST", default_value_t = 10)]
    pub rate_chat_burst: u32,

    /// The shop's return policy (JSON): window, reasons, ceiling, limits, resolutions.
    #[arg(long, env = "GAPLESS_RETURN_POLICY", default_value = "demo/return-policy.json")]
    pub return_policy: PathBuf,

    /// Order lookups (returns API, portal, the chat's "where is my order") per second for
    /// one order number, one RMA and one email each, sustained; the per-IP limit applies too.
    #[arg(long, env = "GAPLESS_RATE_LOOKUP_PER_SECOND", default_value_t = 0.2)]
    pub rate_lookup_per_second: f64,

    /// Order lookups one order number, one RMA or one email may take in a burst.
    #[arg(long, env = "GAPLESS_RATE_LOOKUP_BURST", default_value_t = 10)]
    pub rate_lookup_burst: u32,

    /// Send the session cookie only over HTTPS, and tell browsers to keep to HTTPS
    /// (Strict-Transport-Security). Turn on when the shop is served over HTTPS (directly
    /// or behind a proxy); plain-HTTP browsers would then get no session.
    #[arg(long, env = "GAPLESS_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Longest time one request may take, in milliseconds; then `503 timeout`. Keep it
    /// above twice GAPLESS_LLM_TIMEOUT_MS when the model phrases replies.
    #[arg(long, env = "GAPLESS_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Bearer token a scraper must send to read /metrics; unset turns /metrics off.
    #[arg(long, env = "GAPLESS_METRICS_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub metrics_token: Option<SecretString>,

    /// How long /metrics serves one read of the shop's counts, in milliseconds.
    #[arg(long, env = "GAPLESS_METRICS_REFRESH_MS", default_value_t = 5_000)]
    pub metrics_refresh_ms: u64,

    /// Which extractor reads chat messages: `rules` (offline), `llm` (the model first,
    /// the rules extractor when it fails) or `shadow` (rules answer, the model is audited).
    #[arg(long, env = "GAPLESS_EXTRACTOR", value_enum, default_value = "rules")]
    pub extractor: ExtractorMode,

    /// Staff sign-in password checks (Argon2id: 19 MiB and tens of milliseconds of CPU
    /// each) that may run at once; 0 means one per CPU core.
    #[arg(long, env = "GAPLESS_SIGNIN_HASHES", default_value_t = 0)]
    pub signin_hashes: usize,

    /// How long a sign-in waits for a free password check before `503 busy`.
    #[arg(long, env = "GAPLESS_SIGNIN_WAIT_MS", default_value_t = 2000)]
    pub signin_wait_ms: u64,

    /// Deliver outbox messages to webhook endpoints from this server. Every app server
    /// may run it (they share the work through the database); turn it off only to keep
    /// one server from sending.
    #[arg(long, env = "GAPLESS_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_worker: bool,

    /// How long a webhook receiver may take to answer, in milliseconds; slower counts
    /// as a failed attempt and is retried.
    #[arg(long, env = "GAPLESS_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,

    /// Days a delivered webhook message is kept (for the console) before it is pruned.
    #[arg(long, env = "GAPLESS_WEBHOOK_RETENTION_DAYS", default_value_t = 7)]
    pub webhook_retention_days: u32,

    /// The SMTP server customer email goes through (CONTRACTS §10):
    /// `smtp://[user:pass@]host:port` (STARTTLS when offered) or `smtps://…`. Unset: no
    /// email, and the chat does not promise any.
    #[arg(long, env = "GAPLESS_SMTP_URL", hide_env_values = true, value_parser = parse_secret)]
    pub smtp_url: Option<SecretString>,

    /// The sender of customer email: `Shop Name <orders@shop.example>`.
    #[arg(long, env = "GAPLESS_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// The shop's name in emails; the name in GAPLESS_MAIL_FROM when unset.
    #[arg(long, env = "GAPLESS_SHOP_NAME")]
    pub shop_name: Option<String>,

    /// A folder of email templates replacing the built-in ones file by file
    /// (`order_confirmed.subject`, `.txt`, `.html`, …); checked at start.
    #[arg(long, env = "GAPLESS_EMAIL_TEMPLATES")]
    pub email_templates: Option<PathBuf>,

    /// How long one SMTP exchange may take, in milliseconds; slower is retried.
    #[arg(long, env = "GAPLESS_SMTP_TIMEOUT_MS", default_value_t = 30_000)]
    pub smtp_timeout_ms: u64,

    /// Days from confirmation by which the shop promises delivery: the staff dashboard's
    /// on-time, on-time-in-full and perfect order rates count against it.
    #[arg(long, env = "GAPLESS_DELIVERY_PROMISE_DAYS", default_value_t = 5)]
    pub delivery_promise_days: u32,

    #[command(flatten)]
    pub llm: LlmArgs,

    #[command(flatten)]
    pub payments: crate::payments::PaymentArgs,
}

fn parse_secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text.to_owned()))
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs::parse_from_env()
    }
}

impl ServeArgs {
    /// The email settings, `None` when email is off; half of them is an error.
    pub fn mail_settings(&self) -> anyhow::Result<Option<crate::email::MailSettings>> {
        match (&self.smtp_url, &self.mail_from) {
            (None, None) => Ok(None),
            (Some(_), None) => {
                anyhow::bail!(
                    "GAPLESS_SMTP_URL is set without GAPLESS_MAIL_FROM: set both or neither"
                )
            }
            (None, Some(_)) => {
                anyhow::bail!(
                    "GAPLESS_MAIL_FROM is set without GAPLESS_SMTP_URL: set both or neither"
                )
            }
            (Some(url), Some(from)) => Ok(Some(crate::email::MailSettings {
                smtp_url: url.clone(),
                from: from.clone(),
                shop_name: self.shop_name.clone(),
                templates: self.email_templates.clone(),
                timeout: std::time::Duration::from_millis(self.smtp_timeout_ms.max(1)),
            })),
        }
    }

    fn parse_from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["gapless"]).serve
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    crate::tls::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command.unwrap_or_else(|| Command::Serve(Box::default())) {
            Command::Serve(args) => {
                let store = open_store(&cli.database_url).await?;
                startup::load_catalog_on_first_start(store.as_ref(), &args.catalog).await?;
                let app = startup::Application::build(&args, store).await?;
                app.run_until_stopped().await
            }
            Command::Migrate => {
                open_store(&cli.database_url).await?;
                println!("migrations applied to {}", redact_url(&cli.database_url));
                Ok(())
            }
            Command::Catalog(CatalogCommand::Import { file }) => {
                let store = open_store(&cli.database_url).await?;
                let summary = catalog_import::import_file(store.as_ref(), &file).await?;
                println!(
                    "catalog imported from {}: {} added, {} updated, {} removed",
                    file.display(),
                    summary.added,
                    summary.updated,
                    summary.removed
                );
                Ok(())
            }
            Command::Eval(args) => eval::run(&args).await.map(drop),
            Command::Demo(DemoCommand::Seed) => {
                let store = open_store(&cli.database_url).await?;
                let seeded = demo::seed(store).await?;
                println!(
                    "DEMO DATA: delivered orders for {} (try them at /returns):",
                    demo::DEMO_EMAIL
                );
                for order in seeded {
                    println!(
                        "  {}  delivered {} days ago: {}",
                        order.number, order.delivered_days_ago, order.shows
                    );
                }
                Ok(())
            }
            Command::BenchWrites(args) if args.plain => {
                // Migrated first: the loop writes into `write_probe`.
                open_store(&cli.database_url).await?;
                println!("{}", bench::writes::run_plain(&cli.database_url, &args).await?);
                Ok(())
            }
            Command::BenchWrites(args) => {
                let store = open_store(&cli.database_url).await?;
                let report = bench::writes::run(store, &args).await?;
                println!("{report}");
                Ok(())
            }
            Command::BenchTurns(args) => {
                println!("{}", bench::turns::run(&args).await?);
                Ok(())
            }
            Command::BenchLlm(args) => {
                println!("{}", bench::llm::run(&args).await?);
                Ok(())
            }
            Command::BenchAudit(args) => {
                let store = bench::audit::open(&cli.database_url).await?;
                print!("{}", bench::audit::run(store, &args).await?);
                Ok(())
            }
            Command::BenchDashboard(args) => {
                print!("{}", bench::dashboard::run(&cli.database_url, &args).await?);
                Ok(())
            }
            Command::Webhook(command) => {
                let store = open_store(&cli.database_url).await?;
                webhook_command(Webhooks::new(store), command).await
            }
            Command::ApiKey(command) => {
                let store = open_store(&cli.database_url).await?;
                print!("{}", api_key(store.as_ref(), command).await?);
                Ok(())
            }
            Command::Staff(StaffCommand::Add(args)) => {
                let store = open_store(&cli.database_url).await?;
                println!("{}", staff::cli::add(store.as_ref(), &args).await?);
                Ok(())
            }
        }
    })
}

async fn webhook_command(webhooks: Webhooks, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { url, events } => {
            let created = webhooks.add(&url, &events).await?;
            println!("webhook endpoint {} added for {}", created.id, created.url);
            println!("events: {}", created.events.join(","));
            println!("signing secret (shown once; verify webhook-signature with it):");
            println!("{}", created.secret);
        }
        WebhookCommand::List => {
            let endpoints = webhooks.list().await?;
            if endpoints.is_empty() {
                println!("no webhook endpoints: add one with `gapless webhook add URL`");
            }
            for endpoint in endpoints {
                println!(
                    "{}  {}  events={}{}",
                    endpoint.id,
                    endpoint.url,
                    endpoint.events.join(","),
                    if endpoint.paused { "  (paused)" } else { "" }
                );
            }
        }
        WebhookCommand::Remove { id } => {
            webhooks.remove(&id).await?;
            println!("webhook endpoint {id} removed");
        }
        WebhookCommand::Pause { id } => {
            webhooks.set_paused(&id, true).await?;
            println!("webhook endpoint {id} paused");
        }
        WebhookCommand::Resume { id } => {
            webhooks.set_paused(&id, false).await?;
            println!("webhook endpoint {id} resumed");
        }
    }
    Ok(())
}

/// What `gapless api-key …` prints.
async fn api_key(store: &dyn Store, command: ApiKeyCommand) -> anyhow::Result<String> {
    use crate::{fulfilment::keys, json_time::rfc3339};
    Ok(match command {
        ApiKeyCommand::Add { name } => {
            let (row, key) = keys::add(store, &name).await?;
            format!(
                "API key {:?} created (id {}). It is shown only now; keep it secret:\n{key}\n",
                row.name, row.id
            )
        }
        ApiKeyCommand::List => {
            let rows = store.api_keys().await?;
            if rows.is_empty() {
                return Ok("no API keys yet: `gapless api-key add NAME`\n".to_owned());
            }
            rows.iter()
                .map(|row| {
                    let revoked = row
                        .revoked_at
                        .map_or("in use".to_owned(), |at| format!("revoked {}", rfc3339(at)));
                    format!(
                        "{}  {}  created {}  {revoked}\n",
                        row.id,
                        row.name,
                        rfc3339(row.created_at)
                    )
                })
                .collect()
        }
        ApiKeyCommand::Revoke { name_or_id } => keys::revoke(store, &name_or_id)
            .await?
            .iter()
            .map(|row| format!("revoked API key {:?} (id {})\n", row.name, row.id))
            .collect(),
    })
}

/// Connects and migrates; the error names the URL (without password) and what to check.
pub async fn open_store(database_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let shown = redact_url(database_url);
    let store = gapless_store::connect(database_url)
        .await
        .with_context(|| format!("cannot open the database {shown} (check DATABASE_URL)"))?;
    store.migrate().await.with_context(|| format!("cannot migrate the database {shown}"))?;
    Ok(store)
}
