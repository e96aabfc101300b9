//! Host commands (host to validator).

use super::{FrameRepr, WireError, ADDR_BILL_VALIDATOR};

/// A set of bill types 0–23, one bit each, as CCNET sends it: three bytes,
/// most significant first (byte 0 holds types 23–16, byte 2 types 7–0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BillMask(u32);

impl BillMask {
    /// No bill type.
    pub const NONE: BillMask = BillMask(0);
    /// All 24 bill types.
    pub const ALL: BillMask = BillMask(0x00FF_FFFF);

    /// The set of these bill types; types above 23 are ignored.
    pub fn of(types: impl IntoIterator<Item = u8>) -> BillMask {
        BillMask(
            types
                .into_iter()
                .filter(|&t| t < 24)
                .fold(0, |m, t| m | (1 << t)),
        )
    }

    /// Whether bill type `t` is in the set.
    pub fn contains(&self, t: u8) -> bool {
        t < 24 && self.0 & (1 << t) != 0
    }

    /// The three bytes on the wire.
    pub fn to_bytes(&self) -> [u8; 3] {
        let [_, a, b, c] = self.0.to_be_bytes();
        [a, b, c]
    }

    /// The set three wire bytes describe.
    pub fn from_bytes(bytes: [u8; 3]) -> BillMask {
        BillMask(u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]))
    }
}

/// A command from the host to the validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostCommand {
    /// 0x00: ACK, the host's receipt of a good answer (every POLL answer is
    /// acknowledged; the validator repeats an unacknowledged one).
    Ack,
    /// 0xFF: NAK, the host's report of a corrupted answer: send it again.
    Nak,
    /// 0x30: reset.
    Reset,
    /// 0x31: get status (enabled and escrow masks).
    GetStatus,
    /// 0x32: set security levels per bill type.
    SetSecurity(BillMask),
    /// 0x33: poll.
    Poll,
    /// 0x34: enable these bill types; those in `escrow` stop in escrow
    /// for STACK or RETURN, the others are stacked at once.
    EnableBillTypes {
        /// The types accepted.
        enabled: BillMask,
        /// The types held in escrow.
        escrow: BillMask,
    },
    /// 0x35: stack the escrowed bill.
    Stack,
    /// 0x36: return the escrowed bill.
    Return,
    /// 0x37: identification (part number, serial number, asset number).
    Identification,
    /// 0x38: hold the bill in escrow a while longer (⚠ about 10 s).
    Hold,
    /// 0x41: get the bill table (24 entries).
    GetBillTable,
}

impl HostCommand {
    /// The command byte.
    pub fn code(&self) -> u8 {
        match self {
            HostCommand::Ack => 0x00,
            HostCommand::Nak => 0xFF,
            HostCommand::Reset => 0x30,
            HostCommand::GetStatus => 0x31,
            HostCommand::SetSecurity(_) => 0x32,
            HostCommand::Poll => 0x33,
            HostCommand::EnableBillTypes { .. } => 0x34,
            HostCommand::Stack => 0x35,
            HostCommand::Return => 0x36,
            HostCommand::Identification => 0x37,
            HostCommand::Hold => 0x38,
            HostCommand::GetBillTable => 0x41,
        }
    }

    /// The frame to send to the bill validator.
    pub fn to_frame(&self) -> FrameRepr {
        let mut payload = vec![self.code()];
        match self {
            HostCommand::SetSecurity(mask) => payload.extend_from_slice(&mask.to_bytes()),
            HostCommand::EnableBillTypes { enabled, escrow } => {
                payload.extend_from_slice(&enabled.to_bytes());
                payload.extend_from_slice(&escrow.to_bytes());
            }
            _ => {}
        }
        FrameRepr::new(ADDR_BILL_VALIDATOR, payload)
    }

    /// The frame's bytes, ready for the port (at most 12 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        // At most 7 payload bytes: emitting cannot fail.
        self.to_frame().to_bytes().unwrap_or_default()
    }

    /// The command a frame carries (the emulator's side).
    ///
    /// Errors: [`WireError::UnknownCommand`] for a code not listed here (a
    /// validator answers ILLEGAL COMMAND), [`WireError::BadData`] for data of
    /// the wrong length.
    pub fn from_frame(frame: &FrameRepr) -> Result<HostCommand, WireError> {
        let Some((&cmd, data)) = frame.payload.split_first() else {
            return Err(WireError::BadLength(0));
        };
        let bad = WireError::BadData {
            cmd,
            len: data.len(),
        };
        let mask = |d: &[u8]| <[u8; 3]>::try_from(d).map(BillMask::from_bytes);
        let plain = match cmd {
            0x00 => HostCommand::Ack,
            0xFF => HostCommand::Nak,
            0x30 => HostCommand::Reset,
            0x31 => HostCommand::GetStatus,
            0x32 => return mask(data).map(HostCommand::SetSecurity).map_err(|_| bad),
            0x33 => HostCommand::Poll,
            0x34 => {
                let (enabled, escrow) = match data {
                    [a, b, c, d, e, f] => (
                        BillMask::from_bytes([*a, *b, *c]),
                        BillMask::from_bytes([*d, *e, *f]),
                    ),
                    _ => return Err(bad),
                };
                return Ok(HostCommand::EnableBillTypes { enabled, escrow });
            }
            0x35 => HostCommand::Stack,
            0x36 => HostCommand::Return,
            0x37 => HostCommand::Identification,
            0x38 => HostCommand::Hold,
            0x41 => HostCommand::GetBillTable,
            _ => return Err(WireError::UnknownCommand(cmd)),
        };
        if data.is_empty() {
            Ok(plain)
        } else {
            Err(bad)
        }
    }

    /// Parses the command frame at the start of `buf`; returns it and the bytes it used.
    pub fn parse(buf: &[u8]) -> Result<(HostCommand, usize), WireError> {
        let (frame, n) = FrameRepr::parse(buf)?;
        Ok((HostCommand::from_frame(&frame)?, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ccnet::tests::REFERENCE;

    #[test]
    fn commands_emit_the_reference_frames() {
        let reference = |name: &str| {
            REFERENCE
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| b.to_vec())
                .unwrap()
        };
        let cases = [
            (HostCommand::Reset, "RESET"),
            (HostCommand::GetStatus, "GET STATUS"),
            (HostCommand::Poll, "POLL"),
            (HostCommand::Stack, "STACK"),
            (HostCommand::Return, "RETURN"),
            (HostCommand::Identification, "IDENTIFICATION"),
            (HostCommand::Hold, "HOLD"),
            (HostCommand::GetBillTable, "GET BILL TABLE"),
            (HostCommand::Ack, "ACK"),
            (HostCommand::Nak, "NAK"),
            (
                HostCommand::EnableBillTypes {
                    enabled: BillMask::ALL,
                    escrow: BillMask::ALL,
                },
                "ENABLE all, escrow all",
            ),
            (
                HostCommand::EnableBillTypes {
                    enabled: BillMask::NONE,
                    escrow: BillMask::NONE,
                },
                "ENABLE none",
            ),
            (
                HostCommand::EnableBillTypes {
                    enabled: BillMask::of([2, 3, 4]),
                    escrow: BillMask::of([4, 3, 2]),
                },
                "ENABLE types 2-4 with escrow",
            ),
        ];
        for (cmd, name) in cases {
            let bytes = reference(name);
            assert_eq!(cmd.to_bytes(), bytes, "{name}");
            assert_eq!(HostCommand::parse(&bytes), Ok((cmd, bytes.len())), "{name}");
        }
    }

    #[test]
    fn masks_are_big_endian_bit_per_type() {
        let m = BillMask::of([0, 8, 23, 24]);
        assert_eq!(m.to_bytes(), [0x80, 0x01, 0x01]);
        assert!(m.contains(23) && m.contains(0) && !m.contains(24) && !m.contains(1));
        assert_eq!(BillMask::from_bytes(m.to_bytes()), m);
    }

    #[test]
    fn rejects_bad_data_and_unknown_codes() {
        let frame = |p: &[u8]| FrameRepr::new(3, p.to_vec());
        assert_eq!(
            HostCommand::from_frame(&frame(&[0x34, 0xFF])),
            Err(WireError::BadData { cmd: 0x34, len: 1 })
        );
        assert_eq!(
            HostCommand::from_frame(&frame(&[0x33, 0x00])),
            Err(WireError::BadData { cmd: 0x33, len: 1 })
        );
        assert_eq!(
            HostCommand::from_frame(&frame(&[0x50])),
            Err(WireError::UnknownCommand(0x50))
        );
        assert_eq!(
            HostCommand::from_frame(&frame(&[])),
            Err(WireError::BadLength(0))
        );
    }
}
