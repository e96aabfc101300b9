//! The I/O thread every serial driver runs: owns the port, reopens it with
//! backoff, and drives the driver's protocol state under a mutex.
//!
//! # Event-driven
//!
//! The thread sleeps in one `epoll` wait (`mio`) until the first of:
//! bytes on the port, a hang-up of the port, a request queued by the
//! async side (every [`Shared::lock`] wakes it when the guard drops), the
//! protocol's next deadline ([`PortProtocol::next_deadline_ms`]: a poll
//! due, an answer overdue), or the slow check that the port's path still
//! exists. A queued command goes out at once instead of after a read
//! timeout, and an idle port costs only its protocol's own polls.
//!
//! # A vanished port
//!
//! Unplugging a USB-serial adapter hangs its tty up (and closing a pty's
//! master hangs up the slave): the wait returns at once with the hang-up,
//! so a vanished port is seen without any timer. The path check is the
//! backstop for a path that goes while its device stays open (a udev
//! symlink removed): made on every wake-up at most every
//! `PATH_CHECK_MS`, and waking an otherwise idle thread only every
//! `PATH_CHECK_IDLE_MS` (a printer or scanner between customers has no
//! other reason to wake at all).

use std::io::{Read, Write};
use std::ops::{Deref, DerefMut};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use serialport::{SerialPort, TTYPort};

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
    /// When [`transmit`](PortProtocol::transmit) will next have something to
    /// send without being asked (a poll due, an answer overdue), on the
    /// clock `now_ms` runs on. `None`: only when asked or answered. The I/O
    /// thread sleeps until then unless bytes or a request come first.
    fn next_deadline_ms(&self) -> Option<u64> {
        None
    }
}

/// A protocol shared between the I/O thread and the async driver.
pub struct Shared<P> {
    inner: Arc<Mutex<P>>,
    waker: Arc<OnceLock<Waker>>,
}

impl<P> Clone for Shared<P> {
    fn clone(&self) -> Self {
        Shared {
            inner: Arc::clone(&self.inner),
            waker: Arc::clone(&self.waker),
        }
    }
}

impl<P> Shared<P> {
    /// Shares `protocol`.
    pub fn new(protocol: P) -> Shared<P> {
        Shared {
            inner: Arc::new(Mutex::new(protocol)),
            waker: Arc::new(OnceLock::new()),
        }
    }

    /// Locks the protocol (a panic elsewhere does not poison it for good).
    /// When the guard drops, the I/O thread wakes to send whatever the
    /// caller queued.
    pub fn lock(&self) -> Locked<'_, P> {
        Locked {
            guard: Some(self.lock_quiet()),
            waker: &self.waker,
        }
    }

    /// Locks without waking the I/O thread (the thread's own access).
    fn lock_quiet(&self) -> MutexGuard<'_, P> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn wake(waker: &OnceLock<Waker>) {
    if let Some(waker) = waker.get() {
        // Fails only if the thread's poll is gone: nothing left to wake.
        let _ = waker.wake();
    }
}

/// The protocol, locked by the async side: wakes the I/O thread when it
/// drops (after unlocking).
pub struct Locked<'a, P> {
    guard: Option<MutexGuard<'a, P>>,
    waker: &'a OnceLock<Waker>,
}

impl<P> Deref for Locked<'_, P> {
    type Target = P;
    fn deref(&self) -> &P {
        self.guard.as_ref().expect("held until drop")
    }
}

impl<P> DerefMut for Locked<'_, P> {
    fn deref_mut(&mut self) -> &mut P {
        self.guard.as_mut().expect("held until drop")
    }
}

impl<P> Drop for Locked<'_, P> {
    fn drop(&mut self) {
        drop(self.guard.take());
        wake(self.waker);
    }
}

/// Stops the I/O thread when dropped.
#[derive(Debug)]
pub struct Worker {
    stop: Arc<AtomicBool>,
    waker: Arc<OnceLock<Waker>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        wake(&self.waker);
        // Not joined: the thread sees the flag as soon as it wakes and must
        // not block an async caller that drops the driver.
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
    /// The write timeout, and the longest the thread sleeps while the port
    /// cannot be opened. (Reads no longer wait on a tick: the thread wakes
    /// on bytes, requests and the protocol's deadlines.)
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
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKE)?;
    if protocol.waker.set(waker).is_err() {
        return Err(std::io::Error::other(
            "this protocol already has an I/O thread",
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let waker = Arc::clone(&protocol.waker);
    let thread = std::thread::Builder::new()
        .name(config.name.clone())
        .spawn(move || run(config, protocol, epoch, poll, flag))?;
    Ok(Worker {
        stop,
        waker,
        thread: Some(thread),
    })
}

/// The port's readiness.
const PORT: Token = Token(0);
/// A request queued by the async side, or the worker stopping.
const WAKE: Token = Token(1);

/// How often an open port's path is checked for existence while the
/// thread is awake anyway (a protocol's polls, a request, bytes).
const PATH_CHECK_MS: u64 = 500;

/// The longest an open port goes without a path check: how often an
/// otherwise idle thread wakes for it (see the module docs).
const PATH_CHECK_IDLE_MS: u64 = 5_000;

fn run<P: PortProtocol>(
    config: WorkerConfig,
    protocol: Shared<P>,
    epoch: Epoch,
    mut poll: Poll,
    stop: Arc<AtomicBool>,
) {
    let tick = Duration::from_millis(config.tick_ms.max(1));
    let mut backoff = Backoff::new(config.reconnect);
    let mut port: Option<TTYPort> = None;
    let mut down_reported = false;
    // When the path was last checked (`None`: not since the port opened).
    let mut path_checked: Option<u64> = None;
    let mut events = Events::with_capacity(4);
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let now = epoch.now_ms();
        let Some(p) = port.as_mut() else {
            if !backoff.due(now) {
                let wait = backoff.next_at_ms().saturating_sub(now);
                sleep(
                    &mut poll,
                    &mut events,
                    Duration::from_millis(wait).min(tick * 4),
                );
                continue;
            }
            match open(&config.line, tick) {
                Ok(p) => {
                    let fd = p.as_raw_fd();
                    if let Err(e) =
                        poll.registry()
                            .register(&mut SourceFd(&fd), PORT, Interest::READABLE)
                    {
                        backoff.failed(now);
                        let mut proto = protocol.lock_quiet();
                        proto.closed(now, &format!("cannot watch the port: {e}"));
                        proto.deliver();
                        continue;
                    }
                    port = Some(p);
                    backoff.succeeded();
                    down_reported = false;
                    protocol.lock_quiet().opened(epoch.now_ms());
                }
                Err(e) => {
                    backoff.failed(now);
                    if !down_reported {
                        down_reported = true;
                        let mut proto = protocol.lock_quiet();
                        proto.closed(now, &e);
                        proto.deliver();
                    }
                }
            }
            continue;
        };
        let mut lost = step(p, &protocol, &epoch, &mut buf).err();
        if lost.is_none() && path_checked.is_none_or(|at| now >= at + PATH_CHECK_MS) {
            path_checked = Some(now);
            if !config.line.path.exists() {
                lost = Some("the port's path is gone".to_string());
            }
        }
        if lost.is_none() {
            // Sleep until bytes, a hang-up, a request, the protocol's
            // deadline or the idle path check, whichever comes first.
            let now = epoch.now_ms();
            let idle_check = path_checked.map_or(now, |at| at + PATH_CHECK_IDLE_MS);
            let until = protocol
                .lock_quiet()
                .next_deadline_ms()
                .map_or(idle_check, |d| d.min(idle_check));
            // At least a millisecond: a deadline the protocol let pass
            // without sending must not spin the thread.
            let wait = Duration::from_millis(until.saturating_sub(now).max(1));
            if let Err(e) = poll.poll(&mut events, Some(wait)) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    lost = Some(format!("waiting on the port failed: {e}"));
                }
            } else if events
                .iter()
                .any(|e| e.token() == PORT && (e.is_read_closed() || e.is_error()))
            {
                lost = hung_up(p, &protocol, &epoch, &mut buf);
            }
        }
        if let Some(why) = lost {
            if let Some(p) = port.take() {
                let fd = p.as_raw_fd();
                let _ = poll.registry().deregister(&mut SourceFd(&fd));
            }
            path_checked = None;
            backoff.failed(epoch.now_ms());
            down_reported = true;
            let mut proto = protocol.lock_quiet();
            proto.closed(epoch.now_ms(), &why);
            proto.deliver();
        }
    }
}

/// Waits up to `wait`, waking early for a request or the worker stopping.
fn sleep(poll: &mut Poll, events: &mut Events, wait: Duration) {
    // An error here (EINTR) only shortens the sleep.
    let _ = poll.poll(events, Some(wait));
}

/// Writes what is due and reads every byte waiting, until a read brings
/// nothing: what was read may make something due at once (a resend after a
/// corrupted answer), and the wait is edge-triggered (a byte left behind
/// would not wake the thread again).
fn step<P: PortProtocol>(
    port: &mut TTYPort,
    protocol: &Shared<P>,
    epoch: &Epoch,
    buf: &mut [u8],
) -> Result<(), String> {
    loop {
        loop {
            let out = {
                let mut proto = protocol.lock_quiet();
                let out = proto.transmit(epoch.now_ms());
                proto.deliver();
                out
            };
            let Some(bytes) = out else { break };
            write_all(port, &bytes)?;
        }
        let waiting = port
            .bytes_to_read()
            .map_err(|e| format!("cannot ask the port for bytes: {e}"))?;
        if waiting == 0 {
            return Ok(());
        }
        let want = usize::try_from(waiting).unwrap_or(buf.len()).min(buf.len());
        match port.read(&mut buf[..want]) {
            Ok(0) => return Err("the port was closed".into()),
            Ok(n) => {
                let mut proto = protocol.lock_quiet();
                proto.received(epoch.now_ms(), &buf[..n]);
                proto.deliver();
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
}

/// The port reported a hang-up or an error: read what it still holds and
/// say why it is lost, or `None` if it reads on (a spurious report).
fn hung_up<P: PortProtocol>(
    port: &mut TTYPort,
    protocol: &Shared<P>,
    epoch: &Epoch,
    buf: &mut [u8],
) -> Option<String> {
    match port.read(buf) {
        Ok(0) => Some("the port was closed".into()),
        Ok(n) => {
            let mut proto = protocol.lock_quiet();
            proto.received(epoch.now_ms(), &buf[..n]);
            proto.deliver();
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Some("the port hung up".into()),
        Err(e) => Some(format!("read failed: {e}")),
    }
}

/// Longest a write may wait for room in the port's buffer.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// Writes every byte, waiting out short timeouts while the port's buffer
/// drains (a long receipt at 9600 baud). No `flush`: `tcdrain` could block
/// for ever on a line nobody reads.
fn write_all(port: &mut TTYPort, mut bytes: &[u8]) -> Result<(), String> {
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

fn open(line: &SerialLine, tick: Duration) -> Result<TTYPort, String> {
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
        .open_native()
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    /// A protocol that never wants to send: counts how often the thread
    /// stepped it, and whether the port is open.
    #[derive(Default)]
    struct Idle {
        steps: Arc<AtomicU64>,
        open: Arc<AtomicBool>,
    }

    impl PortProtocol for Idle {
        fn opened(&mut self, _now_ms: u64) {
            self.open.store(true, Ordering::SeqCst);
        }
        fn closed(&mut self, _now_ms: u64, _why: &str) {
            self.open.store(false, Ordering::SeqCst);
        }
        fn received(&mut self, _now_ms: u64, _bytes: &[u8]) {}
        fn transmit(&mut self, _now_ms: u64) -> Option<Vec<u8>> {
            self.steps.fetch_add(1, Ordering::SeqCst);
            None
        }
        fn deliver(&mut self) {}
    }

    /// A worker on the slave of a fresh pty; returns the master (dropping
    /// it hangs the slave up), the worker, and the protocol's counters.
    fn idle_worker() -> (TTYPort, Worker, Arc<AtomicU64>, Arc<AtomicBool>) {
        let (master, slave) = TTYPort::pair().expect("a pty");
        let path = slave.name().expect("the slave's name");
        let idle = Idle::default();
        let (steps, open) = (Arc::clone(&idle.steps), Arc::clone(&idle.open));
        let config = WorkerConfig {
            line: SerialLine {
                path: path.into(),
                baud: 9600,
                data_bits: 8,
                parity: Parity::None,
                stop_bits: 1,
            },
            reconnect: ReconnectConfig {
                initial_ms: 100,
                max_ms: 100,
            },
            tick_ms: 5,
            name: "worker test".into(),
        };
        let worker = spawn(config, Shared::new(idle), Epoch::new()).expect("the thread");
        let started = Instant::now();
        while !open.load(Ordering::SeqCst) {
            assert!(started.elapsed() < Duration::from_secs(5), "never opened");
            std::thread::sleep(Duration::from_millis(10));
        }
        // The slave stays open in the test too, as the emulators keep it.
        std::mem::forget(slave);
        (master, worker, steps, open)
    }

    /// Regression: an idle port (a printer or scanner between customers)
    /// woke every 500 ms to check that its path still existed: the
    /// serial-idle benchmark's printer and scanner threads woke 4 times a
    /// second for nothing.
    #[test]
    fn an_idle_port_without_deadlines_sleeps_through() {
        let (_master, _worker, steps, _open) = idle_worker();
        std::thread::sleep(Duration::from_millis(100));
        let before = steps.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(1_600));
        let woke = steps.load(Ordering::SeqCst) - before;
        assert_eq!(woke, 0, "stepped {woke} times in 1.6 s with nothing to do");
    }

    /// Without a timer, a port that goes away is still seen at once: the
    /// hang-up wakes the thread.
    #[test]
    fn a_hung_up_port_is_closed_at_once() {
        let (master, _worker, _steps, open) = idle_worker();
        drop(master);
        let gone = Instant::now();
        while open.load(Ordering::SeqCst) {
            assert!(
                gone.elapsed() < Duration::from_millis(300),
                "the hang-up was not seen within 300 ms"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
