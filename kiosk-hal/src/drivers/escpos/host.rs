//! The ESC/POS host as a plain state machine: status checks around every
//! receipt, one DLE EOT at a time, and the printer's identity (GS I n)
//! read while idle after the port opens.
//!
//! ```text
//! print: DLE EOT 1..4 ─► can print? ─no─► Err(kind)
//!                            └yes─► receipt bytes ─► wait print-settle-ms ─► DLE EOT 1..4
//!                                      ready / near end ─► Printed;  unreadable ─► Unknown;  else Err(kind)
//! ```

use std::collections::VecDeque;

use super::config::EscPosConfig;
use crate::wire::escpos::{
    real_time_status_request, ErrorCause, InfoAnswer, OfflineCause, PaperRoll, PrinterInfo,
    PrinterState, RealTimeStatus, StatusKind,
};
use crate::wire::WireError;
use crate::{DeviceIdentity, DeviceProtocol, ErrorKind, PrintOutcome, PrinterStatus};

/// What the host asks at start: the text forms (model name, firmware
/// version, maker, serial number). A printer silent to the model name
/// knows no text form; it is asked the one-byte model and firmware IDs.
const IDENTIFY: [PrinterInfo; 4] = [
    PrinterInfo::ModelName,
    PrinterInfo::FirmwareVersion,
    PrinterInfo::Maker,
    PrinterInfo::SerialNumber,
];

/// The one-byte forms, for printers without the text ones.
const IDENTIFY_BYTES: [PrinterInfo; 2] = [PrinterInfo::ModelId, PrinterInfo::FirmwareId];

/// A GS I n sent, waiting for its answer.
#[derive(Debug, Clone)]
struct Asking {
    info: PrinterInfo,
    deadline_ms: u64,
    answer: Vec<u8>,
}

/// What the kiosk asks of the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterRequest {
    /// Read the real-time status.
    Status,
    /// Print these bytes (a rendered receipt) between two status checks.
    Print(Vec<u8>),
}

/// A request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterReply {
    /// The status read.
    Status(PrinterStatus),
    /// The receipt's outcome.
    Printed(PrintOutcome),
}

/// A finished request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterDone {
    /// The token the request was made with.
    pub token: u64,
    /// Its result.
    pub result: Result<PrinterReply, ErrorKind>,
}

/// Counters for health reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrinterStats {
    /// Status bytes accepted.
    pub status_bytes: u64,
    /// Bytes that answered nothing or lacked the fixed status bits.
    pub garbage_bytes: u64,
    /// DLE EOT requests that got no answer in time.
    pub timeouts: u64,
    /// GS I requests that got no answer in time (a form the printer lacks).
    pub identity_timeouts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    StatusOnly,
    Before,
    After,
}

#[derive(Debug, Clone)]
enum Step {
    /// Asking DLE EOT `StatusKind::ALL[kind]`; `deadline_ms` once sent.
    Query {
        kind: usize,
        answers: [u8; 4],
        deadline_ms: Option<u64>,
    },
    /// The receipt is to be written.
    Send(Vec<u8>),
    /// Written; the after-check starts at `until_ms`.
    Settle { until_ms: u64 },
}

#[derive(Debug, Clone)]
struct Job {
    token: u64,
    stage: Stage,
    receipt: Option<Vec<u8>>,
    step: Step,
}

/// The ESC/POS host state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct EscPosHost {
    one_way: bool,
    identify_at_open: bool,
    answer_timeout_ms: u64,
    settle_ms: u64,
    connected: bool,
    queue: VecDeque<(u64, PrinterRequest)>,
    job: Option<Job>,
    outputs: VecDeque<PrinterDone>,
    last_status: Option<PrinterStatus>,
    stats: PrinterStats,
    /// GS I requests still to send.
    identify: VecDeque<PrinterInfo>,
    asking: Option<Asking>,
    identity: DeviceIdentity,
}

fn query(kind: usize) -> Step {
    Step::Query {
        kind,
        answers: [0; 4],
        deadline_ms: None,
    }
}

impl EscPosHost {
    /// A host for a printer on a port not yet open.
    pub fn new(config: &EscPosConfig) -> EscPosHost {
        EscPosHost {
            one_way: config.one_way,
            identify_at_open: config.identify && !config.one_way,
            answer_timeout_ms: config.answer_timeout_ms,
            settle_ms: config.print_settle_ms,
            connected: false,
            queue: VecDeque::new(),
            job: None,
            outputs: VecDeque::new(),
            last_status: None,
            stats: PrinterStats::default(),
            identify: VecDeque::new(),
            asking: None,
            identity: DeviceIdentity::of(DeviceProtocol::EscPos),
        }
    }

    /// The port is open: the printer (perhaps another one) is identified
    /// again while idle; a one-way printer never is.
    pub fn port_opened(&mut self, _now_ms: u64) {
        self.connected = true;
        self.identity = DeviceIdentity::of(DeviceProtocol::EscPos);
        self.asking = None;
        self.identify = if self.identify_at_open {
            IDENTIFY.into()
        } else {
            VecDeque::new()
        };
    }

    /// What the printer said about itself (GS I n): model, firmware,
    /// maker, serial number; unknown fields stay `None`.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// The port vanished: everything in progress fails with `Offline`.
    pub fn port_closed(&mut self, _now_ms: u64) {
        self.connected = false;
        self.last_status = None;
        if let Some(job) = self.job.take() {
            self.finish(job.token, Err(ErrorKind::Offline));
        }
        while let Some((token, _)) = self.queue.pop_front() {
            self.finish(token, Err(ErrorKind::Offline));
        }
    }

    /// Queues a request; it finishes as a [`PrinterDone`] with `token`.
    pub fn request(&mut self, token: u64, request: PrinterRequest) {
        if !self.connected {
            self.finish(token, Err(ErrorKind::Offline));
        } else {
            self.queue.push_back((token, request));
        }
    }

    /// Whether the port is open.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The status read last (`None` before the first read or after an outage).
    pub fn last_status(&self) -> Option<PrinterStatus> {
        self.last_status
    }

    /// The counters.
    pub fn stats(&self) -> PrinterStats {
        self.stats
    }

    /// The next output to deliver.
    pub fn poll_output(&mut self) -> Option<PrinterDone> {
        self.outputs.pop_front()
    }

    /// Bytes to write now, if any. Call until `None`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        if !self.connected {
            return None;
        }
        self.check_timeout(now_ms);
        if self.job.is_none() && self.asking.is_some() {
            // One question at a time: a request waits for the answer.
            return self.identify_transmit(now_ms);
        }
        if self.job.is_none() && self.queue.is_empty() {
            return self.identify_transmit(now_ms);
        }
        if self.job.is_none() {
            let (token, request) = self.queue.pop_front()?;
            if self.one_way {
                return self.one_way_request(token, request);
            }
            let (stage, receipt) = match request {
                PrinterRequest::Status => (Stage::StatusOnly, None),
                PrinterRequest::Print(bytes) => (Stage::Before, Some(bytes)),
            };
            self.job = Some(Job {
                token,
                stage,
                receipt,
                step: query(0),
            });
        }
        let job = self.job.as_mut()?;
        match &mut job.step {
            Step::Query {
                kind,
                deadline_ms: deadline @ None,
                ..
            } => {
                *deadline = Some(now_ms + self.answer_timeout_ms);
                Some(real_time_status_request(StatusKind::ALL[*kind]).to_vec())
            }
            Step::Query { .. } => None,
            Step::Send(bytes) => {
                let bytes = std::mem::take(bytes);
                job.step = Step::Settle {
                    until_ms: now_ms + self.settle_ms,
                };
                Some(bytes)
            }
            Step::Settle { until_ms } if now_ms >= *until_ms => {
                job.stage = Stage::After;
                job.step = query(0);
                self.poll_transmit(now_ms)
            }
            Step::Settle { .. } => None,
        }
    }

    /// Bytes read from the port.
    pub fn handle_bytes(&mut self, _now_ms: u64, bytes: &[u8]) {
        for &byte in bytes {
            if self.asking.is_some() {
                self.identity_byte(byte);
            } else {
                self.handle_byte(byte);
            }
        }
    }

    /// When the host next wants to act, if it waits on time.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        if let Some(asking) = &self.asking {
            return Some(asking.deadline_ms);
        }
        match &self.job.as_ref()?.step {
            Step::Query { deadline_ms, .. } => *deadline_ms,
            Step::Settle { until_ms } => Some(*until_ms),
            Step::Send(_) => None,
        }
    }

    /// The next GS I n while idle, after the last one's answer or timeout.
    fn identify_transmit(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        if let Some(asking) = &self.asking {
            if now_ms < asking.deadline_ms {
                return None;
            }
            self.stats.identity_timeouts += 1;
            if asking.info == PrinterInfo::ModelName {
                // No text forms: the one-byte IDs instead.
                self.identify = IDENTIFY_BYTES.into();
            }
            self.asking = None;
        }
        let info = self.identify.pop_front()?;
        self.asking = Some(Asking {
            info,
            deadline_ms: now_ms + self.answer_timeout_ms,
            answer: Vec::new(),
        });
        Some(info.request().to_vec())
    }

    /// A byte of the answer to the GS I n in flight.
    fn identity_byte(&mut self, byte: u8) {
        let Some(asking) = self.asking.as_mut() else {
            return;
        };
        asking.answer.push(byte);
        loop {
            match InfoAnswer::parse(asking.info, &asking.answer) {
                Ok((answer, _)) => {
                    let info = asking.info;
                    self.asking = None;
                    self.learned(info, answer);
                    return;
                }
                Err(WireError::Truncated) => return,
                Err(_) => {
                    // Not the answer (a stray status byte): skip it.
                    self.stats.garbage_bytes += 1;
                    asking.answer.remove(0);
                    if asking.answer.is_empty() {
                        return;
                    }
                }
            }
        }
    }

    fn learned(&mut self, info: PrinterInfo, answer: InfoAnswer) {
        let id = &mut self.identity;
        let text = match answer {
            InfoAnswer::Text(t) if !t.is_empty() => t,
            InfoAnswer::Text(_) => return,
            InfoAnswer::Byte(b) => format!("0x{b:02X}"),
        };
        match info {
            PrinterInfo::ModelName => id.model = Some(text),
            PrinterInfo::ModelId => id.model = Some(format!("model id {text}")),
            PrinterInfo::FirmwareVersion => id.firmware = Some(text),
            PrinterInfo::FirmwareId => id.firmware = Some(format!("firmware id {text}")),
            PrinterInfo::Maker => id.manufacturer = Some(text),
            PrinterInfo::SerialNumber => id.serial = Some(text),
            PrinterInfo::TypeId | PrinterInfo::Fonts => {}
        }
    }

    fn one_way_request(&mut self, token: u64, request: PrinterRequest) -> Option<Vec<u8>> {
        match request {
            PrinterRequest::Status => {
                self.finish(token, Ok(PrinterReply::Status(PrinterStatus::Unknown)));
                None
            }
            PrinterRequest::Print(bytes) => {
                self.finish(token, Ok(PrinterReply::Printed(PrintOutcome::Unknown)));
                Some(bytes)
            }
        }
    }

    fn handle_byte(&mut self, byte: u8) {
        let Some(job) = self.job.as_mut() else {
            self.stats.garbage_bytes += 1;
            return;
        };
        let Step::Query {
            kind,
            answers,
            deadline_ms: Some(_),
        } = &mut job.step
        else {
            self.stats.garbage_bytes += 1;
            return;
        };
        let valid = match StatusKind::ALL[*kind] {
            StatusKind::Printer => PrinterState::parse(byte).is_ok(),
            StatusKind::OfflineCause => OfflineCause::parse(byte).is_ok(),
            StatusKind::ErrorCause => ErrorCause::parse(byte).is_ok(),
            StatusKind::PaperRoll => PaperRoll::parse(byte).is_ok(),
        };
        if !valid {
            self.stats.garbage_bytes += 1;
            return;
        }
        self.stats.status_bytes += 1;
        answers[*kind] = byte;
        if *kind + 1 < StatusKind::ALL.len() {
            job.step = Step::Query {
                kind: *kind + 1,
                answers: *answers,
                deadline_ms: None,
            };
            return;
        }
        let answers = *answers;
        let Some(job) = self.job.take() else { return };
        // Every byte was checked above, so this parse succeeds.
        let status = RealTimeStatus::parse(answers)
            .map(|s| s.printer_status())
            .unwrap_or(PrinterStatus::Offline);
        self.last_status = Some(status);
        self.status_read(job, status);
    }

    fn status_read(&mut self, mut job: Job, status: PrinterStatus) {
        let token = job.token;
        match job.stage {
            Stage::StatusOnly => self.finish(token, Ok(PrinterReply::Status(status))),
            Stage::Before if status.can_print() => {
                job.step = Step::Send(job.receipt.take().unwrap_or_default());
                self.job = Some(job);
            }
            Stage::Before => self.finish(token, Err(failure_kind(status))),
            Stage::After => match status {
                PrinterStatus::Ready | PrinterStatus::PaperNearEnd => {
                    self.finish(token, Ok(PrinterReply::Printed(PrintOutcome::Printed)))
                }
                other => self.finish(token, Err(failure_kind(other))),
            },
        }
    }

    fn check_timeout(&mut self, now_ms: u64) {
        let timed_out = matches!(
            self.job.as_ref().map(|j| &j.step),
            Some(Step::Query { deadline_ms: Some(d), .. }) if now_ms >= *d
        );
        if !timed_out {
            return;
        }
        self.stats.timeouts += 1;
        self.last_status = None;
        if let Some(job) = self.job.take() {
            let result = match job.stage {
                // The receipt went out but nothing proves it printed.
                Stage::After => Ok(PrinterReply::Printed(PrintOutcome::Unknown)),
                Stage::StatusOnly | Stage::Before => Err(ErrorKind::Offline),
            };
            self.finish(job.token, result);
        }
    }

    fn finish(&mut self, token: u64, result: Result<PrinterReply, ErrorKind>) {
        self.outputs.push_back(PrinterDone { token, result });
    }
}

/// The error kind for a status that stops (or stopped) a receipt.
pub fn failure_kind(status: PrinterStatus) -> ErrorKind {
    match status {
        PrinterStatus::PaperOut => ErrorKind::PaperOut,
        PrinterStatus::CoverOpen => ErrorKind::CoverOpen,
        PrinterStatus::Jammed => ErrorKind::Jam,
        PrinterStatus::Unrecoverable => ErrorKind::Hardware,
        PrinterStatus::Offline => ErrorKind::Offline,
        _ => ErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(one_way: bool) -> EscPosHost {
        let config = EscPosConfig {
            one_way,
            identify: false,
            answer_timeout_ms: 100,
            print_settle_ms: 50,
            ..EscPosConfig::for_port("/dev/null")
        };
        let mut h = EscPosHost::new(&config);
        h.port_opened(0);
        h
    }

    /// Answers four queries with `status`'s bytes, checking each request.
    fn answer_all(h: &mut EscPosHost, now: u64, status: PrinterStatus) {
        let answers = RealTimeStatus::from_printer_status(status)
            .unwrap()
            .answers();
        for (i, byte) in answers.iter().enumerate() {
            let n = u8::try_from(i + 1).unwrap();
            assert_eq!(h.poll_transmit(now), Some(vec![0x10, 0x04, n]));
            h.handle_bytes(now, &[*byte]);
        }
    }

    fn result(h: &mut EscPosHost) -> Result<PrinterReply, ErrorKind> {
        h.poll_output().expect("finished").result
    }

    #[test]
    fn status_reads_four_bytes_and_skips_garbage() {
        let mut h = host(false);
        h.request(1, PrinterRequest::Status);
        assert_eq!(h.poll_transmit(0), Some(vec![0x10, 0x04, 1]));
        h.handle_bytes(0, &[0xFF, 0x00]); // lack the fixed bits
        h.handle_bytes(0, &[0x12]);
        for n in 2..=4u8 {
            assert_eq!(h.poll_transmit(0), Some(vec![0x10, 0x04, n]));
            h.handle_bytes(0, &[0x12]);
        }
        assert_eq!(
            result(&mut h),
            Ok(PrinterReply::Status(PrinterStatus::Ready))
        );
        assert_eq!(h.stats().garbage_bytes, 2);
    }

    #[test]
    fn prints_between_two_good_checks() {
        let mut h = host(false);
        h.request(1, PrinterRequest::Print(b"receipt".to_vec()));
        answer_all(&mut h, 0, PrinterStatus::Ready);
        assert_eq!(h.poll_transmit(0), Some(b"receipt".to_vec()));
        assert_eq!(h.poll_transmit(10), None, "settling");
        answer_all(&mut h, 50, PrinterStatus::PaperNearEnd);
        let printed = Ok(PrinterReply::Printed(PrintOutcome::Printed));
        assert_eq!(result(&mut h), printed);
    }

    #[test]
    fn paper_out_before_or_after_is_an_error() {
        let mut h = host(false);
        h.request(1, PrinterRequest::Print(b"r".to_vec()));
        answer_all(&mut h, 0, PrinterStatus::PaperOut);
        assert_eq!(result(&mut h), Err(ErrorKind::PaperOut));
        h.request(2, PrinterRequest::Print(b"r".to_vec()));
        answer_all(&mut h, 0, PrinterStatus::Ready);
        assert_eq!(h.poll_transmit(0), Some(b"r".to_vec()));
        answer_all(&mut h, 60, PrinterStatus::PaperOut);
        assert_eq!(result(&mut h), Err(ErrorKind::PaperOut));
    }

    #[test]
    fn no_answer_after_printing_is_unknown_never_printed() {
        let mut h = host(false);
        h.request(1, PrinterRequest::Print(b"r".to_vec()));
        answer_all(&mut h, 0, PrinterStatus::Ready);
        assert_eq!(h.poll_transmit(0), Some(b"r".to_vec()));
        assert_eq!(h.poll_transmit(50), Some(vec![0x10, 0x04, 1]));
        assert_eq!(h.poll_transmit(150), None);
        let unknown = Ok(PrinterReply::Printed(PrintOutcome::Unknown));
        assert_eq!(result(&mut h), unknown);
        h.request(2, PrinterRequest::Status);
        assert_eq!(h.poll_transmit(200), Some(vec![0x10, 0x04, 1]));
        assert_eq!(h.poll_transmit(300), None);
        assert_eq!(result(&mut h), Err(ErrorKind::Offline));
    }

    #[test]
    fn one_way_printers_never_claim_a_receipt() {
        let mut h = host(true);
        h.request(1, PrinterRequest::Status);
        assert_eq!(h.poll_transmit(0), None);
        assert_eq!(
            result(&mut h),
            Ok(PrinterReply::Status(PrinterStatus::Unknown))
        );
        h.request(2, PrinterRequest::Print(b"r".to_vec()));
        assert_eq!(h.poll_transmit(0), Some(b"r".to_vec()));
        let unknown = Ok(PrinterReply::Printed(PrintOutcome::Unknown));
        assert_eq!(result(&mut h), unknown);
    }

    #[test]
    fn a_closed_port_fails_everything_with_offline() {
        let mut h = host(false);
        h.request(1, PrinterRequest::Status);
        h.request(2, PrinterRequest::Status);
        assert!(h.poll_transmit(0).is_some());
        h.port_closed(0);
        assert_eq!(result(&mut h), Err(ErrorKind::Offline));
        assert_eq!(result(&mut h), Err(ErrorKind::Offline));
        h.request(3, PrinterRequest::Status);
        assert_eq!(result(&mut h), Err(ErrorKind::Offline));
    }

    #[test]
    fn the_identity_is_read_while_idle_and_requests_wait_for_the_answer_in_flight() {
        let config = EscPosConfig {
            answer_timeout_ms: 100,
            ..EscPosConfig::for_port("/dev/null")
        };
        let mut h = EscPosHost::new(&config);
        h.port_opened(0);
        assert_eq!(h.poll_transmit(0), Some(vec![0x1D, 0x49, 67]));
        // A status request waits for the answer in flight.
        h.request(1, PrinterRequest::Status);
        assert_eq!(h.poll_transmit(1), None);
        h.handle_bytes(2, b"\x5FRP-U");
        h.handle_bytes(3, b"420\x00");
        assert_eq!(h.identity().model.as_deref(), Some("RP-U420"));
        answer_all(&mut h, 4, PrinterStatus::Ready);
        assert_eq!(
            result(&mut h),
            Ok(PrinterReply::Status(PrinterStatus::Ready))
        );
        // Then the rest, idle: firmware, maker (a stray status byte before
        // it is skipped), serial (unanswered).
        assert_eq!(h.poll_transmit(5), Some(vec![0x1D, 0x49, 65]));
        h.handle_bytes(6, b"\x5F1.28\x00");
        assert_eq!(h.poll_transmit(7), Some(vec![0x1D, 0x49, 66]));
        h.handle_bytes(8, b"\x16\x5FEPSON\x00");
        assert_eq!(h.poll_transmit(9), Some(vec![0x1D, 0x49, 68]));
        assert_eq!(h.poll_transmit(200), None);
        let id = h.identity();
        assert_eq!(id.firmware.as_deref(), Some("1.28"));
        assert_eq!(id.manufacturer.as_deref(), Some("EPSON"));
        assert_eq!(id.serial, None);
        assert_eq!(h.stats().identity_timeouts, 1);
        assert_eq!(h.stats().garbage_bytes, 1);
    }

    #[test]
    fn a_printer_without_the_text_forms_is_asked_the_one_byte_ids() {
        let config = EscPosConfig {
            answer_timeout_ms: 100,
            ..EscPosConfig::for_port("/dev/null")
        };
        let mut h = EscPosHost::new(&config);
        h.port_opened(0);
        assert_eq!(h.poll_transmit(0), Some(vec![0x1D, 0x49, 67]));
        assert_eq!(h.poll_transmit(100), Some(vec![0x1D, 0x49, 1]));
        h.handle_bytes(101, &[0x2C]);
        assert_eq!(h.poll_transmit(102), Some(vec![0x1D, 0x49, 3]));
        h.handle_bytes(103, &[0x02]);
        assert_eq!(h.poll_transmit(104), None);
        let id = h.identity();
        assert_eq!(id.model.as_deref(), Some("model id 0x2C"));
        assert_eq!(id.firmware.as_deref(), Some("firmware id 0x02"));
        // A one-way printer is never asked.
        let mut one_way = host(true);
        assert_eq!(one_way.poll_transmit(0), None);
    }
}
