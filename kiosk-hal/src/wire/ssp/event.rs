//! Poll events: what follows `F0` in the answer to POLL / POLL WITH ACK,
//! and the reject codes of LAST REJECT CODE.

use crate::wire::WireError;
use crate::RejectReason;

/// One poll event of a note validator. Several can come in one answer, in
/// the order they happened.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// 0xF1: the unit has (re)started.
    SlaveReset,
    /// 0xEF n: a note is being read (n = 0) or is held in escrow on channel n.
    Read(u8),
    /// 0xEE n: the note on channel n passed the point of no return: credit it.
    Credit(u8),
    /// 0xED: a note is being rejected.
    Rejecting,
    /// 0xEC: a note was rejected and given back (LAST REJECT CODE says why).
    Rejected,
    /// 0xCC: a note is being stacked.
    Stacking,
    /// 0xEB: a note reached the stacker.
    Stacked,
    /// 0xEA: a note is jammed where it cannot be reached from the front
    /// (⚠ older manuals only).
    SafeJam,
    /// 0xE9: a note is jammed where it might be pulled from the front.
    UnsafeJam,
    /// 0xE8: the unit is disabled.
    Disabled,
    /// 0xE7: the stacker is full.
    StackerFull,
    /// 0xE6 n: a fraud attempt (a note on channel n was pulled back…).
    FraudAttempt(u8),
    /// 0xE1 n: at power-up, a note of channel n was found and given back to the front.
    NoteClearedFromFront(u8),
    /// 0xE2 n: at power-up, a note of channel n was found and put into the cash box.
    NoteClearedIntoCashbox(u8),
    /// 0xE3: the cash box was removed.
    CashboxRemoved,
    /// 0xE4: the cash box is back.
    CashboxReplaced,
    /// 0xE5: a bar-code ticket is held in escrow.
    BarcodeTicketValidated,
    /// 0xD1: a bar-code ticket was stacked.
    BarcodeTicketAck,
    /// 0xE0: the note path is open.
    NotePathOpen,
    /// 0xB5: every channel is inhibited.
    ChannelDisable,
    /// 0xB6: the unit is initialising after a reset.
    Initialising,
}

impl Event {
    /// The event byte.
    pub fn code(&self) -> u8 {
        match self {
            Event::SlaveReset => 0xF1,
            Event::Read(_) => 0xEF,
            Event::Credit(_) => 0xEE,
            Event::Rejecting => 0xED,
            Event::Rejected => 0xEC,
            Event::Stacking => 0xCC,
            Event::Stacked => 0xEB,
            Event::SafeJam => 0xEA,
            Event::UnsafeJam => 0xE9,
            Event::Disabled => 0xE8,
            Event::StackerFull => 0xE7,
            Event::FraudAttempt(_) => 0xE6,
            Event::NoteClearedFromFront(_) => 0xE1,
            Event::NoteClearedIntoCashbox(_) => 0xE2,
            Event::CashboxRemoved => 0xE3,
            Event::CashboxReplaced => 0xE4,
            Event::BarcodeTicketValidated => 0xE5,
            Event::BarcodeTicketAck => 0xD1,
            Event::NotePathOpen => 0xE0,
            Event::ChannelDisable => 0xB5,
            Event::Initialising => 0xB6,
        }
    }

    /// The channel byte, for the events that carry one.
    pub fn channel(&self) -> Option<u8> {
        match *self {
            Event::Read(n)
            | Event::Credit(n)
            | Event::FraudAttempt(n)
            | Event::NoteClearedFromFront(n)
            | Event::NoteClearedIntoCashbox(n) => Some(n),
            _ => None,
        }
    }

    /// Whether POLL WITH ACK repeats this event until EVENT ACK (⚠ the
    /// credit-type events; the manual's list is longer for payout units).
    pub fn needs_ack(&self) -> bool {
        matches!(
            self,
            Event::Credit(_)
                | Event::FraudAttempt(_)
                | Event::NoteClearedFromFront(_)
                | Event::NoteClearedIntoCashbox(_)
        )
    }

    /// Reads every event in the data after `F0`.
    ///
    /// Errors: [`WireError::UnknownCommand`] for an event byte this codec
    /// does not know (its length is unknown, so the rest cannot be
    /// delimited), [`WireError::BadData`] when a channel byte is missing.
    pub fn parse_all(mut data: &[u8]) -> Result<Vec<Event>, WireError> {
        let mut events = Vec::new();
        while let Some((&code, rest)) = data.split_first() {
            let simple = match code {
                0xF1 => Some(Event::SlaveReset),
                0xED => Some(Event::Rejecting),
                0xEC => Some(Event::Rejected),
                0xCC => Some(Event::Stacking),
                0xEB => Some(Event::Stacked),
                0xEA => Some(Event::SafeJam),
                0xE9 => Some(Event::UnsafeJam),
                0xE8 => Some(Event::Disabled),
                0xE7 => Some(Event::StackerFull),
                0xE3 => Some(Event::CashboxRemoved),
                0xE4 => Some(Event::CashboxReplaced),
                0xE5 => Some(Event::BarcodeTicketValidated),
                0xD1 => Some(Event::BarcodeTicketAck),
                0xE0 => Some(Event::NotePathOpen),
                0xB5 => Some(Event::ChannelDisable),
                0xB6 => Some(Event::Initialising),
                _ => None,
            };
            if let Some(event) = simple {
                events.push(event);
                data = rest;
                continue;
            }
            let with_channel: fn(u8) -> Event = match code {
                0xEF => Event::Read,
                0xEE => Event::Credit,
                0xE6 => Event::FraudAttempt,
                0xE1 => Event::NoteClearedFromFront,
                0xE2 => Event::NoteClearedIntoCashbox,
                other => return Err(WireError::UnknownCommand(other)),
            };
            let (&channel, rest) = rest
                .split_first()
                .ok_or(WireError::BadData { cmd: code, len: 0 })?;
            events.push(with_channel(channel));
            data = rest;
        }
        Ok(events)
    }

    /// The bytes of `events` after `F0`.
    pub fn emit_all(events: &[Event]) -> Vec<u8> {
        let mut out = Vec::with_capacity(events.len() * 2);
        for e in events {
            out.push(e.code());
            if let Some(n) = e.channel() {
                out.push(n);
            }
        }
        out
    }
}

/// The answer to LAST REJECT CODE (0x17), one byte (source: ITL GA138, and
/// the same table in the kybarg Node.js driver's `reject_note.js`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RejectCode(pub u8);

impl RejectCode {
    /// 0x08: the host rejected the note held in escrow.
    pub const BY_HOST: RejectCode = RejectCode(0x08);
    /// 0x06: the channel is inhibited in the dataset.
    pub const CHANNEL_INHIBIT: RejectCode = RejectCode(0x06);
    /// 0x0C: the channel is inhibited by the host.
    pub const DISABLED_BY_HOST: RejectCode = RejectCode(0x0C);
    /// 0x02: validation failed (average fail): not recognised.
    pub const NOT_RECOGNISED: RejectCode = RejectCode(0x02);
    /// 0x01: the note's length is out of range.
    pub const LENGTH_FAIL: RejectCode = RejectCode(0x01);
    /// 0x0D: the mechanism moved too slowly.
    pub const SLOW_MECH: RejectCode = RejectCode(0x0D);
    /// 0x13: the host did not answer within the escrow timeout.
    pub const ESCROW_TIMEOUT: RejectCode = RejectCode(0x13);

    /// The generic reason.
    pub fn reason(&self) -> RejectReason {
        match self.0 {
            // Validation failures: length, average, coastline, graph,
            // buried, cross channel, peak detect, twisted, lens,
            // width, short note.
            0x01..=0x05 | 0x09 | 0x0B | 0x11 | 0x12 | 0x18..=0x1A => RejectReason::Counterfeit,
            0x06 | 0x0C => RejectReason::Inhibited,
            // Second note, no notes seen, double note.
            0x07 | 0x10 | 0x1C => RejectReason::Insertion,
            // Rear sensor, slow mechanism, slot fails, unable to stack.
            0x0A | 0x0D | 0x16 | 0x17 | 0x1D => RejectReason::Transport,
            0x08 | 0x13 => RejectReason::HostReturned,
            _ => RejectReason::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips() {
        let all = [
            Event::SlaveReset,
            Event::Read(0),
            Event::Read(3),
            Event::Credit(3),
            Event::Rejecting,
            Event::Rejected,
            Event::Stacking,
            Event::Stacked,
            Event::SafeJam,
            Event::UnsafeJam,
            Event::Disabled,
            Event::StackerFull,
            Event::FraudAttempt(2),
            Event::NoteClearedFromFront(1),
            Event::NoteClearedIntoCashbox(4),
            Event::CashboxRemoved,
            Event::CashboxReplaced,
            Event::BarcodeTicketValidated,
            Event::BarcodeTicketAck,
            Event::NotePathOpen,
            Event::ChannelDisable,
            Event::Initialising,
        ];
        let bytes = Event::emit_all(&all);
        assert_eq!(Event::parse_all(&bytes), Ok(all.to_vec()));
    }

    #[test]
    fn a_worked_poll_answer() {
        // `7F 00 04 F0 EE 02 CC E0 C2`: credit channel 2, stacking.
        assert_eq!(
            Event::parse_all(&[0xEE, 0x02, 0xCC]),
            Ok(vec![Event::Credit(2), Event::Stacking])
        );
    }

    #[test]
    fn defects_are_errors() {
        assert_eq!(
            Event::parse_all(&[0xCC, 0x42]),
            Err(WireError::UnknownCommand(0x42))
        );
        assert_eq!(
            Event::parse_all(&[0xEE]),
            Err(WireError::BadData { cmd: 0xEE, len: 0 })
        );
        assert_eq!(Event::parse_all(&[]), Ok(vec![]));
    }

    #[test]
    fn reject_codes_have_generic_reasons() {
        assert_eq!(RejectCode(0x02).reason(), RejectReason::Counterfeit);
        assert_eq!(RejectCode::BY_HOST.reason(), RejectReason::HostReturned);
        assert_eq!(RejectCode(0x06).reason(), RejectReason::Inhibited);
        assert_eq!(RejectCode(0x07).reason(), RejectReason::Insertion);
        assert_eq!(RejectCode(0x0D).reason(), RejectReason::Transport);
        assert_eq!(RejectCode(0xFF).reason(), RejectReason::Other);
    }
}
