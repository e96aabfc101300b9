//! The emulator thread shared by every emulator: read what the driver
//! wrote, let the device model answer, write the answers through the line
//! fault injector.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::line::{LineFault, LineFaults, LineStats, Verdict};
use super::pty::{PtyEndpoint, READ_TICK};

/// A device model speaking bytes. Called from the emulator thread only.
pub(crate) trait WireDevice: Send + 'static {
    /// Bytes from the driver; push each answer frame to `out`.
    fn on_bytes(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>);
    /// Every loop turn (about every 5 ms): frames the device sends unasked.
    fn on_tick(&mut self, _out: &mut Vec<Vec<u8>>) {}
    /// The thread is about to end: release what must be released on it.
    fn on_stop(&mut self) {}
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct Link {
    pub(crate) pty: PtyEndpoint,
    pub(crate) faults: LineFaults,
}

/// The line between an emulator and its driver: faults, silence, unplugging.
/// Cloneable; every clone controls the same line.
#[derive(Clone)]
pub struct LineControl {
    link: Arc<Mutex<Link>>,
}

impl LineControl {
    /// The path the driver opens.
    pub fn path(&self) -> std::path::PathBuf {
        lock(&self.link).pty.path().to_path_buf()
    }

    /// Stops (or resumes) answering: the device is powered but mute.
    pub fn set_silent(&self, silent: bool) {
        lock(&self.link).faults.set_silent(silent);
    }

    /// Applies `fault` to the next frame the emulator sends.
    pub fn stage(&self, fault: LineFault) {
        lock(&self.link).faults.stage(fault);
    }

    /// What the fault injector did so far.
    pub fn stats(&self) -> LineStats {
        lock(&self.link).faults.stats()
    }

    /// Closes the pty and removes its path: the driver's port vanishes.
    pub fn unplug(&self) {
        lock(&self.link).pty.unplug();
    }

    /// A new pty at the same path: the adapter is plugged back in.
    pub fn replug(&self) -> io::Result<()> {
        lock(&self.link).pty.plug()
    }

    /// Whether a pty is attached.
    pub fn is_plugged(&self) -> bool {
        lock(&self.link).pty.is_plugged()
    }
}

/// A running emulator thread; stops when dropped.
pub(crate) struct Emulation<D> {
    pub(crate) device: Arc<Mutex<D>>,
    pub(crate) line: LineControl,
    stop: Arc<AtomicBool>,
}

impl<D> Drop for Emulation<D> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts the emulator thread.
pub(crate) fn start<D: WireDevice>(
    device: D,
    pty: PtyEndpoint,
    faults: LineFaults,
    name: &str,
) -> io::Result<Emulation<D>> {
    let device = Arc::new(Mutex::new(device));
    let link = Arc::new(Mutex::new(Link { pty, faults }));
    let stop = Arc::new(AtomicBool::new(false));
    let (d, l, s) = (device.clone(), link.clone(), stop.clone());
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || run(d, l, s))?;
    Ok(Emulation {
        device,
        line: LineControl { link },
        stop,
    })
}

fn run<D: WireDevice>(device: Arc<Mutex<D>>, link: Arc<Mutex<Link>>, stop: Arc<AtomicBool>) {
    let mut buf = [0u8; 4096];
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let read = lock(&link).pty.read(&mut buf);
        let n = match read {
            Ok(n) => n,
            Err(_) => {
                // Unplugged (or the driver side hung up): wait for a replug.
                std::thread::sleep(READ_TICK);
                0
            }
        };
        {
            let mut d = lock(&device);
            if n > 0 {
                d.on_bytes(&buf[..n], &mut out);
            }
            d.on_tick(&mut out);
        }
        for frame in out.drain(..) {
            let verdict = lock(&link).faults.outgoing(frame);
            let bytes = match verdict {
                Verdict::Send(bytes) => bytes,
                Verdict::Delay(ms, bytes) => {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                    bytes
                }
                Verdict::Drop => continue,
            };
            // Unplugged mid-answer: the bytes are lost, as on a real line.
            let _ = lock(&link).pty.write(&bytes);
        }
    }
    lock(&device).on_stop();
}
