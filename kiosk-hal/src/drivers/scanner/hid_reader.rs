//! The shell around [`HidScannerHost`]: an I/O thread on the input device,
//! and the [`PaymentReader`].
//!
//! The thread opens the device itself (non-blocking), grabs it with
//! `EVIOCGRAB` through the `evdev` crate (the only ioctl; the crate also
//! reads the device's name and USB ids for [`DeviceIdentity`]), and reads
//! the `input_event` records with plain `read`s into the sans-IO host. A
//! FIFO is read the same way without a grab or ioctl (it is not an input
//! device): tests and replays feed recorded records through one. It sleeps
//! in one `epoll` wait (`mio`) on the device and a waker, so dropping the
//! reader ends the thread at once and the grab with it.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use tokio::sync::{mpsc, watch};

use super::hid_config::HidScannerConfig;
use super::hid_host::HidScannerHost;
use super::host::Scan;
use crate::drivers::Backoff;
use crate::wire::evdev::KeyStats;
use crate::{DeviceError, DeviceIdentity, DeviceProtocol, ErrorKind, PaymentCode, PaymentReader};

const DEVICE: &str = "USB HID scanner";
const SOURCE: Token = Token(0);
const WAKE: Token = Token(1);
/// How often an open device's path is checked for existence.
const PATH_CHECK_MS: u64 = 500;

/// What the thread shares with the async side.
struct Shared {
    host: Mutex<HidScannerHost>,
    identity: Mutex<DeviceIdentity>,
    offline_reason: Mutex<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An open input source: the file we read, and the grab's holder.
struct Source {
    file: File,
    /// Held while open: the grab lives as long as the open file does; the
    /// crate's handle shares it.
    _device: Option<evdev::raw_stream::RawDevice>,
}

/// A payment-code scanner that types as a USB keyboard, read from its
/// Linux input device and grabbed so its keystrokes reach nothing else.
///
/// `read_code` is cancel safe: scans wait in a channel. A scan older than
/// `stale-after-ms` when taken is dropped. While the device is missing (or
/// grabbed by another program), `read_code` and `check` fail with
/// `Offline`; the thread reopens it with backoff by itself.
pub struct HidScanner {
    shared: Arc<Shared>,
    scans: mpsc::UnboundedReceiver<Scan>,
    link: watch::Receiver<bool>,
    started: Instant,
    stale_after_ms: u64,
    stale_dropped: u64,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Drop for HidScanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Fails only if the thread's poll is gone: nothing left to wake.
        let _ = self.waker.wake();
    }
}

impl HidScanner {
    /// Starts the reader on `config.device`.
    ///
    /// Fails only for an empty device path or if the thread cannot start;
    /// a missing device shows as `Offline` later.
    pub fn open(config: &HidScannerConfig) -> Result<HidScanner, DeviceError> {
        if config.device.as_os_str().is_empty() {
            return Err(DeviceError::new(
                ErrorKind::Other,
                format!("{DEVICE}: no device path configured"),
            ));
        }
        let poll = Poll::new().map_err(DeviceError::from)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(DeviceError::from)?);
        let shared = Arc::new(Shared {
            host: Mutex::new(HidScannerHost::new(config)),
            identity: Mutex::new(DeviceIdentity::of(DeviceProtocol::HidScanner)),
            offline_reason: Mutex::new(String::new()),
        });
        let (scans_tx, scans_rx) = mpsc::unbounded_channel();
        let (link_tx, link_rx) = watch::channel(false);
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let thread = Thread {
            config: config.clone(),
            shared: Arc::clone(&shared),
            scans: scans_tx,
            link: link_tx,
            stop: Arc::clone(&stop),
            started,
        };
        std::thread::Builder::new()
            .name(format!("hid-scanner {}", config.device.display()))
            .spawn(move || thread.run(poll))
            .map_err(DeviceError::from)?;
        Ok(HidScanner {
            shared,
            scans: scans_rx,
            link: link_rx,
            started,
            stale_after_ms: config.stale_after_ms,
            stale_dropped: 0,
            stop,
            waker,
        })
    }

    /// Whether the device is open (and grabbed, if so configured).
    pub fn is_connected(&self) -> bool {
        *self.link.borrow()
    }

    /// The key decoder's counters.
    pub fn key_stats(&self) -> KeyStats {
        lock(&self.shared.host).key_stats()
    }

    /// Scans dropped because nobody asked for a code in time.
    pub fn stale_dropped(&self) -> u64 {
        self.stale_dropped
    }

    /// Why the device is offline, as last seen (empty while open).
    pub fn offline_reason(&self) -> String {
        lock(&self.shared.offline_reason).clone()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn offline(&self) -> DeviceError {
        let why = self.offline_reason();
        DeviceError::new(ErrorKind::Offline, format!("{DEVICE}: {why}"))
    }
}

#[async_trait]
impl PaymentReader for HidScanner {
    async fn read_code(&mut self) -> Result<PaymentCode, DeviceError> {
        loop {
            if !*self.link.borrow_and_update() {
                return Err(self.offline());
            }
            tokio::select! {
                biased;
                scan = self.scans.recv() => {
                    let Some(scan) = scan else {
                        return Err(DeviceError::new(ErrorKind::Offline, format!("{DEVICE} reader thread stopped")));
                    };
                    if self.now_ms().saturating_sub(scan.at_ms) > self.stale_after_ms {
                        self.stale_dropped += 1;
                        continue;
                    }
                    return scan.result.map_err(DeviceError::from);
                }
                changed = self.link.changed() => {
                    if changed.is_err() {
                        return Err(DeviceError::new(ErrorKind::Offline, format!("{DEVICE} reader thread stopped")));
                    }
                }
            }
        }
    }

    async fn check(&mut self) -> Result<(), DeviceError> {
        if *self.link.borrow() {
            Ok(())
        } else {
            Err(self.offline())
        }
    }

    /// The input device's name as model, its USB vendor:product ids, its
    /// `uniq` string as serial where the scanner sets one.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(lock(&self.shared.identity).clone())
    }
}

struct Thread {
    config: HidScannerConfig,
    shared: Arc<Shared>,
    scans: mpsc::UnboundedSender<Scan>,
    link: watch::Sender<bool>,
    stop: Arc<AtomicBool>,
    started: Instant,
}

impl Thread {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn run(self, mut poll: Poll) {
        let mut backoff = Backoff::new(self.config.reconnect());
        let mut events = Events::with_capacity(4);
        let mut source: Option<Source> = None;
        let mut buf = [0u8; 24 * 64];
        let mut next_path_check = 0;
        let mut down_reported = false;
        while !self.stop.load(Ordering::Relaxed) {
            let now = self.now_ms();
            let Some(open) = source.as_mut() else {
                if !backoff.due(now) {
                    let wait = backoff.next_at_ms().saturating_sub(now);
                    let _ = poll.poll(&mut events, Some(Duration::from_millis(wait.max(1))));
                    continue;
                }
                match open_source(&self.config) {
                    Ok((opened, identity)) => {
                        let fd = opened.file.as_raw_fd();
                        if let Err(e) =
                            poll.registry()
                                .register(&mut SourceFd(&fd), SOURCE, Interest::READABLE)
                        {
                            backoff.failed(now);
                            self.went_down(format!("cannot watch the device: {e}"));
                            continue;
                        }
                        backoff.succeeded();
                        down_reported = false;
                        *lock(&self.shared.identity) = identity;
                        lock(&self.shared.offline_reason).clear();
                        lock(&self.shared.host).opened();
                        self.link.send_replace(true);
                        source = Some(opened);
                    }
                    Err(why) => {
                        backoff.failed(now);
                        if !down_reported {
                            down_reported = true;
                            self.went_down(why);
                        }
                    }
                }
                continue;
            };
            let mut lost = self.drain(&mut open.file, &mut buf).err();
            if lost.is_none() && now >= next_path_check {
                next_path_check = now + PATH_CHECK_MS;
                if !self.config.device.exists() {
                    lost = Some("the device's path is gone".into());
                }
            }
            if lost.is_none() {
                let wait = next_path_check.saturating_sub(self.now_ms()).max(1);
                match poll.poll(&mut events, Some(Duration::from_millis(wait))) {
                    Err(e) if e.kind() != std::io::ErrorKind::Interrupted => {
                        lost = Some(format!("waiting on the device failed: {e}"));
                    }
                    _ => {
                        if events.iter().any(|e| e.token() == SOURCE && e.is_error()) {
                            lost = self.drain(&mut open.file, &mut buf).err();
                        }
                    }
                }
            }
            if let Some(why) = lost {
                if let Some(closed) = source.take() {
                    let fd = closed.file.as_raw_fd();
                    let _ = poll.registry().deregister(&mut SourceFd(&fd));
                }
                backoff.failed(self.now_ms());
                down_reported = true;
                self.went_down(why);
            }
        }
    }

    fn went_down(&self, why: String) {
        *lock(&self.shared.offline_reason) = why;
        lock(&self.shared.host).closed();
        self.link.send_replace(false);
    }

    /// Reads every record waiting (the wait is edge-triggered).
    fn drain(&self, file: &mut File, buf: &mut [u8]) -> Result<(), String> {
        loop {
            match file.read(buf) {
                // A FIFO with no writer; an input device never ends.
                Ok(0) => return Ok(()),
                Ok(n) => {
                    let mut host = lock(&self.shared.host);
                    host.handle_bytes(self.now_ms(), &buf[..n]);
                    while let Some(scan) = host.poll_scan() {
                        // A closed receiver means the reader was dropped.
                        let _ = self.scans.send(scan);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read failed: {e}")),
            }
        }
    }
}

/// Opens the device non-blocking; grabs an input device. A FIFO is opened
/// read-write so it never reads end-of-file between writers.
fn open_source(config: &HidScannerConfig) -> Result<(Source, DeviceIdentity), String> {
    let path: &Path = &config.device;
    let shown = path.display();
    let kind = std::fs::metadata(path)
        .map_err(|e| format!("cannot open {shown}: {e}"))?
        .file_type();
    let mut identity = DeviceIdentity::of(DeviceProtocol::HidScanner);
    if kind.is_fifo() {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| format!("cannot open {shown}: {e}"))?;
        identity.model = Some("input_event records from a FIFO".into());
        return Ok((
            Source {
                file,
                _device: None,
            },
            identity,
        ));
    }
    if !kind.is_char_device() {
        return Err(format!(
            "{shown} is neither an input device nor a FIFO of input_event records"
        ));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open {shown}: {e}"))?;
    let shared_fd = file
        .try_clone()
        .map_err(|e| format!("cannot open {shown}: {e}"))?;
    let mut device = evdev::raw_stream::RawDevice::from_fd(shared_fd.into())
        .map_err(|e| format!("{shown} is not an input device: {e}"))?;
    if config.grab {
        device
            .grab()
            .map_err(|e| format!("cannot grab {shown} (another program holds it?): {e}"))?;
    }
    let id = device.input_id();
    identity.model = Some(format!(
        "{} ({:04x}:{:04x})",
        device.name().unwrap_or("unnamed"),
        id.vendor(),
        id.product()
    ));
    identity.firmware = Some(format!("{:04x}", id.version()));
    identity.serial = device
        .unique_name()
        .filter(|u| !u.trim().is_empty())
        .map(str::to_string);
    Ok((
        Source {
            file,
            _device: Some(device),
        },
        identity,
    ))
}
