//! Replays decoded commands into the lines a printer would print.

use super::PrinterCommand;
use crate::ReceiptLine;

/// The paper coming out of an emulated printer: decoded commands in,
/// [`ReceiptLine`]s out.
///
/// - Text is collected until LF, ESC d, a QR print or a cut ends the line;
///   a line is [`ReceiptLine::Bold`] if bold was on when its first text came.
/// - LF with no text gives an empty `Text` line; feeds add no lines.
/// - QR print adds a [`ReceiptLine::Qr`] with the stored data.
/// - An image or a barcode ends the line before it but adds no line
///   ([`ReceiptLine`] has no kind for them).
/// - A cut closes the receipt: its lines move to
///   [`cut_receipts`](Paper::cut_receipts).
/// - ESC @ discards the unprinted line, the stored QR data and bold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paper {
    bold: bool,
    line: Option<(String, bool)>,
    qr_data: Option<String>,
    lines: Vec<ReceiptLine>,
    cut: Vec<Vec<ReceiptLine>>,
}

impl Paper {
    /// Blank paper.
    pub fn new() -> Paper {
        Paper::default()
    }

    /// Applies one command.
    pub fn apply(&mut self, cmd: &PrinterCommand) {
        match cmd {
            PrinterCommand::Init => {
                self.bold = false;
                self.line = None;
                self.qr_data = None;
            }
            PrinterCommand::Text(t) => {
                let bold = self.bold;
                self.line
                    .get_or_insert_with(|| (String::new(), bold))
                    .0
                    .push_str(t);
            }
            PrinterCommand::Bold(on) => self.bold = *on,
            PrinterCommand::LineFeed => {
                let line = self.take_line().unwrap_or(ReceiptLine::Text(String::new()));
                self.lines.push(line);
            }
            PrinterCommand::Feed(_) => self.end_line(),
            PrinterCommand::Cut(_) => {
                self.end_line();
                let receipt = std::mem::take(&mut self.lines);
                self.cut.push(receipt);
            }
            PrinterCommand::QrStore(data) => self.qr_data = Some(data.clone()),
            PrinterCommand::QrPrint => {
                self.end_line();
                if let Some(data) = &self.qr_data {
                    self.lines.push(ReceiptLine::Qr(data.clone()));
                }
            }
            // An image or barcode prints below the text before it.
            PrinterCommand::Image(_) | PrinterCommand::Barcode { .. } => self.end_line(),
            PrinterCommand::ChineseMode(_)
            | PrinterCommand::QrSetting(_)
            | PrinterCommand::DrawerPulse { .. }
            | PrinterCommand::RealTimeStatus(_)
            | PrinterCommand::AutoStatusBack(_)
            | PrinterCommand::TransmitPrinterId(_)
            | PrinterCommand::Ignored { .. }
            | PrinterCommand::Unknown(_) => {}
        }
    }

    /// Lines printed since the last cut (the unfinished line not included).
    pub fn uncut_lines(&self) -> &[ReceiptLine] {
        &self.lines
    }

    /// The receipts cut off so far, oldest first.
    pub fn cut_receipts(&self) -> &[Vec<ReceiptLine>] {
        &self.cut
    }

    /// Takes the receipts cut off so far.
    pub fn take_cut_receipts(&mut self) -> Vec<Vec<ReceiptLine>> {
        std::mem::take(&mut self.cut)
    }

    fn take_line(&mut self) -> Option<ReceiptLine> {
        self.line.take().map(|(text, bold)| {
            if bold {
                ReceiptLine::Bold(text)
            } else {
                ReceiptLine::Text(text)
            }
        })
    }

    fn end_line(&mut self) {
        if let Some(line) = self.take_line() {
            self.lines.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{render_receipt, CommandDecoder};
    use super::*;
    use crate::Receipt;

    #[test]
    fn replays_a_rendered_receipt() {
        let lines = vec![
            ReceiptLine::Bold("缴费凭据".into()),
            ReceiptLine::Text("金额: CNY 50.00".into()),
            ReceiptLine::Text(String::new()),
            ReceiptLine::Qr("TX-2024-0001".into()),
        ];
        let bytes = render_receipt(&Receipt {
            reference: "TX-2024-0001".into(),
            lines: lines.clone(),
        });
        let mut d = CommandDecoder::new();
        d.push(&bytes);
        let mut paper = Paper::new();
        while let Some(cmd) = d.next_command() {
            paper.apply(&cmd);
        }
        assert_eq!(paper.cut_receipts(), &[lines]);
        assert!(paper.uncut_lines().is_empty());
        assert_eq!(paper.take_cut_receipts().len(), 1);
        assert!(paper.cut_receipts().is_empty());
    }

    #[test]
    fn init_discards_the_unprinted_line() {
        let mut paper = Paper::new();
        for cmd in [
            PrinterCommand::Bold(true),
            PrinterCommand::Text("lost".into()),
            PrinterCommand::Init,
            PrinterCommand::Text("kept".into()),
            PrinterCommand::Feed(2),
            PrinterCommand::LineFeed,
        ] {
            paper.apply(&cmd);
        }
        assert_eq!(
            paper.uncut_lines(),
            &[
                ReceiptLine::Text("kept".into()),
                ReceiptLine::Text(String::new())
            ]
        );
    }
}
