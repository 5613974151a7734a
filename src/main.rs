//! The `portico` command: serve, demo, migrate, user, token, import, export.

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use portico::config::{Config, DEFAULT_ABSOLUTE_SECS, DEFAULT_IDLE_SECS};
use portico::service::imports::{self, Kind, Progress};
use portico::store::Db;
use std::net::SocketAddr;
use std::process::ExitCode;

/// mimalloc instead of the C library's allocator: a placement makes a few thousand small
/// allocations (JSON, rows, strings); orders/s at concurrency 16 went from ~800 to ~900 on the
/// large dataset (bench/run.sh sqlite).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "portico", version, about = "Self-hosted B2B customer portal and unified order management")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application.
    Serve(ServeArgs),
    /// Create (or recreate) the demo company on SQLite and serve it.
    Demo(DemoArgs),
    /// Run only the outbox worker (webhook deliveries), e.g. beside `serve --no-worker` nodes.
    Worker {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        webhooks: WebhookArgs,
        /// The URL users reach Portico at (links in mails).
        #[arg(long, env = "PORTICO_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Manage users from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens from the command line.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Licences for regulated products.
    #[command(subcommand)]
    Licences(LicencesCommand),
    /// Credit exposure.
    #[command(subcommand)]
    Credit(CreditCommand),
    /// Quotes.
    #[command(subcommand)]
    Quotes(QuotesCommand),
    /// Import a CSV file (all-or-nothing; every bad row is reported).
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[arg(value_parser = PossibleValuesParser::new(Kind::IMPORTS.map(Kind::as_str)))]
        kind: String,
        file: std::path::PathBuf,
    },
    /// Export as CSV (to a file, or standard output).
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[arg(value_parser = PossibleValuesParser::new(Kind::ALL.map(Kind::as_str)))]
        kind: String,
        file: Option<std::path::PathBuf>,
    },
}

/// The command line acts as an administrator; its changes are audited with channel `cli`.
fn cli_principal() -> portico::domain::auth::Principal {
    portico::domain::auth::Principal::staff(
        "cli".into(),
        "Command line".into(),
        String::new(),
        vec![portico::domain::auth::StaffRole::Admin],
    )
}

/// An import's progress on standard error: a bar redrawn in place on a terminal, a line at every
/// tenth of the file otherwise (logs, CI).
struct ProgressBar {
    total: u64,
    started: std::time::Instant,
    terminal: bool,
    shown: u64,
}

impl ProgressBar {
    const WIDTH: u64 = 30;

    fn new(total: u64) -> ProgressBar {
        use std::io::IsTerminal;
        ProgressBar { total, started: std::time::Instant::now(), terminal: std::io::stderr().is_terminal(), shown: 0 }
    }

    fn show(&mut self, p: Progress) {
        let percent = (p.bytes * 100).checked_div(self.total).map_or(100, |p| p.min(100));
        let seconds = self.started.elapsed().as_secs_f64();
        let rows = p.rows;
        let phase = if percent == 100 { "checked; writing…" } else { "checking" };
        if self.terminal {
            let filled = (percent * Self::WIDTH / 100) as usize;
            let bar = format!("{}{}", "█".repeat(filled), "░".repeat(Self::WIDTH as usize - filled));
            eprint!("\r  {bar} {percent:>3}%  {rows} rows  {seconds:.1} s  {phase}\x1b[K");
        } else if percent / 10 > self.shown / 10 {
            eprintln!("  {percent:>3}%  {rows} rows  {seconds:.1} s  {phase}");
            self.shown = percent;
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

#[derive(Args)]
struct DbArgs {
    /// sqlite://path or postgres://user@host/db
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://portico.db")]
    database_url: String,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Args)]
struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "PORTICO_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// URL users reach Portico at; https turns on Secure cookies and HSTS. Default: http://<bind>.
    #[arg(long, env = "PORTICO_PUBLIC_URL")]
    public_url: Option<String>,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "PORTICO_SESSION_IDLE_MINUTES", default_value_t = DEFAULT_IDLE_SECS / 60)]
    session_idle_minutes: i64,
    /// Hours after sign-in at which a session ends regardless of activity.
    #[arg(long, env = "PORTICO_SESSION_ABSOLUTE_HOURS", default_value_t = DEFAULT_ABSOLUTE_SECS / 3600)]
    session_absolute_hours: i64,
    /// Serve `GET /metrics` on the main address to `Authorization: Bearer <token>` only
    /// (without it, and without --metrics-bind, metrics are not served).
    #[arg(long, env = "PORTICO_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Also listen here for `GET /metrics` only, without a token (a private address).
    #[arg(long, env = "PORTICO_METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    /// Serve the local test payment provider under /test-provider/ with this shared secret, so
    /// buyers can pay invoices online (for trials; `portico demo` turns it on with a random secret).
    #[arg(long, env = "PORTICO_TEST_PROVIDER_SECRET", hide_env_values = true)]
    test_provider_secret: Option<String>,
    /// Do not run the outbox worker in this process (run `portico worker` instead).
    #[arg(long, env = "PORTICO_NO_WORKER")]
    no_worker: bool,
    /// Keep new product images' files in this directory (a path every node mounts) instead of the
    /// database. It must exist and be writable, or Portico refuses to start.
    #[arg(long, env = "PORTICO_IMAGE_DIR")]
    image_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    webhooks: WebhookArgs,
}

#[derive(Args)]
struct WebhookArgs {
    /// Networks webhook deliveries may reach besides the public internet, e.g. `10.0.0.0/8,
    /// 127.0.0.1` (by default private, loopback and link-local addresses are refused).
    #[arg(long, env = "PORTICO_WEBHOOKS_ALLOW_NETWORKS", default_value = "")]
    webhooks_allow_networks: String,
    /// The wait after a delivery's first failure, in milliseconds; it doubles after each further one.
    #[arg(long, env = "PORTICO_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000)]
    webhook_retry_base_ms: u64,
    /// The longest wait between two attempts, in milliseconds.
    #[arg(long, env = "PORTICO_WEBHOOK_RETRY_CAP_MS", default_value_t = 6 * 3_600_000)]
    webhook_retry_cap_ms: u64,
    /// Attempts after which a delivery is dead (an admin can replay it).
    #[arg(long, env = "PORTICO_WEBHOOK_MAX_ATTEMPTS", default_value_t = 15)]
    webhook_max_attempts: i64,
    /// A delivery's time limit in seconds (1–120). A worker holds a delivery for four times this:
    /// a worker that dies mid-delivery leaves it to the others after that long.
    #[arg(long, env = "PORTICO_WEBHOOK_TIMEOUT_SECS", default_value_t = 15)]
    webhook_timeout_secs: u64,
    /// The SMTP server mail goes through: `smtps://user:password@host:465` (TLS),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtp://host:25`. Without it
    /// mail is kept in the local mailbox (Admin → Sent mail) and reaches nobody.
    #[arg(long, env = "PORTICO_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The address mail comes from (the seller's name is its display name).
    #[arg(long, env = "PORTICO_MAIL_FROM", default_value = "portico@localhost")]
    mail_from: String,
    /// For a trial without an SMTP server: the local mailbox keeps the one-time set-password
    /// links of the mail it holds, so the admin can read an invited user's link on Sent mail and
    /// pass it on (otherwise nobody can get a new user in). Ignored when PORTICO_SMTP_URL is set.
    #[arg(long, env = "PORTICO_MAILBOX_SHOWS_LINKS")]
    mailbox_shows_links: bool,
}

impl WebhookArgs {
    fn worker_config(&self) -> Result<portico::jobs::WorkerConfig, String> {
        let allow = portico::domain::webhooks::AddressPolicy::parse(&self.webhooks_allow_networks)
            .map_err(|e| format!("PORTICO_WEBHOOKS_ALLOW_NETWORKS: {e}"))?;
        if self.webhook_max_attempts < 1 || self.webhook_retry_base_ms < 1 {
            return Err("webhook retries need at least one attempt and a wait of at least 1 ms".into());
        }
        if !(1..=120).contains(&self.webhook_timeout_secs) {
            return Err("PORTICO_WEBHOOK_TIMEOUT_SECS must be 1 to 120".into());
        }
        let retry = portico::domain::webhooks::RetryPolicy {
            base_ms: self.webhook_retry_base_ms,
            cap_ms: self.webhook_retry_cap_ms.max(self.webhook_retry_base_ms),
            max_attempts: self.webhook_max_attempts,
        };
        let timeout = std::time::Duration::from_secs(self.webhook_timeout_secs);
        let mail = portico::jobs::mail::MailSettings {
            smtp_url: self.smtp_url.clone().filter(|u| !u.trim().is_empty()),
            from_address: self.mail_from.clone(),
            mailbox_shows_links: self.mailbox_shows_links
                && self.smtp_url.as_deref().is_none_or(|u| u.trim().is_empty()),
        };
        portico::jobs::mail::Mailer::new(&mail)?;
        Ok(portico::jobs::WorkerConfig { allow, retry, mail, ..portico::jobs::WorkerConfig::with_timeout(timeout) })
    }
}

#[derive(Args)]
struct DemoArgs {
    /// Where the demo lives; a SQLite file here is deleted and recreated.
    #[arg(long, env = "PORTICO_DEMO_DATABASE_URL", default_value = "sqlite://portico-demo.db")]
    database_url: String,
    #[command(flatten)]
    http: HttpArgs,
    /// Seed and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
    /// `large` adds the benchmark dataset: 100,000 products, 1,000 accounts, 1,000,000 contract prices,
    /// 50 open invoices on each of 1,000 accounts and two years of order history (1,000,000 orders
    /// across every channel; `PORTICO_DEMO_HISTORY_ORDERS` sets how many); `aging` only the accounts
    /// and their invoices.
    #[arg(long, value_parser = ["large", "aging"])]
    scale: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an administrator (password from PORTICO_ADMIN_PASSWORD).
    CreateAdmin {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, env = "PORTICO_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Subcommand)]
enum LicencesCommand {
    /// Raise `licence.expiring` for licences that entered their 30-day expiry window (once per
    /// licence and expiry date: safe to run daily from cron, or as often as you like).
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum QuotesCommand {
    /// Record `expired` (and raise `quote.expired`) for sent quotes past their last day. Pages and
    /// acceptance already treat them as expired; safe to run daily from cron, or more often.
    Expire {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum CreditCommand {
    /// Recompute every account's running exposure from its orders, invoices, payments and credit
    /// notes (after a bulk load or restore that bypassed the units that keep it); prints how many
    /// accounts changed.
    Rebuild {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (the only time it is shown), e.g. for CI or a first ERP sync.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The integration's name.
        #[arg(long)]
        name: String,
        /// A scope to grant (repeat it); `all` grants every scope.
        #[arg(long = "scope", required = true, value_parser = PossibleValuesParser::new(
            std::iter::once("all").chain(portico::domain::auth::Scope::ALL.map(|s| s.as_str()))
        ))]
        scopes: Vec<String>,
    },
}

fn config(database_url: &str, http: &HttpArgs) -> Result<Config, String> {
    let mut c = Config::for_database(database_url);
    c.webhooks = http.webhooks.worker_config()?;
    c.run_worker = !http.no_worker;
    c.bind = http.bind;
    c.public_url = http.public_url.clone().unwrap_or_else(|| format!("http://{}", http.bind));
    c.session_idle_secs = http.session_idle_minutes.max(1) * 60;
    c.session_absolute_secs = http.session_absolute_hours.max(1) * 3600;
    c.metrics_token = http.metrics_token.clone().filter(|t| !t.trim().is_empty());
    c.metrics_bind = http.metrics_bind;
    c.test_provider_secret = http.test_provider_secret.clone().filter(|t| !t.trim().is_empty());
    c.image_dir = http.image_dir.clone().filter(|d| !d.as_os_str().is_empty());
    c.webhooks.public_url = c.public_url.clone();
    Ok(c)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PORTICO_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("PORTICO_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if json { builder.json().init() } else { builder.init() }
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portico: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve(args) => {
            let cfg = config(&args.db.database_url, &args.http)?;
            let state = portico::open(cfg.clone()).await?;
            let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
            tracing::info!(url = %cfg.public_url, backend = state.db.backend(), "portico listening");
            portico::serve(state, listener).await?;
        }
        Command::Demo(args) => {
            let started = std::time::Instant::now();
            if let Some(path) = args.database_url.strip_prefix("sqlite://") {
                let path = path.split('?').next().unwrap_or(path);
                for file in portico::store::database_files(std::path::Path::new(path)) {
                    let _ = std::fs::remove_file(file);
                }
            }
            let mut cfg = config(&args.database_url, &args.http)?;
            // The demo's mailbox stands in for its users' mailboxes: it shows their links.
            cfg.webhooks.mail.mailbox_shows_links = cfg.webhooks.mail.smtp_url.is_none();
            // The demo takes online payments through the local test provider.
            if cfg.test_provider_secret.is_none() {
                cfg.test_provider_secret = Some(portico::service::auth::random_token(32));
            }
            let state = portico::open(cfg.clone()).await?;
            let logins = portico::demo::seed(&state.db, state.image_dir.as_ref(), state.now())
                .await
                .map_err(|e| format!("could not seed the demo (it needs an empty database): {e}"))?;
            if args.scale.as_deref() == Some("large") {
                eprintln!("seeding the large benchmark dataset…");
                portico::demo::scale::seed(
                    &state.db,
                    state.image_dir.as_ref(),
                    state.now(),
                    &portico::demo::scale::LARGE,
                )
                .await?;
            }
            if args.scale.is_some() {
                let size = &portico::demo::receivables_scale::AGING;
                portico::demo::receivables_scale::seed(&state.db, state.now(), size).await?;
            }
            if args.scale.as_deref() == Some("large") {
                let mut size = portico::demo::history_scale::LARGE;
                if let Ok(n) = std::env::var("PORTICO_DEMO_HISTORY_ORDERS") {
                    size.orders = n.parse().map_err(|_| "PORTICO_DEMO_HISTORY_ORDERS must be a number of orders")?;
                }
                eprintln!("seeding {} orders of history…", size.orders);
                let (customers, items) = portico::demo::history_scale::parties(&state.db).await?;
                portico::demo::history_scale::seed(&state.db, state.now(), &size, &customers, &items).await?;
            }
            println!(
                "\nPortico demo — Meridian Medical & Industrial Supply (ready in {:.1} s)",
                started.elapsed().as_secs_f64()
            );
            println!("  Open {}", cfg.public_url);
            println!("  Password for every login: {}", portico::demo::DEMO_PASSWORD);
            for l in &logins {
                println!("  {:<28} {}", l.role, l.email);
            }
            if args.scale.as_deref() == Some("large") {
                println!(
                    "  {:<28} {} … {}",
                    "Benchmark buyers",
                    portico::demo::scale::buyer_email(0),
                    portico::demo::scale::buyer_email(999)
                );
            }
            println!();
            if args.no_serve {
                state.db.close().await;
                return Ok(());
            }
            let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
            tokio::spawn(print_link_mails(state.clone()));
            portico::serve(state, listener).await?;
        }
        Command::Worker { db, webhooks, public_url } => {
            let mut cfg = Config::for_database(&db.database_url);
            cfg.webhooks = webhooks.worker_config()?;
            cfg.webhooks.public_url = public_url;
            let state = portico::open(cfg).await?;
            tracing::info!(backend = state.db.backend(), "portico worker running");
            portico::work(state).await;
        }
        Command::Import { db, kind, file } => {
            let kind = Kind::parse(&kind).ok_or("unknown kind")?;
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let principal = cli_principal();
            let actor = portico::service::Actor::cli(&principal);
            let mut bar = ProgressBar::new(std::fs::metadata(&file)?.len());
            let reader = std::io::BufReader::new(std::fs::File::open(&file)?);
            let result = imports::import_file(&state.db, state.now(), &actor, kind, reader, |p| bar.show(p)).await;
            let seconds = bar.started.elapsed().as_secs_f64();
            bar.finish();
            match result {
                Ok(summary) => println!("imported in {seconds:.1} s: {summary}"),
                Err(imports::ImportError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                    return Err(
                        format!("{} problem(s) in {}; nothing was imported", errors.len(), file.display()).into()
                    );
                }
                Err(imports::ImportError::Service(e)) => return Err(e.to_string().into()),
            }
        }
        Command::Export { db, kind, file } => {
            let kind = Kind::parse(&kind).ok_or("unknown kind")?;
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let principal = cli_principal();
            let actor = portico::service::Actor::cli(&principal);
            let out: Box<dyn std::io::Write> = match &file {
                Some(f) => Box::new(std::io::BufWriter::new(std::fs::File::create(f)?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let n = imports::export_file(&state.db, &actor, kind, out).await?;
            eprintln!("exported {n} rows of {}", kind.label().to_lowercase());
        }
        Command::Migrate(args) => {
            let db = Db::connect(&args.database_url).await?;
            db.migrate().await?;
            // On SQLite the logs are copied into the files (the database can then be copied).
            db.close().await;
            println!("migrations applied ({})", db.backend());
        }
        Command::User(UserCommand::CreateAdmin { db, email, name, password }) => {
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let id = portico::service::users::create_admin(&state.db, state.now(), &email, &name, &password)
                .await
                .map_err(|e| match e {
                    portico::service::ServiceError::Invalid(errs) => {
                        errs.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ")
                    }
                    other => other.to_string(),
                })?;
            println!("administrator {email} created (id {id})");
        }
        Command::Licences(LicencesCommand::Check { db }) => {
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let raised = portico::service::licences::raise_expiry_notices(&state.db, state.now())
                .await
                .map_err(|e| e.to_string())?;
            state.db.close().await;
            println!("{raised} licence expiry notice(s) raised");
        }
        Command::Quotes(QuotesCommand::Expire { db }) => {
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let expired =
                portico::service::quotes::expire_due(&state.db, state.now()).await.map_err(|e| e.to_string())?;
            state.db.close().await;
            println!("{expired} quote(s) expired");
        }
        Command::Credit(CreditCommand::Rebuild { db }) => {
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let principal = cli_principal();
            let actor = portico::service::Actor::cli(&principal);
            let changed = portico::service::accounts::rebuild_exposure(&state.db, state.now(), &actor)
                .await
                .map_err(|e| e.to_string())?;
            state.db.close().await;
            println!("credit exposure rebuilt from the records; {changed} account(s) changed");
        }
        Command::Token(TokenCommand::Create { db, name, scopes }) => {
            use portico::domain::auth::Scope;
            let scopes: Vec<Scope> = match scopes.iter().any(|s| s == "all") {
                true => Scope::ALL.to_vec(),
                false => scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
            };
            let state = portico::open(Config::for_database(&db.database_url)).await?;
            let principal = cli_principal();
            let actor = portico::service::Actor::cli(&principal);
            let (_, token) = portico::service::api_tokens::create(&state.db, state.now(), &actor, &name, &scopes)
                .await
                .map_err(|e| e.to_string())?;
            state.db.close().await;
            println!("{token}");
        }
    }
    Ok(())
}

/// The demo's console mailbox: set-password links are only ever mailed (nobody is shown someone
/// else's link); the demo prints each new one to its console as well as keeping it in "Sent mail".
/// It reads on from the last event it printed (event ids grow in the order the demo's one writer
/// commits them).
async fn print_link_mails(state: portico::AppState) {
    let mut after = String::new();
    loop {
        if let Ok(mails) = portico::service::auth::link_mails_after(&state.db, &after).await {
            for m in mails {
                println!("mail to {}: set your password at {}", m.email, state.absolute_url(&m.path));
                after = m.outbox_id;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
