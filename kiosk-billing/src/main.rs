//! `kiosk-billing`: the reference billing server's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiosk_billing::{BillingServer, FaultPlan, ServeConfig, TlsFiles};

/// A reference billing server (BOSS) for kiosks, over HTTPS.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the wire contract until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long)]
    listen: SocketAddr,
    /// Accounts file (TOML, or JSON if it ends in .json).
    #[arg(long)]
    accounts: PathBuf,
    /// SQLite database of balances and postings (created if missing).
    #[arg(long)]
    db: PathBuf,
    /// Server certificate chain (PEM). Without --cert/--key: plain HTTP, loopback only.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// CA of the kiosks' client certificates (PEM): require mutual TLS.
    #[arg(long, requires = "cert")]
    client_ca: Option<PathBuf>,
    /// Path the endpoints hang under.
    #[arg(long, default_value = "/")]
    base_path: String,
    /// Fault: hold back each answer this long (a posting is applied first).
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Fault: answer the next N requests with 503, changing nothing.
    #[arg(long, default_value_t = 0)]
    fail_5xx: u32,
    /// Fault: apply the next N new postings, then close without answering.
    #[arg(long, default_value_t = 0)]
    drop_answers: u32,
    /// Fault: answer the next N requests with a body that is not JSON.
    #[arg(long, default_value_t = 0)]
    garbage: u32,
    /// Fault: refuse the next N new postings (422, stored under the key).
    #[arg(long, default_value_t = 0)]
    refuse: u32,
}

impl ServeArgs {
    fn config(self) -> ServeConfig {
        let tls = match (self.cert, self.key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: self.client_ca,
            }),
            _ => None,
        };
        ServeConfig {
            listen: self.listen,
            accounts: self.accounts,
            db: self.db,
            tls,
            base_path: self.base_path,
            faults: FaultPlan {
                delay_ms: self.delay_ms,
                fail_5xx: self.fail_5xx,
                drop_answers: self.drop_answers,
                garbage: self.garbage,
                refuse: self.refuse,
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kiosk-billing: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Command::Serve(args) = cli.command;
    runtime.block_on(async move {
        let server = match BillingServer::start(&args.config()).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("kiosk-billing: {e}");
                return ExitCode::FAILURE;
            }
        };
        // The one line on stdout: where to point a kiosk's link.base_url.
        println!("listening on {}", server.base_url());
        wait_for_signal().await;
        tracing::info!("stopping");
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!(error = %e, "no SIGTERM handler; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
