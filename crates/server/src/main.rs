//! `vestibule`: serve the API, migrate, export the OpenAPI document, administer firms.
#![allow(clippy::print_stdout)] // a command-line tool answers on stdout

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rand::RngCore;
use vestibule_domain::roles::StaffRole;
use vestibule_server::config::Config;
use vestibule_server::maintenance;
use vestibule_server::provision::{self, NewFirm, NewStaffMember};
use vestibule_server::startup::{self, Application};
use vestibule_server::telemetry;

#[derive(Parser)]
#[command(name = "vestibule", version, about = "Client portal backend for law and accounting firms")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (migrates the database first).
    Serve {
        /// Create the demo firm with sample data if it does not exist yet.
        #[arg(long)]
        demo: bool,
    },
    /// Run only the outbox dispatcher (several may run against one PostgreSQL database).
    Dispatch,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document, or write it to a file.
    Openapi {
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Administration.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a firm and its owner.
    CreateFirm {
        /// What users type at sign-in, e.g. `harbor-law`.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        owner_name: String,
        /// The owner's password; generated and printed when absent.
        #[arg(long, env = "VESTIBULE_OWNER_PASSWORD", hide_env_values = true)]
        owner_password: Option<String>,
    },
    /// Create a staff member with a password of your choice (the API only invites staff,
    /// who choose their own).
    CreateStaff {
        /// The firm's slug.
        #[arg(long)]
        firm: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// `owner`, `admin` or `member`.
        #[arg(long, value_parser = parse_role)]
        role: StaffRole,
        /// May manage client portals.
        #[arg(long)]
        portal_permission: bool,
        /// The password; generated and printed when absent.
        #[arg(long, env = "VESTIBULE_STAFF_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Create the demo firm with sample data.
    SeedDemo,
    /// Recompute a firm's audit hash chain; exits non-zero when it is broken.
    VerifyAudit {
        #[arg(long)]
        firm: String,
    },
    /// Check a downloaded certificate of completion (PDF or JSON): finds the audit event that
    /// recorded its SHA-256, verifies the firm's chain through it and prints what it
    /// certifies; exits non-zero when it is unknown (altered) or the chain is broken.
    VerifyCertificate { file: PathBuf },
    /// Seal every stored secret (webhook signing secrets, authenticator secrets) with the
    /// current key of secrets at rest, as each start does. With `--new-key`, first put a new
    /// key in the data folder's key file (when `SECRETS_KEYS` is not set); the earlier keys
    /// stay in it so copies made before still open.
    RotateSecrets {
        #[arg(long)]
        new_key: bool,
    },
    /// Run the maintenance sweep once, as every `serve` does every 10 minutes: expired rows,
    /// and what uploads that died midway left (after `UPLOAD_ABANDONED_AFTER_SECS`).
    Sweep,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if let Command::Openapi { output } = &cli.command {
        return report(export_openapi(output.as_deref()));
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    report(run(cli.command, &config))
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, config: &Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => serve(config, demo),
        Command::Dispatch => dispatch(config),
        Command::Migrate => startup::connect(config).map(|_| println!("database is up to date")),
        Command::Openapi { .. } => Ok(()),
        Command::Admin(AdminCommand::RotateSecrets { new_key }) => rotate_secrets(config, new_key),
        Command::Admin(AdminCommand::Sweep) => sweep(config),
        Command::Admin(admin) => {
            let pool = startup::connect(config)?;
            let mut conn = pool.get()?;
            match admin {
                AdminCommand::CreateFirm { slug, name, owner_email, owner_name, owner_password } => {
                    let generated = owner_password.is_none();
                    let owner_password = owner_password.unwrap_or_else(generate_password);
                    let new = NewFirm { slug, name, owner_email, owner_name, owner_password: owner_password.clone() };
                    let firm = provision::create_firm(&mut conn, &new)?;
                    println!("Created firm `{}` ({}) with owner {}.", firm.slug, firm.firm_id, firm.owner_email);
                    if generated {
                        println!("Owner password (shown once): {owner_password}");
                    }
                    print_login_hint(
                        config,
                        &firm.slug,
                        &firm.owner_email,
                        if generated { "<the password above>" } else { "<the password you chose>" },
                    );
                    Ok(())
                }
                AdminCommand::CreateStaff { firm, email, name, role, portal_permission, password } => {
                    let generated = password.is_none();
                    let password = password.unwrap_or_else(generate_password);
                    let new = NewStaffMember {
                        firm_slug: firm,
                        email,
                        name,
                        role,
                        portal_permission,
                        password: password.clone(),
                    };
                    let id = provision::create_staff(&mut conn, &new)?;
                    println!("Created {} {} ({id}) in `{}`.", role.as_str(), new.email, new.firm_slug);
                    if generated {
                        println!("Password (shown once): {password}");
                    }
                    Ok(())
                }
                AdminCommand::SeedDemo => {
                    if provision::seed_demo(&mut conn)? {
                        println!("Created the demo firm.");
                    } else {
                        println!("The demo firm already exists.");
                    }
                    print_login_hint(
                        config,
                        provision::DEMO_SLUG,
                        provision::DEMO_OWNER_EMAIL,
                        provision::DEMO_OWNER_PASSWORD,
                    );
                    Ok(())
                }
                AdminCommand::VerifyCertificate { file } => verify_certificate(&mut conn, &file),
                AdminCommand::RotateSecrets { .. } | AdminCommand::Sweep => Ok(()),
                AdminCommand::VerifyAudit { firm } => {
                    let firm =
                        vestibule_storage::firms::find_by_slug(&mut conn, &firm)?.context("no firm with this slug")?;
                    let result = vestibule_storage::audit::verify(&mut conn, &firm.id)?;
                    match result.first_break {
                        None => {
                            println!("audit chain intact: {} events", result.events_checked);
                            Ok(())
                        }
                        Some(broken) => anyhow::bail!(
                            "audit chain broken at seq {} ({}): {}",
                            broken.seq,
                            broken.event_id.unwrap_or_else(|| "-".to_owned()),
                            broken.reason
                        ),
                    }
                }
            }
        }
    }
}

fn verify_certificate(conn: &mut vestibule_storage::DbConnection, file: &std::path::Path) -> anyhow::Result<()> {
    use vestibule_app::certificates::{self, Verification};
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    match certificates::verify(conn, &bytes)? {
        Verification::Unknown { sha256 } => {
            anyhow::bail!(
                "no certificate with SHA-256 {sha256} was issued here: the file is not one, or it was altered"
            )
        }
        Verification::Broken { sha256, seq, reason } => {
            anyhow::bail!("the audit chain that recorded {sha256} is broken at seq {seq}: {reason}")
        }
        Verification::Certified(found) => {
            let field = |name: &str| found.details[name].as_str().unwrap_or("-").to_owned();
            println!("certificate verified ({}, SHA-256 {})", found.form, found.sha256);
            println!(
                "recorded by audit event {} (seq {}) of firm {} at {}; chain intact through it ({} events)",
                found.event.id,
                found.event.seq,
                found.event.firm_id,
                found.event.occurred_at.and_utc().to_rfc3339(),
                found.events_checked
            );
            println!("signature request {}: {}", field("request_id"), field("status"));
            println!(
                "document {} ({}), SHA-256 {}",
                field("document_name"),
                field("document_id"),
                field("document_sha256")
            );
            println!("signer {}", field("signer_email"));
            Ok(())
        }
    }
}

fn rotate_secrets(config: &Config, new_key: bool) -> anyhow::Result<()> {
    if new_key {
        let kid = vestibule_server::keys::add_secret_key(&config.secret_keys)?;
        println!("added key `{kid}`: it seals secrets from now on; restart running servers to use it");
    }
    // Every start seals what is not sealed with the current key yet.
    startup::connect(config)?;
    println!("every stored secret is sealed with key `{}`", startup::secret_keys(config)?.current_id());
    Ok(())
}

fn sweep(config: &Config) -> anyhow::Result<()> {
    let pool = startup::connect(config)?;
    let blobs = vestibule_blobs::BlobStore::new(&startup::blob_settings(config))?;
    let swept = maintenance::sweep(&pool)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let uploads =
        runtime.block_on(maintenance::sweep_abandoned_uploads(&pool, &blobs, config.upload_abandoned_after))?;
    println!(
        "abandoned uploads: {} recorded, {} partial; expired: {} idempotency keys, {} sessions, {} deliveries, \
         {} live events, {} link sessions, {} sign-in challenges",
        uploads.recorded,
        uploads.partial,
        swept.idempotency_keys,
        swept.sessions,
        swept.deliveries,
        swept.live_events,
        swept.link_sessions,
        swept.login_challenges
    );
    Ok(())
}

fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    let pool = startup::connect(config)?;
    if demo && provision::seed_demo(&mut *pool.get()?)? {
        tracing::info!("created the demo firm");
    }
    actix_web::rt::System::new().block_on(async {
        let blobs = vestibule_blobs::BlobStore::new(&startup::blob_settings(config))?;
        actix_web::rt::spawn(maintenance::run_forever(pool.clone(), blobs, config.upload_abandoned_after));
        let (settings, links) = startup::reminder_settings(config)?;
        actix_web::rt::spawn(maintenance::remind_forever(pool.clone(), settings, links, config.reminder_interval));
        let key = startup::checkpoint_key(config)?;
        actix_web::rt::spawn(maintenance::checkpoint_forever(pool.clone(), key, config.audit_checkpoint_interval));
        startup::spawn_scanner(config, pool.clone())?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let dispatcher = if config.dispatch.in_server {
            Some(startup::spawn_dispatcher(config, pool.clone(), stopped)?)
        } else {
            None
        };
        let app = Application::build(config, pool)?;
        tracing::info!(address = %config.bind_address, port = app.port(), "serving the API");
        if demo {
            print_login_hint(config, provision::DEMO_SLUG, provision::DEMO_OWNER_EMAIL, provision::DEMO_OWNER_PASSWORD);
        }
        // The server returns once a shutdown signal has drained its requests; the dispatcher
        // then finishes the batch it is sending.
        let served = app.run_until_stopped().await.context("server stopped with an error");
        let _ = stop.send(true);
        if let Some(dispatcher) = dispatcher {
            let _ = dispatcher.await;
        }
        served
    })
}

fn dispatch(config: &Config) -> anyhow::Result<()> {
    let pool = startup::connect(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let dispatcher = startup::spawn_dispatcher(config, pool, stopped)?;
        shutdown_signal().await;
        tracing::info!("stopping the dispatcher after its current batch");
        let _ = stop.send(true);
        dispatcher.await.context("dispatcher task failed")
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn print_login_hint(config: &Config, firm: &str, email: &str, password: &str) {
    let mut address = config.bind_address;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let base = format!("http://{address}");
    println!(
        "\nAPI docs: {base}/docs/\nSign in:\n  curl -s {base}/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"firm\":\"{firm}\",\"email\":\"{email}\",\"password\":\"{password}\"}}'\n"
    );
}

fn parse_role(raw: &str) -> Result<StaffRole, String> {
    StaffRole::from_stored(raw).ok_or_else(|| format!("`{raw}` is not a role: owner, admin or member"))
}

fn generate_password() -> String {
    use base64::Engine;
    let mut bytes = [0_u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn export_openapi(output: Option<&std::path::Path>) -> anyhow::Result<()> {
    let json = vestibule_server::openapi_json()?;
    match output {
        Some(path) => std::fs::write(path, json).with_context(|| format!("writing {}", path.display())),
        None => {
            print!("{json}");
            Ok(())
        }
    }
}
