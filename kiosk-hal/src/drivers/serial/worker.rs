//! The I/O thread every serial driver runs: owns the port, reopens it with
//! backoff, and drives the driver's protocol state under a mutex.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::SerialPort;

use crate::drivers::{Backoff, Parity, ReconnectConfig, SerialLine};

/// Milliseconds since a driver started: the clock its state machine runs on.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(Instant);

impl Epoch {
    /// A clock starting now.
    pub fn new() -> Epoch {
        Epoch(Instant::now())
    }

    /// Milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl Default for Epoch {
    fn default() -> Self {
        Epoch::new()
    }
}

/// A driver's protocol side, as the I/O thread sees it. Called with the
/// protocol's mutex held; none of these may block.
pub trait PortProtocol: Send + 'static {
    /// The port was opened.
    fn opened(&mut self, now_ms: u64);
    /// The port could not be opened, or vanished; `why` says how.
    fn closed(&mut self, now_ms: u64, why: &str);
    /// Bytes read from the port.
    fn received(&mut self, now_ms: u64, bytes: &[u8]);
    /// Bytes to write now, if any; called until `None`.
    fn transmit(&mut self, now_ms: u64) -> Option<Vec<u8>>;
    /// Deliver outputs (events, completions) to the async side.
    fn deliver(&mut self);
}

/// A protocol shared between the I/O thread and the async driver.
pub struct Shared<P> {
    inner: Arc<Mutex<P>>,
}

impl<P> Clone for Shared<P> {
    fn clone(&self) -> Self {
        Shared {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P> Shared<P> {
    /// Shares `protocol`.
    pub fn new(protocol: P) -> Shared<P> {
        Shared {
            inner: Arc::new(Mutex::new(protocol)),
        }
    }

    /// Locks the protocol (a panic elsewhere does not poison it for good).
    pub fn lock(&self) -> MutexGuard<'_, P> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Stops the I/O thread when dropped.
#[derive(Debug)]
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Not joined: the thread ends within one tick and must not block
        // an async caller that drops the driver.
        drop(self.thread.take());
    }
}

/// How the I/O thread runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The port and its line settings.
    pub line: SerialLine,
    /// Reopening backoff.
    pub reconnect: ReconnectConfig,
    /// Read timeout: how long the thread may sleep before it looks for
    /// something to write.
    pub tick_ms: u64,
    /// A name for the thread (shows in debuggers and panics).
    pub name: String,
}

/// Starts the I/O thread for `protocol`.
pub fn spawn<P: PortProtocol>(
    config: WorkerConfig,
    protocol: Shared<P>,
    epoch: Epoch,
) -> std::io::Result<Worker> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name(config.name.clone())
        .spawn(move || run(config, protocol, epoch, flag))?;
    Ok(Worker {
        stop,
        thread: Some(thread),
    })
}

/// How often an open port's path is checked for existence.
const PATH_CHECK_MS: u64 = 500;

fn run<P: PortProtocol>(
    config: WorkerConfig,
    protocol: Shared<P>,
    epoch: Epoch,
    stop: Arc<AtomicBool>,
) {
    let tick = Duration::from_millis(config.tick_ms.max(1));
    let mut backoff = Backoff::new(config.reconnect);
    let mut port: Option<Box<dyn SerialPort>> = None;
    let mut down_reported = false;
    let mut next_path_check = 0;
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let now = epoch.now_ms();
        let Some(p) = port.as_mut() else {
            if !backoff.due(now) {
                let wait = backoff.next_at_ms().saturating_sub(now);
                std::thread::sleep(Duration::from_millis(wait).min(tick * 4));
                continue;
            }
            match open(&config.line, tick) {
                Ok(p) => {
                    port = Some(p);
                    backoff.succeeded();
                    down_reported = false;
                    protocol.lock().opened(epoch.now_ms());
                }
                Err(e) => {
                    backoff.failed(now);
                    if !down_reported {
                        down_reported = true;
                        let mut proto = protocol.lock();
                        proto.closed(now, &e);
                        proto.deliver();
                    }
                }
            }
            continue;
        };
        let lost = match step(p.as_mut(), &protocol, &epoch, &mut buf) {
            Ok(()) if now >= next_path_check => {
                next_path_check = now + PATH_CHECK_MS;
                (!config.line.path.exists()).then(|| "the port's path is gone".to_string())
            }
            Ok(()) => None,
            Err(e) => Some(e),
        };
        if let Some(why) = lost {
            port = None;
            backoff.failed(epoch.now_ms());
            down_reported = true;
            let mut proto = protocol.lock();
            proto.closed(epoch.now_ms(), &why);
            proto.deliver();
        }
    }
}

/// Writes what is due, then reads for at most one tick.
fn step<P: PortProtocol>(
    port: &mut dyn SerialPort,
    protocol: &Shared<P>,
    epoch: &Epoch,
    buf: &mut [u8],
) -> Result<(), String> {
    loop {
        let out = {
            let mut proto = protocol.lock();
            let out = proto.transmit(epoch.now_ms());
            proto.deliver();
            out
        };
        let Some(bytes) = out else { break };
        write_all(port, &bytes)?;
    }
    match port.read(buf) {
        Ok(0) => Err("the port was closed".into()),
        Ok(n) => {
            let mut proto = protocol.lock();
            proto.received(epoch.now_ms(), &buf[..n]);
            proto.deliver();
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(format!("read failed: {e}")),
    }
}

/// Longest a write may wait for room in the port's buffer.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// Writes every byte, waiting out short timeouts while the port's buffer
/// drains (a long receipt at 9600 baud). No `flush`: `tcdrain` could block
/// for ever on a line nobody reads.
fn write_all(port: &mut dyn SerialPort, mut bytes: &[u8]) -> Result<(), String> {
    use std::io::ErrorKind as Io;
    let deadline = Instant::now() + WRITE_DEADLINE;
    while !bytes.is_empty() {
        match port.write(bytes) {
            Ok(0) => return Err("write accepted no bytes".into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e)
                if matches!(e.kind(), Io::TimedOut | Io::WouldBlock | Io::Interrupted)
                    && Instant::now() < deadline => {}
            Err(e) => return Err(format!("write failed: {e}")),
        }
    }
    Ok(())
}

fn open(line: &SerialLine, tick: Duration) -> Result<Box<dyn SerialPort>, String> {
    line.validate()?;
    let path: &PathBuf = &line.path;
    let data_bits = match line.data_bits {
        5 => serialport::DataBits::Five,
        6 => serialport::DataBits::Six,
        7 => serialport::DataBits::Seven,
        _ => serialport::DataBits::Eight,
    };
    let parity = match line.parity {
        Parity::None => serialport::Parity::None,
        Parity::Even => serialport::Parity::Even,
        Parity::Odd => serialport::Parity::Odd,
    };
    let stop_bits = if line.stop_bits == 2 {
        serialport::StopBits::Two
    } else {
        serialport::StopBits::One
    };
    serialport::new(path.to_string_lossy(), line.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(serialport::FlowControl::None)
        .timeout(tick)
        .open()
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}
