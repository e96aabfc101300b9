//! Status responses (validator to host), reject codes and failure codes.

use super::{CurrencyEntry, FrameRepr, Setting, WireError};
use crate::RejectReason;

/// Defines a byte-coded enum with an `Unknown(u8)` fallback and lossless
/// `from_byte` / `to_byte` conversions.
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

        impl From<u8> for $name {
            fn from(b: u8) -> $name {
                $name::from_byte(b)
            }
        }

        impl From<$name> for u8 {
            fn from(c: $name) -> u8 {
                c.to_byte()
            }
        }
    };
}

byte_code! {
    /// Why the validator rejected a note: the data byte of status 0x17.
    ///
    /// ⚠ Names vary slightly between drivers.
    pub enum RejectCode {
        /// 0x71: insertion error.
        Insertion = 0x71,
        /// 0x72: magnetic pattern error.
        Magnetic = 0x72,
        /// 0x73: a note remained in the head.
        RemainingInHead = 0x73,
        /// 0x74: calibration / multiplying error.
        Calibration = 0x74,
        /// 0x75: conveying (transport) error.
        Conveying = 0x75,
        /// 0x76: discrimination (denomination) error.
        Discrimination = 0x76,
        /// 0x77: photo pattern error.
        PhotoPattern = 0x77,
        /// 0x78: photo level error.
        PhotoLevel = 0x78,
        /// 0x79: the denomination is inhibited.
        Inhibited = 0x79,
        /// 0x7A: called "unknown" by drivers: the validator gives no reason.
        Unspecified = 0x7A,
        /// 0x7B: operation error.
        Operation = 0x7B,
        /// 0x7C: stacker / timing error.
        StackerTiming = 0x7C,
        /// 0x7D: length error.
        Length = 0x7D,
        /// 0x7E: colour pattern error.
        ColourPattern = 0x7E,
        /// 0x7F: true-bill feature error.
        TrueBillFeature = 0x7F,
    }
}

impl RejectCode {
    /// The generic reason the core acts on.
    ///
    /// Validation failures (magnetic, discrimination, photo, colour,
    /// true-bill feature) are [`Counterfeit`](RejectReason::Counterfeit);
    /// 0x79 is [`Inhibited`](RejectReason::Inhibited); insertion, length and
    /// a note left in the head are [`Insertion`](RejectReason::Insertion);
    /// conveying and stacker timing are [`Transport`](RejectReason::Transport);
    /// the rest is [`Other`](RejectReason::Other).
    pub fn reason(self) -> RejectReason {
        match self {
            RejectCode::Magnetic
            | RejectCode::Discrimination
            | RejectCode::PhotoPattern
            | RejectCode::PhotoLevel
            | RejectCode::ColourPattern
            | RejectCode::TrueBillFeature => RejectReason::Counterfeit,
            RejectCode::Inhibited => RejectReason::Inhibited,
            RejectCode::Insertion | RejectCode::Length | RejectCode::RemainingInHead => {
                RejectReason::Insertion
            }
            RejectCode::Conveying | RejectCode::StackerTiming => RejectReason::Transport,
            RejectCode::Calibration
            | RejectCode::Unspecified
            | RejectCode::Operation
            | RejectCode::Unknown(_) => RejectReason::Other,
        }
    }
}

byte_code! {
    /// A hardware failure: the data byte of status 0x49.
    pub enum FailureCode {
        /// 0xA2: stack motor failure.
        StackMotor = 0xA2,
        /// 0xA5: transport motor speed failure.
        TransportMotorSpeed = 0xA5,
        /// 0xA6: transport motor failure.
        TransportMotor = 0xA6,
        /// 0xA7: aligning motor failure.
        AligningMotor = 0xA7,
        /// 0xAB: cash box not ready.
        CashBoxNotReady = 0xAB,
        /// 0xAC: optical sensor failure.
        OpticalSensor = 0xAC,
        /// 0xAD: magnetic sensor failure.
        MagneticSensor = 0xAD,
        /// 0xAF: validator head removed.
        HeadRemoved = 0xAF,
        /// 0xB0: boot ROM failure.
        BootRom = 0xB0,
        /// 0xB1: external ROM failure.
        ExternalRom = 0xB1,
        /// 0xB2: ROM failure.
        Rom = 0xB2,
        /// 0xB3: external ROM writing failure.
        ExternalRomWriting = 0xB3,
    }
}

/// An answer from the validator.
///
/// Status codes answer the status request (0x11); setting commands are
/// answered with an echo, read-backs and information requests with their
/// data, operation commands (stack, return, …) with [`Ack`](StatusResponse::Ack).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusResponse {
    /// 0x11: enabled and idle.
    Idling,
    /// 0x12: drawing a note in.
    Accepting,
    /// 0x13: a validated note is in escrow; the escrow (denomination) code,
    /// to be looked up in the [`CurrencyTable`](super::CurrencyTable).
    Escrow(u8),
    /// 0x14: stacking.
    Stacking,
    /// 0x15: VEND VALID, the credit point; the host answers with ACK.
    VendValid,
    /// 0x16: stacked.
    Stacked,
    /// 0x17: rejecting a note.
    Rejecting(RejectCode),
    /// 0x18: returning the escrowed note.
    Returning,
    /// 0x19: holding the note in escrow.
    Holding,
    /// 0x1A: disabled / inhibited.
    Disabled,
    /// 0x1B: initialising.
    Initialize,
    /// 0x40: powered up with an empty path.
    PowerUp,
    /// 0x41: powered up with a note in the acceptor.
    PowerUpBillInAcceptor,
    /// 0x42: powered up with a note in the stacker: its credit is in doubt.
    PowerUpBillInStacker,
    /// 0x43: stacker full.
    StackerFull,
    /// 0x44: stacker open / removed.
    StackerOpen,
    /// 0x45: a note is jammed in the acceptor.
    AcceptorJam,
    /// 0x46: a note is jammed in the stacker.
    StackerJam,
    /// 0x47: paused.
    Pause,
    /// 0x48: a cheat was detected.
    Cheated,
    /// 0x49: hardware failure.
    Failure(FailureCode),
    /// 0x4A: the validator received a frame it could not read.
    CommunicationError,
    /// 0x4B: the validator does not know the command.
    InvalidCommand,
    /// 0x50: acknowledge.
    Ack,
    /// 0xC0–0xC5: the echo of a setting command.
    SettingEcho(Setting),
    /// 0x80–0x85: the answer to a read-back, the setting in force.
    SettingValue(Setting),
    /// 0x88: the firmware version (ASCII as sent).
    Version(Vec<u8>),
    /// 0x89: the boot ROM version (ASCII as sent).
    BootVersion(Vec<u8>),
    /// 0x8A: the currency assignment, one entry per escrow code.
    CurrencyAssign(Vec<CurrencyEntry>),
}

impl StatusResponse {
    /// The status or answer code.
    pub fn code(&self) -> u8 {
        match self {
            StatusResponse::Idling => 0x11,
            StatusResponse::Accepting => 0x12,
            StatusResponse::Escrow(_) => 0x13,
            StatusResponse::Stacking => 0x14,
            StatusResponse::VendValid => 0x15,
            StatusResponse::Stacked => 0x16,
            StatusResponse::Rejecting(_) => 0x17,
            StatusResponse::Returning => 0x18,
            StatusResponse::Holding => 0x19,
            StatusResponse::Disabled => 0x1A,
            StatusResponse::Initialize => 0x1B,
            StatusResponse::PowerUp => 0x40,
            StatusResponse::PowerUpBillInAcceptor => 0x41,
            StatusResponse::PowerUpBillInStacker => 0x42,
            StatusResponse::StackerFull => 0x43,
            StatusResponse::StackerOpen => 0x44,
            StatusResponse::AcceptorJam => 0x45,
            StatusResponse::StackerJam => 0x46,
            StatusResponse::Pause => 0x47,
            StatusResponse::Cheated => 0x48,
            StatusResponse::Failure(_) => 0x49,
            StatusResponse::CommunicationError => 0x4A,
            StatusResponse::InvalidCommand => 0x4B,
            StatusResponse::Ack => 0x50,
            StatusResponse::SettingEcho(s) => 0xC0 + s.index(),
            StatusResponse::SettingValue(s) => 0x80 + s.index(),
            StatusResponse::Version(_) => 0x88,
            StatusResponse::BootVersion(_) => 0x89,
            StatusResponse::CurrencyAssign(_) => 0x8A,
        }
    }

    /// The frame to send (the emulator's side).
    pub fn to_frame(&self) -> FrameRepr {
        let data = match self {
            StatusResponse::Escrow(code) => vec![*code],
            StatusResponse::Rejecting(r) => vec![r.to_byte()],
            StatusResponse::Failure(f) => vec![f.to_byte()],
            StatusResponse::SettingEcho(s) | StatusResponse::SettingValue(s) => s.data(),
            StatusResponse::Version(v) | StatusResponse::BootVersion(v) => v.clone(),
            StatusResponse::CurrencyAssign(entries) => {
                entries.iter().flat_map(|e| e.to_bytes()).collect()
            }
            _ => Vec::new(),
        };
        FrameRepr::new(self.code(), data)
    }

    /// The frame's bytes. Fails only with [`WireError::BadLength`] for a
    /// version string or currency table longer than a frame can carry.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        self.to_frame().to_bytes()
    }

    /// The answer a frame carries (the driver's side).
    ///
    /// Errors: [`WireError::UnknownCommand`] for a code not listed here,
    /// [`WireError::BadData`] for data of the wrong length or value.
    pub fn from_frame(frame: &FrameRepr) -> Result<StatusResponse, WireError> {
        StatusResponse::from_parts(frame.cmd, &frame.data)
    }

    /// As [`from_frame`](StatusResponse::from_frame), from a code and its data.
    pub fn from_parts(cmd: u8, data: &[u8]) -> Result<StatusResponse, WireError> {
        let bad = WireError::BadData {
            cmd,
            len: data.len(),
        };
        let one = || match data {
            [b] => Ok(*b),
            _ => Err(bad),
        };
        let plain = match cmd {
            0x11 => StatusResponse::Idling,
            0x12 => StatusResponse::Accepting,
            0x13 => return Ok(StatusResponse::Escrow(one()?)),
            0x14 => StatusResponse::Stacking,
            0x15 => StatusResponse::VendValid,
            0x16 => StatusResponse::Stacked,
            0x17 => return Ok(StatusResponse::Rejecting(RejectCode::from_byte(one()?))),
            0x18 => StatusResponse::Returning,
            0x19 => StatusResponse::Holding,
            0x1A => StatusResponse::Disabled,
            0x1B => StatusResponse::Initialize,
            0x40 => StatusResponse::PowerUp,
            0x41 => StatusResponse::PowerUpBillInAcceptor,
            0x42 => StatusResponse::PowerUpBillInStacker,
            0x43 => StatusResponse::StackerFull,
            0x44 => StatusResponse::StackerOpen,
            0x45 => StatusResponse::AcceptorJam,
            0x46 => StatusResponse::StackerJam,
            0x47 => StatusResponse::Pause,
            0x48 => StatusResponse::Cheated,
            0x49 => return Ok(StatusResponse::Failure(FailureCode::from_byte(one()?))),
            0x4A => StatusResponse::CommunicationError,
            0x4B => StatusResponse::InvalidCommand,
            0x50 => StatusResponse::Ack,
            0xC0..=0xC5 => {
                return Ok(StatusResponse::SettingEcho(Setting::parse(
                    cmd - 0xC0,
                    cmd,
                    data,
                )?))
            }
            0x80..=0x85 => {
                return Ok(StatusResponse::SettingValue(Setting::parse(
                    cmd - 0x80,
                    cmd,
                    data,
                )?))
            }
            0x88 => return Ok(StatusResponse::Version(data.to_vec())),
            0x89 => return Ok(StatusResponse::BootVersion(data.to_vec())),
            0x8A => {
                return CurrencyEntry::parse_all(data)
                    .map(StatusResponse::CurrencyAssign)
                    .ok_or(bad)
            }
            _ => return Err(WireError::UnknownCommand(cmd)),
        };
        if data.is_empty() {
            Ok(plain)
        } else {
            Err(bad)
        }
    }

    /// Parses the response frame at the start of `buf`; returns it and the bytes it used.
    pub fn parse(buf: &[u8]) -> Result<(StatusResponse, usize), WireError> {
        let (frame, n) = FrameRepr::parse(buf)?;
        Ok((StatusResponse::from_frame(&frame)?, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_status_frames() {
        let disabled = [0xFC, 0x05, 0x1A, 0xF4, 0xE8];
        assert_eq!(
            StatusResponse::parse(&disabled),
            Ok((StatusResponse::Disabled, 5))
        );
        assert_eq!(StatusResponse::Disabled.to_bytes(), Ok(disabled.to_vec()));

        let escrow = [0xFC, 0x06, 0x13, 0x63, 0xA2, 0xD8];
        assert_eq!(
            StatusResponse::parse(&escrow),
            Ok((StatusResponse::Escrow(0x63), 6))
        );
        assert_eq!(StatusResponse::Escrow(0x63).to_bytes(), Ok(escrow.to_vec()));

        let ack = [0xFC, 0x05, 0x50, 0xAA, 0x05];
        assert_eq!(StatusResponse::parse(&ack), Ok((StatusResponse::Ack, 5)));
    }

    #[test]
    fn coded_statuses_round_trip() {
        for r in [
            StatusResponse::Rejecting(RejectCode::Inhibited),
            StatusResponse::Rejecting(RejectCode::Unknown(0x30)),
            StatusResponse::Failure(FailureCode::StackMotor),
            StatusResponse::Failure(FailureCode::Unknown(0x00)),
            StatusResponse::SettingEcho(Setting::Inhibit(true)),
            StatusResponse::SettingValue(Setting::Enable([0xFF, 0x00])),
            StatusResponse::Version(b"i(CHN)100-SS ID003-05V 2012".to_vec()),
            StatusResponse::PowerUpBillInStacker,
        ] {
            let bytes = r.to_bytes().unwrap();
            assert_eq!(StatusResponse::parse(&bytes), Ok((r, bytes.len())));
        }
        let reject = [0xFC, 0x06, 0x17, 0x79];
        let crc = super::super::crc16(&reject).to_le_bytes();
        let frame = [&reject[..], &crc[..]].concat();
        assert_eq!(
            StatusResponse::parse(&frame).map(|r| r.0),
            Ok(StatusResponse::Rejecting(RejectCode::Inhibited))
        );
    }

    #[test]
    fn reject_codes_map_to_reasons() {
        assert_eq!(
            RejectCode::from_byte(0x79).reason(),
            RejectReason::Inhibited
        );
        for b in [0x72, 0x76, 0x77, 0x78, 0x7E, 0x7F] {
            assert_eq!(
                RejectCode::from_byte(b).reason(),
                RejectReason::Counterfeit,
                "{b:#x}"
            );
        }
        assert_eq!(
            RejectCode::from_byte(0x71).reason(),
            RejectReason::Insertion
        );
        assert_eq!(
            RejectCode::from_byte(0x7D).reason(),
            RejectReason::Insertion
        );
        assert_eq!(
            RejectCode::from_byte(0x75).reason(),
            RejectReason::Transport
        );
        assert_eq!(RejectCode::from_byte(0x7A).reason(), RejectReason::Other);
        assert_eq!(RejectCode::from_byte(0x01), RejectCode::Unknown(0x01));
        assert_eq!(RejectCode::Unknown(0x01).reason(), RejectReason::Other);
        for b in 0..=u8::MAX {
            assert_eq!(RejectCode::from_byte(b).to_byte(), b);
            assert_eq!(FailureCode::from_byte(b).to_byte(), b);
        }
        assert_eq!(FailureCode::from_byte(0xAF), FailureCode::HeadRemoved);
    }

    #[test]
    fn rejects_wrong_data_lengths() {
        assert_eq!(
            StatusResponse::from_parts(0x13, &[]),
            Err(WireError::BadData { cmd: 0x13, len: 0 })
        );
        assert_eq!(
            StatusResponse::from_parts(0x1A, &[0x00]),
            Err(WireError::BadData { cmd: 0x1A, len: 1 })
        );
        assert_eq!(
            StatusResponse::from_parts(0x8A, &[0x61, 0x01, 0x01]),
            Err(WireError::BadData { cmd: 0x8A, len: 3 })
        );
        assert_eq!(
            StatusResponse::from_parts(0x20, &[]),
            Err(WireError::UnknownCommand(0x20))
        );
        let too_long = StatusResponse::Version(vec![b'x'; 251]);
        assert_eq!(too_long.to_bytes(), Err(WireError::BadLength(256)));
    }
}
