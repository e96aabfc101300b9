//! Real-time status: DLE EOT n requests and their one-byte answers.

use crate::wire::WireError;
use crate::PrinterStatus;

/// Bits every real-time status answer has fixed: `0xx1xx10`.
const FIXED_MASK: u8 = 0b1001_0011;
/// The values of the fixed bits.
const FIXED_BITS: u8 = 0b0001_0010;

/// Which status DLE EOT n asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusKind {
    /// n = 1: printer status.
    Printer,
    /// n = 2: offline cause.
    OfflineCause,
    /// n = 3: error cause.
    ErrorCause,
    /// n = 4: roll paper sensor.
    PaperRoll,
}

impl StatusKind {
    /// All four, in request order.
    pub const ALL: [StatusKind; 4] = [
        StatusKind::Printer,
        StatusKind::OfflineCause,
        StatusKind::ErrorCause,
        StatusKind::PaperRoll,
    ];

    /// The `n` of DLE EOT n.
    pub fn n(self) -> u8 {
        match self {
            StatusKind::Printer => 1,
            StatusKind::OfflineCause => 2,
            StatusKind::ErrorCause => 3,
            StatusKind::PaperRoll => 4,
        }
    }

    /// The kind for `n` (1–4).
    pub fn from_n(n: u8) -> Option<StatusKind> {
        StatusKind::ALL.into_iter().find(|k| k.n() == n)
    }
}

/// DLE EOT n (`10 04 n`): ask for one status byte.
pub fn real_time_status_request(kind: StatusKind) -> [u8; 3] {
    [0x10, 0x04, kind.n()]
}

fn check(byte: u8) -> Result<u8, WireError> {
    if byte & FIXED_MASK == FIXED_BITS {
        Ok(byte)
    } else {
        Err(WireError::InvalidByte(byte))
    }
}

fn bit(byte: u8, n: u8) -> bool {
    byte & (1 << n) != 0
}

fn with(flag: bool, n: u8) -> u8 {
    u8::from(flag) << n
}

/// Answer to n = 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PrinterState {
    /// Bit 3: offline.
    pub offline: bool,
}

impl PrinterState {
    /// Decodes the answer byte; [`WireError::InvalidByte`] without the fixed bits.
    pub fn parse(byte: u8) -> Result<PrinterState, WireError> {
        let b = check(byte)?;
        Ok(PrinterState { offline: bit(b, 3) })
    }

    /// The answer byte.
    pub fn emit(&self) -> u8 {
        FIXED_BITS | with(self.offline, 3)
    }
}

/// Answer to n = 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OfflineCause {
    /// Bit 2: cover open.
    pub cover_open: bool,
    /// Bit 5: printing stopped by paper end.
    pub paper_end_stop: bool,
    /// Bit 6: an error occurred.
    pub error: bool,
}

impl OfflineCause {
    /// Decodes the answer byte; [`WireError::InvalidByte`] without the fixed bits.
    pub fn parse(byte: u8) -> Result<OfflineCause, WireError> {
        let b = check(byte)?;
        Ok(OfflineCause {
            cover_open: bit(b, 2),
            paper_end_stop: bit(b, 5),
            error: bit(b, 6),
        })
    }

    /// The answer byte.
    pub fn emit(&self) -> u8 {
        FIXED_BITS | with(self.cover_open, 2) | with(self.paper_end_stop, 5) | with(self.error, 6)
    }
}

/// Answer to n = 3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ErrorCause {
    /// Bit 3: autocutter error (paper jammed in the cutter).
    pub autocutter: bool,
    /// Bit 5: unrecoverable error.
    pub unrecoverable: bool,
    /// Bit 6: automatically recoverable error (e.g. head too hot).
    pub auto_recoverable: bool,
}

impl ErrorCause {
    /// Decodes the answer byte; [`WireError::InvalidByte`] without the fixed bits.
    pub fn parse(byte: u8) -> Result<ErrorCause, WireError> {
        let b = check(byte)?;
        Ok(ErrorCause {
            autocutter: bit(b, 3),
            unrecoverable: bit(b, 5),
            auto_recoverable: bit(b, 6),
        })
    }

    /// The answer byte.
    pub fn emit(&self) -> u8 {
        FIXED_BITS
            | with(self.autocutter, 3)
            | with(self.unrecoverable, 5)
            | with(self.auto_recoverable, 6)
    }
}

/// Answer to n = 4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PaperRoll {
    /// Bits 2 and 3: paper near end (either bit counts when decoding).
    pub near_end: bool,
    /// Bits 5 and 6: paper end (either bit counts when decoding).
    pub paper_end: bool,
}

impl PaperRoll {
    /// Decodes the answer byte; [`WireError::InvalidByte`] without the fixed bits.
    pub fn parse(byte: u8) -> Result<PaperRoll, WireError> {
        let b = check(byte)?;
        Ok(PaperRoll {
            near_end: bit(b, 2) || bit(b, 3),
            paper_end: bit(b, 5) || bit(b, 6),
        })
    }

    /// The answer byte (both bits of each pair set).
    pub fn emit(&self) -> u8 {
        FIXED_BITS
            | (u8::from(self.near_end) * 0b0000_1100)
            | (u8::from(self.paper_end) * 0b0110_0000)
    }
}

/// The four real-time status answers together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RealTimeStatus {
    /// n = 1.
    pub printer: PrinterState,
    /// n = 2.
    pub offline: OfflineCause,
    /// n = 3.
    pub error: ErrorCause,
    /// n = 4.
    pub roll: PaperRoll,
}

impl RealTimeStatus {
    /// Decodes the answers to n = 1, 2, 3, 4 (in that order).
    pub fn parse(answers: [u8; 4]) -> Result<RealTimeStatus, WireError> {
        Ok(RealTimeStatus {
            printer: PrinterState::parse(answers[0])?,
            offline: OfflineCause::parse(answers[1])?,
            error: ErrorCause::parse(answers[2])?,
            roll: PaperRoll::parse(answers[3])?,
        })
    }

    /// The byte a printer answers to DLE EOT n for `kind` (the emulator's side).
    pub fn answer(&self, kind: StatusKind) -> u8 {
        match kind {
            StatusKind::Printer => self.printer.emit(),
            StatusKind::OfflineCause => self.offline.emit(),
            StatusKind::ErrorCause => self.error.emit(),
            StatusKind::PaperRoll => self.roll.emit(),
        }
    }

    /// The four answers, n = 1 to 4.
    pub fn answers(&self) -> [u8; 4] {
        StatusKind::ALL.map(|k| self.answer(k))
    }

    /// The HAL status, the most severe condition first:
    /// unrecoverable error, autocutter jam, cover open, paper out, offline
    /// (any other reason, including an auto-recoverable error), paper near
    /// end, ready.
    ///
    /// Every condition that stops printing ranks above paper near end,
    /// which still prints.
    pub fn printer_status(&self) -> PrinterStatus {
        if self.error.unrecoverable {
            PrinterStatus::Unrecoverable
        } else if self.error.autocutter {
            PrinterStatus::Jammed
        } else if self.offline.cover_open {
            PrinterStatus::CoverOpen
        } else if self.roll.paper_end || self.offline.paper_end_stop {
            PrinterStatus::PaperOut
        } else if self.printer.offline || self.offline.error || self.error.auto_recoverable {
            PrinterStatus::Offline
        } else if self.roll.near_end {
            PrinterStatus::PaperNearEnd
        } else {
            PrinterStatus::Ready
        }
    }

    /// What a printer in `status` answers (the emulator's side); `None` for
    /// [`PrinterStatus::Unknown`], which a printer cannot answer.
    pub fn from_printer_status(status: PrinterStatus) -> Option<RealTimeStatus> {
        let mut s = RealTimeStatus::default();
        match status {
            PrinterStatus::Ready => {}
            PrinterStatus::PaperNearEnd => s.roll.near_end = true,
            PrinterStatus::PaperOut => {
                s.printer.offline = true;
                s.offline.paper_end_stop = true;
                s.roll = PaperRoll {
                    near_end: true,
                    paper_end: true,
                };
            }
            PrinterStatus::CoverOpen => {
                s.printer.offline = true;
                s.offline.cover_open = true;
            }
            PrinterStatus::Jammed => {
                s.printer.offline = true;
                s.offline.error = true;
                s.error.autocutter = true;
            }
            PrinterStatus::Unrecoverable => {
                s.printer.offline = true;
                s.offline.error = true;
                s.error.unrecoverable = true;
            }
            PrinterStatus::Offline => s.printer.offline = true,
            _ => return None,
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_paper_example() {
        assert_eq!(
            real_time_status_request(StatusKind::PaperRoll),
            [0x10, 0x04, 0x04]
        );
        let s = RealTimeStatus::parse([0x1A, 0x32, 0x12, 0x7E]).unwrap();
        assert!(s.printer.offline);
        assert!(s.offline.paper_end_stop && !s.offline.cover_open);
        assert!(s.roll.paper_end && s.roll.near_end);
        assert_eq!(s.printer_status(), PrinterStatus::PaperOut);
        let emitted = RealTimeStatus::from_printer_status(PrinterStatus::PaperOut).unwrap();
        assert_eq!(emitted.answers(), [0x1A, 0x32, 0x12, 0x7E]);
    }

    #[test]
    fn fixed_bits_are_checked() {
        assert_eq!(
            PrinterState::parse(0x12),
            Ok(PrinterState { offline: false })
        );
        for bad in [0x00, 0x02, 0x10, 0x13, 0x92, 0xFF] {
            assert_eq!(PrinterState::parse(bad), Err(WireError::InvalidByte(bad)));
            assert_eq!(
                RealTimeStatus::parse([0x12, 0x12, 0x12, bad]),
                Err(WireError::InvalidByte(bad))
            );
        }
    }

    #[test]
    fn bits_decode_to_conditions() {
        let ready = [0x12, 0x12, 0x12, 0x12];
        assert_eq!(
            RealTimeStatus::parse(ready).unwrap().printer_status(),
            PrinterStatus::Ready
        );
        let near_end = [0x12, 0x12, 0x12, 0x1E];
        assert_eq!(
            RealTimeStatus::parse(near_end).unwrap().printer_status(),
            PrinterStatus::PaperNearEnd
        );
        let cover = [0x1A, 0x16, 0x12, 0x12];
        assert_eq!(
            RealTimeStatus::parse(cover).unwrap().printer_status(),
            PrinterStatus::CoverOpen
        );
        let cutter = [0x1A, 0x52, 0x1A, 0x12];
        assert_eq!(
            RealTimeStatus::parse(cutter).unwrap().printer_status(),
            PrinterStatus::Jammed
        );
        let broken = [0x1A, 0x52, 0x32, 0x12];
        assert_eq!(
            RealTimeStatus::parse(broken).unwrap().printer_status(),
            PrinterStatus::Unrecoverable
        );
        let hot = [0x1A, 0x52, 0x52, 0x12];
        assert_eq!(
            RealTimeStatus::parse(hot).unwrap().printer_status(),
            PrinterStatus::Offline
        );
        // Near end never hides a condition that stops printing.
        let cover_and_near_end = [0x1A, 0x16, 0x12, 0x1E];
        assert_eq!(
            RealTimeStatus::parse(cover_and_near_end)
                .unwrap()
                .printer_status(),
            PrinterStatus::CoverOpen
        );
    }

    #[test]
    fn emulator_answers_decode_to_the_same_status() {
        for status in [
            PrinterStatus::Ready,
            PrinterStatus::PaperNearEnd,
            PrinterStatus::PaperOut,
            PrinterStatus::CoverOpen,
            PrinterStatus::Jammed,
            PrinterStatus::Unrecoverable,
            PrinterStatus::Offline,
        ] {
            let answers = RealTimeStatus::from_printer_status(status)
                .unwrap()
                .answers();
            assert_eq!(
                RealTimeStatus::parse(answers).unwrap().printer_status(),
                status
            );
        }
        assert_eq!(
            RealTimeStatus::from_printer_status(PrinterStatus::Unknown),
            None
        );
        assert_eq!(StatusKind::from_n(3), Some(StatusKind::ErrorCause));
        assert_eq!(StatusKind::from_n(5), None);
    }
}
