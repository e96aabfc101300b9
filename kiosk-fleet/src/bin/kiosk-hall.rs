//! `kiosk-hall`: the hall's guidance service and operator dashboard, and
//! the operations desk's tools for signed remote commands.
//!
//! ```text
//! kiosk-hall serve   --broker 127.0.0.1:1883 --hall H1 --listen 127.0.0.1:8480
//! kiosk-hall keygen  --out desk.key            # prints the public key for kioskd's [[fleet.senders]]
//! kiosk-hall command --broker … --hall H1 --kiosk K01 --sender desk --key desk.key '{"type":"self-test"}'
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kiosk_fleet::broker::BrokerConfig;
use kiosk_fleet::service::{self, HallState};
use kiosk_fleet::signing::{self, CommandAnswer, CommandBody, Outcome, SignedCommand};
use kiosk_fleet::topics::{Channel, HallTopics};
use rumqttc::{AsyncClient, Event, Packet, QoS};

#[derive(Parser)]
#[command(
    name = "kiosk-hall",
    about = "The hall's kiosk guidance service, dashboard and remote commands"
)]
struct Cli {
    #[command(subcommand)]
    command: Action,
}

#[derive(Args, Clone)]
struct Broker {
    /// The broker, host:port.
    #[arg(long, default_value = "127.0.0.1:1883")]
    broker: String,
    /// The hall's id (a topic level).
    #[arg(long)]
    hall: String,
    /// Broker login.
    #[arg(long)]
    username: Option<String>,
    /// A file holding the broker password (first line).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// TLS: the CA certificate (PEM) that signed the broker's.
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

impl Broker {
    fn config(&self) -> BrokerConfig {
        BrokerConfig {
            username: self.username.clone(),
            password_file: self.password_file.clone(),
            ca_file: self.ca_file.clone(),
            ..BrokerConfig::plain(&self.broker)
        }
    }
}

#[derive(Subcommand)]
enum Action {
    /// Follow the hall and serve guidance and the dashboard.
    Serve {
        #[command(flatten)]
        broker: Broker,
        /// Where the HTTP service listens.
        #[arg(long, default_value = "127.0.0.1:8480")]
        listen: SocketAddr,
    },
    /// Make a sender's Ed25519 key pair: the secret into `--out` (mode
    /// 0600), the public key on stdout.
    Keygen {
        /// The secret key's file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a command, send it to a kiosk and print its answer.
    Command {
        #[command(flatten)]
        broker: Broker,
        /// The kiosk.
        #[arg(long)]
        kiosk: String,
        /// The sender's name, as configured on the kiosk.
        #[arg(long)]
        sender: String,
        /// The sender's secret key file.
        #[arg(long)]
        key: PathBuf,
        /// How long to wait for the answer.
        #[arg(long, default_value_t = 20)]
        wait_s: u64,
        /// The command as JSON, as the operator API takes it.
        command: String,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiosk-hall: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("kiosk-hall: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn run(command: Action) -> Result<u8, String> {
    match command {
        Action::Serve { broker, listen } => serve(broker, listen).await,
        Action::Keygen { out } => keygen(&out),
        Action::Command {
            broker,
            kiosk,
            sender,
            key,
            wait_s,
            command,
        } => {
            send(
                broker,
                &kiosk,
                &sender,
                &key,
                Duration::from_secs(wait_s),
                &command,
            )
            .await
        }
    }
}

async fn serve(broker: Broker, listen: SocketAddr) -> Result<u8, String> {
    let topics = HallTopics::new(&broker.hall).map_err(|e| e.to_string())?;
    let state = HallState::new(topics);
    let client_id = format!("kiosk-hall-{}-{}", broker.hall, std::process::id());
    let follower = tokio::spawn(service::follow(broker.config(), client_id, state.clone()));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // One line on stdout for supervisors and tests; logs go to stderr.
    println!("kiosk-hall listening http://{addr}");
    let app = service::router(state);
    tokio::select! {
        served = axum::serve(listener, app) => served.map_err(|e| e.to_string())?,
        followed = follower => match followed {
            Ok(Err(e)) => return Err(e),
            Ok(Ok(())) => {}
            Err(e) => return Err(e.to_string()),
        },
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(0)
}

fn keygen(out: &std::path::Path) -> Result<u8, String> {
    let key = signing::generate_key().map_err(|e| e.to_string())?;
    let secret = signing::hex(&key.to_bytes());
    write_secret(out, &secret).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{}", signing::hex(key.verifying_key().as_bytes()));
    Ok(0)
}

#[cfg(unix)]
fn write_secret(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(f, "{secret}")
}

#[cfg(not(unix))]
fn write_secret(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{secret}\n"))
}

async fn send(
    broker: Broker,
    kiosk: &str,
    sender: &str,
    key_file: &std::path::Path,
    wait: Duration,
    command: &str,
) -> Result<u8, String> {
    let topics = HallTopics::new(&broker.hall).map_err(|e| e.to_string())?;
    kiosk_fleet::topics::check_id(kiosk).map_err(|e| e.to_string())?;
    let key_text =
        std::fs::read_to_string(key_file).map_err(|e| format!("{}: {e}", key_file.display()))?;
    let key = signing::parse_signing_key(&key_text)?;
    let command = serde_json::from_str(command).map_err(|e| format!("the command: {e}"))?;
    let nonce = signing::new_nonce().map_err(|e| e.to_string())?;
    let body = CommandBody {
        sender: sender.into(),
        kiosk_id: kiosk.into(),
        at_ms: service::wall_ms(),
        nonce: nonce.clone(),
        command,
    };
    let signed = SignedCommand::sign(&key, &body);
    let client_id = format!("kiosk-hall-cmd-{}", &nonce[..8]);
    let opts = broker.config().options(&client_id, None)?;
    let (client, mut events) = AsyncClient::new(opts, 8);
    let answer = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    client
                        .subscribe(
                            topics.topic(kiosk, Channel::CommandResult),
                            QoS::AtLeastOnce,
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    client
                        .publish(
                            topics.topic(kiosk, Channel::Command),
                            QoS::AtLeastOnce,
                            false,
                            signed.to_payload(),
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Ok(a) = serde_json::from_slice::<CommandAnswer>(&p.payload) {
                        if a.nonce.as_deref() == Some(nonce.as_str()) {
                            return Ok::<CommandAnswer, String>(a);
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(format!("broker: {e}")),
            }
        }
    };
    let answer = tokio::time::timeout(wait, answer)
        .await
        .map_err(|_| format!("no answer from {kiosk} within {} s", wait.as_secs()))??;
    println!(
        "{}",
        serde_json::to_string_pretty(&answer).unwrap_or_default()
    );
    Ok(match answer.outcome {
        Outcome::Done | Outcome::Queued => 0,
        Outcome::Failed => 2,
        Outcome::Refused => 3,
    })
}
