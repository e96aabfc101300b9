//! The validator's answers: poll states with their reject and failure
//! codes, and the one-byte replies.

use super::{FrameRepr, WireError, ADDR_BILL_VALIDATOR};
use crate::RejectReason;

/// A byte-coded enum with an `Unknown(u8)` fallback and lossless
/// `from_byte` / `to_byte`.
macro_rules! byte_code {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $var:ident = $val:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $var, )*
            /// A code not listed above (the byte as received).
            Unknown(u8),
        }

        impl $name {
            /// The code for a byte; bytes not listed give `Unknown`.
            pub const fn from_byte(b: u8) -> $name {
                match b {
                    $( $val => $name::$var, )*
                    other => $name::Unknown(other),
                }
            }

            /// The byte on the wire.
            pub const fn to_byte(self) -> u8 {
                match self {
                    $( $name::$var => $val, )*
                    $name::Unknown(b) => b,
                }
            }
        }
    };
}

byte_code! {
    /// Why the validator rejected a bill: the second byte of state 0x1C.
    pub enum RejectCode {
        /// 0x60: insertion error.
        Insertion = 0x60,
        /// 0x61: magnetic pattern error.
        Magnetic = 0x61,
        /// 0x62: a bill remained in the head.
        RemainedInHead = 0x62,
        /// 0x63: multiplying (more than one bill) error.
        Multiplying = 0x63,
        /// 0x64: conveying (transport) error.
        Conveying = 0x64,
        /// 0x65: identification (denomination) error.
        Identification = 0x65,
        /// 0x66: verification error.
        Verification = 0x66,
        /// 0x67: optic error.
        Optic = 0x67,
        /// 0x68: the bill type is inhibited.
        Inhibit = 0x68,
        /// 0x69: capacity error.
        Capacity = 0x69,
        /// 0x6A: operation error.
        Operation = 0x6A,
        /// 0x6C: length error.
        Length = 0x6C,
        /// 0x6D: UV error.
        Uv = 0x6D,
        /// 0x92: unrecognised barcode.
        BarcodeUnrecognised = 0x92,
        /// 0x93: wrong number of barcode characters.
        BarcodeLength = 0x93,
        /// 0x94: unknown barcode start sequence.
        BarcodeStart = 0x94,
        /// 0x95: unknown barcode stop sequence.
        BarcodeStop = 0x95,
    }
}

impl RejectCode {
    /// The generic reason the core acts on: magnetic, identification,
    /// verification, optic and UV failures are counterfeits; inhibit is
    /// [`Inhibited`](RejectReason::Inhibited); insertion, length and a bill
    /// left in the head are [`Insertion`](RejectReason::Insertion);
    /// conveying is [`Transport`](RejectReason::Transport); the rest
    /// [`Other`](RejectReason::Other).
    pub fn reason(self) -> RejectReason {
        match self {
            RejectCode::Magnetic
            | RejectCode::Identification
            | RejectCode::Verification
            | RejectCode::Optic
            | RejectCode::Uv => RejectReason::Counterfeit,
            RejectCode::Inhibit => RejectReason::Inhibited,
            RejectCode::Insertion | RejectCode::Length | RejectCode::RemainedInHead => {
                RejectReason::Insertion
            }
            RejectCode::Conveying => RejectReason::Transport,
            _ => RejectReason::Other,
        }
    }
}

byte_code! {
    /// A hardware failure: the second byte of state 0x47.
    pub enum FailureCode {
        /// 0x50: stack motor failure.
        StackMotor = 0x50,
        /// 0x51: transport motor speed failure.
        TransportMotorSpeed = 0x51,
        /// 0x52: transport motor failure.
        TransportMotor = 0x52,
        /// 0x53: aligning motor failure.
        AligningMotor = 0x53,
        /// 0x54: initial cassette status failure.
        InitialCassetteStatus = 0x54,
        /// 0x55: optic canal failure.
        OpticCanal = 0x55,
        /// 0x56: magnetic canal failure.
        MagneticCanal = 0x56,
        /// 0x5F: capacitance canal failure.
        CapacitanceCanal = 0x5F,
    }
}

/// The validator's answer to POLL: its state, with the bill type
/// (the index into the [`BillTable`](super::BillTable)) where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollState {
    /// 0x10: powered up with an empty path.
    PowerUp,
    /// 0x11: powered up with a bill in the validator (it will be returned).
    PowerUpBillInValidator,
    /// 0x12: powered up with a bill in the stacker: its credit is in doubt.
    PowerUpBillInStacker,
    /// 0x13: initialising (after RESET).
    Initialize,
    /// 0x14: enabled and idle.
    Idling,
    /// 0x15: drawing a bill in.
    Accepting,
    /// 0x17: stacking.
    Stacking,
    /// 0x18: returning the escrowed bill.
    Returning,
    /// 0x19: unit disabled (no bill type enabled).
    UnitDisabled,
    /// 0x1A: holding the bill in escrow (after HOLD).
    Holding,
    /// 0x1B: busy, cannot answer commands now.
    DeviceBusy,
    /// 0x1C: rejecting a bill.
    Rejecting(RejectCode),
    /// 0x41: drop cassette full.
    DropCassetteFull,
    /// 0x42: drop cassette out of position (removed).
    DropCassetteOutOfPosition,
    /// 0x43: a bill is jammed in the validator.
    ValidatorJammed,
    /// 0x44: a bill is jammed in the drop cassette.
    DropCassetteJammed,
    /// 0x45: a cheat was detected.
    Cheated,
    /// 0x46: paused (a second bill was pushed in while transporting).
    Pause,
    /// 0x47: hardware failure.
    Failure(FailureCode),
    /// 0x80: a validated bill of this type waits in escrow.
    EscrowPosition(u8),
    /// 0x81: the bill of this type is in the cassette: the credit point.
    BillStacked(u8),
    /// 0x82: the escrowed bill of this type went back to the customer.
    BillReturned(u8),
}

impl PollState {
    /// The state byte.
    pub fn code(&self) -> u8 {
        match self {
            PollState::PowerUp => 0x10,
            PollState::PowerUpBillInValidator => 0x11,
            PollState::PowerUpBillInStacker => 0x12,
            PollState::Initialize => 0x13,
            PollState::Idling => 0x14,
            PollState::Accepting => 0x15,
            PollState::Stacking => 0x17,
            PollState::Returning => 0x18,
            PollState::UnitDisabled => 0x19,
            PollState::Holding => 0x1A,
            PollState::DeviceBusy => 0x1B,
            PollState::Rejecting(_) => 0x1C,
            PollState::DropCassetteFull => 0x41,
            PollState::DropCassetteOutOfPosition => 0x42,
            PollState::ValidatorJammed => 0x43,
            PollState::DropCassetteJammed => 0x44,
            PollState::Cheated => 0x45,
            PollState::Pause => 0x46,
            PollState::Failure(_) => 0x47,
            PollState::EscrowPosition(_) => 0x80,
            PollState::BillStacked(_) => 0x81,
            PollState::BillReturned(_) => 0x82,
        }
    }

    /// The payload on the wire.
    pub fn to_payload(&self) -> Vec<u8> {
        let second = match self {
            PollState::Rejecting(r) => Some(r.to_byte()),
            PollState::Failure(f) => Some(f.to_byte()),
            PollState::EscrowPosition(t)
            | PollState::BillStacked(t)
            | PollState::BillReturned(t) => Some(*t),
            _ => None,
        };
        std::iter::once(self.code()).chain(second).collect()
    }

    /// The frame to send (the emulator's side).
    pub fn to_frame(&self) -> FrameRepr {
        FrameRepr::new(ADDR_BILL_VALIDATOR, self.to_payload())
    }

    /// The frame's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Two payload bytes at most: emitting cannot fail.
        self.to_frame().to_bytes().unwrap_or_default()
    }

    /// The state a POLL answer's payload carries (the driver's side).
    ///
    /// Errors: [`WireError::UnknownCommand`] for a state byte not listed,
    /// [`WireError::BadData`] for a wrong number of bytes after it.
    pub fn from_payload(payload: &[u8]) -> Result<PollState, WireError> {
        let Some((&code, data)) = payload.split_first() else {
            return Err(WireError::BadLength(0));
        };
        let bad = WireError::BadData {
            cmd: code,
            len: data.len(),
        };
        let second = || match data {
            [b] => Ok(*b),
            _ => Err(bad),
        };
        let plain = match code {
            0x10 => PollState::PowerUp,
            0x11 => PollState::PowerUpBillInValidator,
            0x12 => PollState::PowerUpBillInStacker,
            0x13 => PollState::Initialize,
            0x14 => PollState::Idling,
            0x15 => PollState::Accepting,
            0x17 => PollState::Stacking,
            0x18 => PollState::Returning,
            0x19 => PollState::UnitDisabled,
            0x1A => PollState::Holding,
            0x1B => PollState::DeviceBusy,
            0x1C => return Ok(PollState::Rejecting(RejectCode::from_byte(second()?))),
            0x41 => PollState::DropCassetteFull,
            0x42 => PollState::DropCassetteOutOfPosition,
            0x43 => PollState::ValidatorJammed,
            0x44 => PollState::DropCassetteJammed,
            0x45 => PollState::Cheated,
            0x46 => PollState::Pause,
            0x47 => return Ok(PollState::Failure(FailureCode::from_byte(second()?))),
            0x80 => return Ok(PollState::EscrowPosition(second()?)),
            0x81 => return Ok(PollState::BillStacked(second()?)),
            0x82 => return Ok(PollState::BillReturned(second()?)),
            _ => return Err(WireError::UnknownCommand(code)),
        };
        if data.is_empty() {
            Ok(plain)
        } else {
            Err(bad)
        }
    }
}

/// A one-byte answer to a command that is not a request for data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reply {
    /// 0x00: done (RESET, ENABLE BILL TYPES, STACK, RETURN, HOLD, …).
    Ack,
    /// 0xFF: the validator could not read the command: send it again.
    Nak,
    /// 0x30: illegal command (unknown, or not allowed in this state).
    IllegalCommand,
}

impl Reply {
    /// The byte on the wire.
    pub fn code(&self) -> u8 {
        match self {
            Reply::Ack => 0x00,
            Reply::Nak => 0xFF,
            Reply::IllegalCommand => 0x30,
        }
    }

    /// The reply a payload carries, if it is one.
    pub fn from_payload(payload: &[u8]) -> Option<Reply> {
        match payload {
            [0x00] => Some(Reply::Ack),
            [0xFF] => Some(Reply::Nak),
            [0x30] => Some(Reply::IllegalCommand),
            _ => None,
        }
    }

    /// The frame's bytes (the emulator's side).
    pub fn to_bytes(&self) -> Vec<u8> {
        FrameRepr::new(ADDR_BILL_VALIDATOR, [self.code()])
            .to_bytes()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ccnet::tests::REFERENCE;

    #[test]
    fn states_emit_the_reference_frames() {
        let cases = [
            (PollState::Idling, "idling"),
            (PollState::UnitDisabled, "unit disabled"),
            (PollState::PowerUp, "power up"),
            (PollState::EscrowPosition(2), "escrow type 2"),
            (PollState::BillStacked(2), "stacked type 2"),
            (PollState::BillReturned(2), "returned type 2"),
            (
                PollState::Rejecting(RejectCode::Verification),
                "rejecting: verification",
            ),
            (PollState::DropCassetteJammed, "drop cassette jammed"),
            (
                PollState::Failure(FailureCode::OpticCanal),
                "failure: optic canal",
            ),
        ];
        for (state, name) in cases {
            let (_, bytes) = REFERENCE.iter().find(|(n, _)| *n == name).unwrap();
            assert_eq!(state.to_bytes(), *bytes, "{name}");
            let (frame, _) = FrameRepr::parse(bytes).unwrap();
            assert_eq!(PollState::from_payload(&frame.payload), Ok(state));
        }
        let (_, ack) = REFERENCE.iter().find(|(n, _)| *n == "ACK").unwrap();
        assert_eq!(Reply::Ack.to_bytes(), *ack);
    }

    #[test]
    fn every_state_round_trips_and_defects_are_errors() {
        for code in 0..=255u8 {
            for payload in [vec![code], vec![code, 0x66]] {
                if let Ok(state) = PollState::from_payload(&payload) {
                    assert_eq!(state.to_payload(), payload);
                }
            }
        }
        assert_eq!(
            PollState::from_payload(&[0x80]),
            Err(WireError::BadData { cmd: 0x80, len: 0 })
        );
        assert_eq!(
            PollState::from_payload(&[0x14, 0x00]),
            Err(WireError::BadData { cmd: 0x14, len: 1 })
        );
        assert_eq!(
            PollState::from_payload(&[0x16]),
            Err(WireError::UnknownCommand(0x16))
        );
        assert_eq!(Reply::from_payload(&[0x30]), Some(Reply::IllegalCommand));
        assert_eq!(Reply::from_payload(&[0x30, 0x00]), None);
    }

    #[test]
    fn reject_reasons() {
        assert_eq!(RejectCode::Verification.reason(), RejectReason::Counterfeit);
        assert_eq!(RejectCode::Inhibit.reason(), RejectReason::Inhibited);
        assert_eq!(
            RejectCode::from_byte(0x6C).reason(),
            RejectReason::Insertion
        );
        assert_eq!(RejectCode::from_byte(0x99), RejectCode::Unknown(0x99));
    }
}
