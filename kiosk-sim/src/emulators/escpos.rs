//! The ESC/POS printer emulator: decodes what the driver sends with
//! [`CommandDecoder`] and [`Paper`], keeps the receipts as decoded lines,
//! and answers DLE EOT from its state and GS I n from its identity.

use std::path::{Path, PathBuf};

use kiosk_hal::wire::escpos::{
    CommandDecoder, InfoAnswer, Paper, PrinterCommand, PrinterInfo, RealTimeStatus, StatusKind,
};
use kiosk_hal::{PrinterStatus, ReceiptLine};
use serde::{Deserialize, Serialize};

use super::line::{LineFaultConfig, LineFaults};
use super::pty::PtyEndpoint;
use super::runner::{lock, start, Emulation, LineControl, WireDevice};
use super::EmulatorError;
use crate::clock::SimClock;
use crate::rng::SimRng;

/// The printer emulator's paper, mode and line faults.
///
/// ```toml
/// paper-lines = 12       # the roll runs out after 12 printed lines
/// near-end-lines = 4
/// one-way = false
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EscPosEmulatorConfig {
    /// Lines left on the roll; when it runs out mid-receipt the rest of the
    /// receipt is lost. Default 100 000.
    pub paper_lines: u32,
    /// From this many lines left the roll sensor reports near end. Default 20.
    pub near_end_lines: u32,
    /// The printer starts in Chinese two-byte mode. Default false.
    pub chinese_mode: bool,
    /// Never answers DLE EOT (a one-way printer). Default false.
    pub one_way: bool,
    /// Line faults on the status bytes.
    pub line: LineFaultConfig,
    /// Seed of the line faults' generator. Default 1.
    pub seed: u64,
    /// What it answers to GS I n.
    pub identity: EscPosIdentity,
}

/// What the emulated printer answers to GS I n.
///
/// ```toml
/// [identity]
/// model = "TM-T82III"
/// text-ids = false   # a printer that knows only GS I 1, 2, 3
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EscPosIdentity {
    /// n = 1: model ID byte (bits 4 and 7 clear). Default 0x20.
    pub model_id: u8,
    /// n = 2: type ID (bit 0 two-byte characters, bit 1 autocutter). Default 0x03.
    pub type_id: u8,
    /// n = 3: firmware ID byte. Default 0x02.
    pub firmware_id: u8,
    /// n = 65. Default `1.00`.
    pub firmware: String,
    /// n = 66. Default `SIM`.
    pub maker: String,
    /// n = 67. Default `kiosk-sim TM`.
    pub model: String,
    /// n = 68. Default `KS0000001`.
    pub serial: String,
    /// n = 69. Default `CHINA GB18030`.
    pub fonts: String,
    /// Answers the text forms (n = 65–69); `false`: silent to them, as
    /// older printers are. Default true.
    pub text_ids: bool,
}

impl Default for EscPosIdentity {
    fn default() -> Self {
        EscPosIdentity {
            model_id: 0x20,
            type_id: 0x03,
            firmware_id: 0x02,
            firmware: "1.00".into(),
            maker: "SIM".into(),
            model: "kiosk-sim TM".into(),
            serial: "KS0000001".into(),
            fonts: "CHINA GB18030".into(),
            text_ids: true,
        }
    }
}

impl EscPosIdentity {
    /// The answer to `info`, `None` for silence.
    fn answer(&self, info: PrinterInfo) -> Option<Vec<u8>> {
        let text = |t: &String| self.text_ids.then(|| InfoAnswer::Text(t.clone()));
        let answer = match info {
            PrinterInfo::ModelId => Some(InfoAnswer::Byte(self.model_id)),
            PrinterInfo::TypeId => Some(InfoAnswer::Byte(self.type_id)),
            PrinterInfo::FirmwareId => Some(InfoAnswer::Byte(self.firmware_id)),
            PrinterInfo::FirmwareVersion => text(&self.firmware),
            PrinterInfo::Maker => text(&self.maker),
            PrinterInfo::ModelName => text(&self.model),
            PrinterInfo::SerialNumber => text(&self.serial),
            PrinterInfo::Fonts => text(&self.fonts),
        };
        answer?.to_bytes().ok()
    }
}

impl Default for EscPosEmulatorConfig {
    fn default() -> Self {
        EscPosEmulatorConfig {
            paper_lines: 100_000,
            near_end_lines: 20,
            chinese_mode: false,
            one_way: false,
            line: LineFaultConfig::default(),
            seed: 1,
            identity: EscPosIdentity::default(),
        }
    }
}

struct EscPosDevice {
    identity: EscPosIdentity,
    id_requests: u64,
    decoder: CommandDecoder,
    paper: Paper,
    lines_left: u32,
    near_end_lines: u32,
    one_way: bool,
    cover_open: bool,
    cutter_error: bool,
    receipts: Vec<Vec<ReceiptLine>>,
    /// Lines of receipts that were cut short by the paper running out.
    torn: Vec<Vec<ReceiptLine>>,
    lost_commands: u64,
    status_requests: u64,
}

impl EscPosDevice {
    fn status(&self) -> PrinterStatus {
        if self.cutter_error {
            PrinterStatus::Jammed
        } else if self.cover_open {
            PrinterStatus::CoverOpen
        } else if self.lines_left == 0 {
            PrinterStatus::PaperOut
        } else if self.lines_left <= self.near_end_lines {
            PrinterStatus::PaperNearEnd
        } else {
            PrinterStatus::Ready
        }
    }

    fn can_print(&self) -> bool {
        !self.cutter_error && !self.cover_open && self.lines_left > 0
    }

    fn print(&mut self, cmd: &PrinterCommand) {
        // Cut receipts are taken after every command, so none are waiting here.
        let before = self.paper.uncut_lines().len();
        self.paper.apply(cmd);
        let after = self.paper.uncut_lines().len()
            + self
                .paper
                .cut_receipts()
                .iter()
                .map(Vec::len)
                .sum::<usize>();
        let printed = after.saturating_sub(before);
        self.lines_left = self
            .lines_left
            .saturating_sub(u32::try_from(printed).unwrap_or(u32::MAX));
        self.receipts.extend(self.paper.take_cut_receipts());
        if self.lines_left == 0 && !self.paper.uncut_lines().is_empty() {
            // The roll ran out under this receipt: what printed is torn off.
            let mut torn = Paper::new();
            std::mem::swap(&mut torn, &mut self.paper);
            self.torn.push(torn.uncut_lines().to_vec());
        }
    }
}

impl WireDevice for EscPosDevice {
    fn on_bytes(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        self.decoder.push(bytes);
        while let Some(cmd) = self.decoder.next_command() {
            match cmd {
                PrinterCommand::RealTimeStatus(n) => {
                    self.status_requests += 1;
                    let kind = StatusKind::from_n(n);
                    let status = RealTimeStatus::from_printer_status(self.status());
                    if let (false, Some(kind), Some(status)) = (self.one_way, kind, status) {
                        out.push(vec![status.answer(kind)]);
                    }
                }
                PrinterCommand::TransmitPrinterId(n) => {
                    self.id_requests += 1;
                    let answer = PrinterInfo::from_n(n).and_then(|i| self.identity.answer(i));
                    if let (false, Some(answer)) = (self.one_way, answer) {
                        out.push(answer);
                    }
                }
                PrinterCommand::Init => self.paper.apply(&cmd),
                other if self.can_print() => self.print(&other),
                _ => self.lost_commands += 1,
            }
        }
    }
}

/// A running ESC/POS printer emulator. Stops (and removes its path) when dropped.
pub struct EscPosEmulator {
    emulation: Emulation<EscPosDevice>,
    path: PathBuf,
}

impl EscPosEmulator {
    /// Starts the emulator on a new pty published at `path` (a symlink).
    pub fn start(
        path: impl AsRef<Path>,
        config: &EscPosEmulatorConfig,
    ) -> Result<EscPosEmulator, EmulatorError> {
        let path = path.as_ref().to_path_buf();
        let device = EscPosDevice {
            identity: config.identity.clone(),
            id_requests: 0,
            decoder: CommandDecoder::with_chinese_mode(config.chinese_mode),
            paper: Paper::new(),
            lines_left: config.paper_lines,
            near_end_lines: config.near_end_lines,
            one_way: config.one_way,
            cover_open: false,
            cutter_error: false,
            receipts: Vec::new(),
            torn: Vec::new(),
            lost_commands: 0,
            status_requests: 0,
        };
        let clock =
            SimClock::starting_at(tokio::time::Instant::from_std(std::time::Instant::now()));
        let faults = LineFaults::new(&config.line, SimRng::new(config.seed).fork("line"), clock)?;
        let pty = PtyEndpoint::create(&path)?;
        let emulation = start(device, pty, faults, "escpos-emulator")?;
        Ok(EscPosEmulator { emulation, path })
    }

    /// The path the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line: faults, silence, unplugging.
    pub fn line(&self) -> LineControl {
        self.emulation.line.clone()
    }

    /// The receipts printed and cut so far, as decoded lines.
    pub fn receipts(&self) -> Vec<Vec<ReceiptLine>> {
        lock(&self.emulation.device).receipts.clone()
    }

    /// Each receipt as text: one line per receipt line, QR codes as `[QR …]`.
    pub fn receipt_texts(&self) -> Vec<String> {
        self.receipts().iter().map(|r| receipt_text(r)).collect()
    }

    /// Receipts cut short by the paper running out (what did print of them).
    pub fn torn_receipts(&self) -> Vec<Vec<ReceiptLine>> {
        lock(&self.emulation.device).torn.clone()
    }

    /// The status the printer would answer now.
    pub fn status(&self) -> PrinterStatus {
        lock(&self.emulation.device).status()
    }

    /// Loads a roll of `lines` lines.
    pub fn load_paper(&self, lines: u32) {
        lock(&self.emulation.device).lines_left = lines;
    }

    /// Opens or closes the cover.
    pub fn set_cover_open(&self, open: bool) {
        lock(&self.emulation.device).cover_open = open;
    }

    /// Sets or clears an autocutter error.
    pub fn set_cutter_error(&self, error: bool) {
        lock(&self.emulation.device).cutter_error = error;
    }

    /// Makes the printer one-way (never answers status) or two-way.
    pub fn set_one_way(&self, one_way: bool) {
        lock(&self.emulation.device).one_way = one_way;
    }

    /// DLE EOT requests received so far.
    pub fn status_requests(&self) -> u64 {
        lock(&self.emulation.device).status_requests
    }

    /// GS I n requests received so far.
    pub fn id_requests(&self) -> u64 {
        lock(&self.emulation.device).id_requests
    }

    /// Print commands that arrived while the printer could not print.
    pub fn lost_commands(&self) -> u64 {
        lock(&self.emulation.device).lost_commands
    }
}

/// A receipt's lines as text.
pub fn receipt_text(lines: &[ReceiptLine]) -> String {
    lines
        .iter()
        .map(|l| match l {
            ReceiptLine::Text(t) | ReceiptLine::Bold(t) => t.clone(),
            ReceiptLine::Qr(q) => format!("[QR {q}]"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
