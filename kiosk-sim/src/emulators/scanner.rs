//! The serial scanner emulator: writes scanned codes as lines.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use kiosk_hal::wire::scanner::{Terminator, TRIGGER_START, TRIGGER_STOP};
use serde::{Deserialize, Serialize};

use super::line::{LineFaultConfig, LineFaults};
use super::pty::PtyEndpoint;
use super::runner::{lock, start, Emulation, LineControl, WireDevice};
use super::EmulatorError;
use crate::clock::SimClock;
use crate::rng::SimRng;

/// The scanner emulator's framing and line faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ScannerEmulatorConfig {
    /// What ends each line. Default `cr`.
    pub terminator: Terminator,
    /// Line faults on each scanned line.
    pub line: LineFaultConfig,
    /// Seed of the line faults' generator. Default 1.
    pub seed: u64,
}

impl Default for ScannerEmulatorConfig {
    fn default() -> Self {
        ScannerEmulatorConfig {
            terminator: Terminator::Cr,
            line: LineFaultConfig::default(),
            seed: 1,
        }
    }
}

struct ScannerDevice {
    terminator: Terminator,
    outbox: VecDeque<Vec<u8>>,
    received: Vec<u8>,
    triggers: u32,
    stops: u32,
}

impl WireDevice for ScannerDevice {
    fn on_bytes(&mut self, bytes: &[u8], _out: &mut Vec<Vec<u8>>) {
        self.received.extend_from_slice(bytes);
        while self.received.len() >= 3 {
            let head = [self.received[0], self.received[1], self.received[2]];
            if head == TRIGGER_START {
                self.triggers += 1;
                self.received.drain(..3);
            } else if head == TRIGGER_STOP {
                self.stops += 1;
                self.received.drain(..3);
            } else {
                self.received.remove(0);
            }
        }
    }

    fn on_tick(&mut self, out: &mut Vec<Vec<u8>>) {
        out.extend(self.outbox.drain(..));
    }
}

/// A running scanner emulator. Stops (and removes its path) when dropped.
pub struct ScannerEmulator {
    emulation: Emulation<ScannerDevice>,
    path: PathBuf,
}

impl ScannerEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &ScannerEmulatorConfig,
    ) -> Result<ScannerEmulator, EmulatorError> {
        let path = path.as_ref().to_path_buf();
        let device = ScannerDevice {
            terminator: config.terminator,
            outbox: VecDeque::new(),
            received: Vec::new(),
            triggers: 0,
            stops: 0,
        };
        let clock =
            SimClock::starting_at(tokio::time::Instant::from_std(std::time::Instant::now()));
        let faults = LineFaults::new(&config.line, SimRng::new(config.seed).fork("line"), clock)?;
        let pty = PtyEndpoint::create(&path)?;
        let emulation = start(device, pty, faults, "scanner-emulator")?;
        Ok(ScannerEmulator { emulation, path })
    }

    /// The path the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line: faults, silence, unplugging.
    pub fn line(&self) -> LineControl {
        self.emulation.line.clone()
    }

    /// Scans `text` (a payment code, a URL, anything): one line.
    pub fn scan(&self, text: &str) {
        let mut d = lock(&self.emulation.device);
        let mut line = text.as_bytes().to_vec();
        line.extend_from_slice(match d.terminator {
            Terminator::Cr => b"\r",
            Terminator::CrLf => b"\r\n",
            Terminator::Lf => b"\n",
        });
        d.outbox.push_back(line);
    }

    /// Sends raw bytes (noise, a broken line).
    pub fn send_raw(&self, bytes: &[u8]) {
        lock(&self.emulation.device)
            .outbox
            .push_back(bytes.to_vec());
    }

    /// Serial trigger commands received: (start, stop).
    pub fn triggers(&self) -> (u32, u32) {
        let d = lock(&self.emulation.device);
        (d.triggers, d.stops)
    }
}
