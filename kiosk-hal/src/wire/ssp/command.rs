//! Host commands: the first DATA byte of a host packet and its parameters.

use crate::wire::WireError;

/// A host command (the note-validator set; payout commands are not here).
///
/// `to_data` gives the packet's DATA; `parse` reads it back (for emulators).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// 0x01: restart the unit (it answers OK, then goes quiet while it boots).
    Reset,
    /// 0x02: channel inhibits, bit n-1 set = channel n may accept (channels 1–16).
    SetInhibits(u16),
    /// 0x03: bezel illumination on.
    DisplayOn,
    /// 0x04: bezel illumination off.
    DisplayOff,
    /// 0x05: the unit's type, firmware, country, channel values ([`SetupData`](super::SetupData)).
    SetupRequest,
    /// 0x06: the protocol version the host speaks (F8 if the unit cannot).
    HostProtocolVersion(u8),
    /// 0x07: poll for events. After a "read note n" event, the next POLL
    /// also accepts the note held in escrow.
    Poll,
    /// 0x08: give back the note held in escrow.
    Reject,
    /// 0x09: refuse notes.
    Disable,
    /// 0x0A: accept notes (on the channels not inhibited).
    Enable,
    /// 0x0C: the unit's serial number (4 bytes, big-endian).
    GetSerialNumber,
    /// 0x11: resets the sequence flag to 1; send it first.
    Sync,
    /// 0x17: why the last note was rejected ([`RejectCode`](super::RejectCode)).
    LastRejectCode,
    /// 0x18: keep the note in escrow (restarts the unit's 10 s escrow timer).
    Hold,
    /// 0x20: the firmware version (ASCII).
    GetFirmwareVersion,
    /// 0x21: the dataset version (ASCII).
    GetDatasetVersion,
    /// 0x4A: eSSP generator (a prime), 8 bytes little-endian.
    SetGenerator(u64),
    /// 0x4B: eSSP modulus (a prime), 8 bytes little-endian.
    SetModulus(u64),
    /// 0x4C: eSSP host intermediate key; the answer carries the slave's.
    RequestKeyExchange(u64),
    /// 0x56: poll whose credit-type events repeat until [`EventAck`](Command::EventAck).
    PollWithAck,
    /// 0x57: acknowledges the events of the last poll with ACK.
    EventAck,
}

impl Command {
    /// The command byte.
    pub fn code(&self) -> u8 {
        match self {
            Command::Reset => 0x01,
            Command::SetInhibits(_) => 0x02,
            Command::DisplayOn => 0x03,
            Command::DisplayOff => 0x04,
            Command::SetupRequest => 0x05,
            Command::HostProtocolVersion(_) => 0x06,
            Command::Poll => 0x07,
            Command::Reject => 0x08,
            Command::Disable => 0x09,
            Command::Enable => 0x0A,
            Command::GetSerialNumber => 0x0C,
            Command::Sync => 0x11,
            Command::LastRejectCode => 0x17,
            Command::Hold => 0x18,
            Command::GetFirmwareVersion => 0x20,
            Command::GetDatasetVersion => 0x21,
            Command::SetGenerator(_) => 0x4A,
            Command::SetModulus(_) => 0x4B,
            Command::RequestKeyExchange(_) => 0x4C,
            Command::PollWithAck => 0x56,
            Command::EventAck => 0x57,
        }
    }

    /// The packet DATA: the command byte and its parameters.
    pub fn to_data(&self) -> Vec<u8> {
        let mut data = vec![self.code()];
        match *self {
            Command::SetInhibits(mask) => data.extend_from_slice(&mask.to_le_bytes()),
            Command::HostProtocolVersion(v) => data.push(v),
            Command::SetGenerator(k) | Command::SetModulus(k) | Command::RequestKeyExchange(k) => {
                data.extend_from_slice(&k.to_le_bytes())
            }
            _ => {}
        }
        data
    }

    /// Reads a command from packet DATA.
    ///
    /// Errors: [`WireError::Truncated`] for empty data,
    /// [`WireError::UnknownCommand`], [`WireError::BadData`] for the wrong
    /// parameter count (a unit answers that with F3).
    pub fn parse(data: &[u8]) -> Result<Command, WireError> {
        let (&code, params) = data.split_first().ok_or(WireError::Truncated)?;
        let bad = || WireError::BadData {
            cmd: code,
            len: params.len(),
        };
        let u64_param = || -> Result<u64, WireError> {
            let bytes: [u8; 8] = params.try_into().map_err(|_| bad())?;
            Ok(u64::from_le_bytes(bytes))
        };
        let simple = match code {
            0x01 => Some(Command::Reset),
            0x03 => Some(Command::DisplayOn),
            0x04 => Some(Command::DisplayOff),
            0x05 => Some(Command::SetupRequest),
            0x07 => Some(Command::Poll),
            0x08 => Some(Command::Reject),
            0x09 => Some(Command::Disable),
            0x0A => Some(Command::Enable),
            0x0C => Some(Command::GetSerialNumber),
            0x11 => Some(Command::Sync),
            0x17 => Some(Command::LastRejectCode),
            0x18 => Some(Command::Hold),
            0x20 => Some(Command::GetFirmwareVersion),
            0x21 => Some(Command::GetDatasetVersion),
            0x56 => Some(Command::PollWithAck),
            0x57 => Some(Command::EventAck),
            _ => None,
        };
        if let Some(cmd) = simple {
            return if params.is_empty() {
                Ok(cmd)
            } else {
                Err(bad())
            };
        }
        match code {
            0x02 => match params {
                [lo, hi] => Ok(Command::SetInhibits(u16::from_le_bytes([*lo, *hi]))),
                _ => Err(bad()),
            },
            0x06 => match params {
                [v] => Ok(Command::HostProtocolVersion(*v)),
                _ => Err(bad()),
            },
            0x4A => u64_param().map(Command::SetGenerator),
            0x4B => u64_param().map(Command::SetModulus),
            0x4C => u64_param().map(Command::RequestKeyExchange),
            other => Err(WireError::UnknownCommand(other)),
        }
    }

    /// Whether an eSSP unit with encryption enabled refuses this command in
    /// the clear (answers `FA`, key not set). Link set-up and identity
    /// commands go in the clear; anything that moves or enables notes does not.
    pub fn needs_encryption(&self) -> bool {
        !matches!(
            self,
            Command::Sync
                | Command::HostProtocolVersion(_)
                | Command::SetupRequest
                | Command::GetSerialNumber
                | Command::GetFirmwareVersion
                | Command::GetDatasetVersion
                | Command::SetGenerator(_)
                | Command::SetModulus(_)
                | Command::RequestKeyExchange(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_round_trips() {
        let all = [
            Command::Reset,
            Command::SetInhibits(0x00FF),
            Command::DisplayOn,
            Command::DisplayOff,
            Command::SetupRequest,
            Command::HostProtocolVersion(7),
            Command::Poll,
            Command::Reject,
            Command::Disable,
            Command::Enable,
            Command::GetSerialNumber,
            Command::Sync,
            Command::LastRejectCode,
            Command::Hold,
            Command::GetFirmwareVersion,
            Command::GetDatasetVersion,
            Command::SetGenerator(982_451_653),
            Command::SetModulus(1_500_450_271),
            Command::RequestKeyExchange(1_372_844_168),
            Command::PollWithAck,
            Command::EventAck,
        ];
        for cmd in all {
            assert_eq!(Command::parse(&cmd.to_data()), Ok(cmd), "{cmd:?}");
        }
    }

    #[test]
    fn worked_parameters() {
        // protocols.md: set inhibits all on is `02 FF FF`.
        assert_eq!(Command::SetInhibits(0xFFFF).to_data(), [0x02, 0xFF, 0xFF]);
        assert_eq!(Command::HostProtocolVersion(7).to_data(), [0x06, 0x07]);
        // The ITL SDK sends generator/modulus/host key little-endian.
        assert_eq!(
            Command::SetGenerator(0x0102_0304_0506_0708).to_data(),
            [0x4A, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn parse_reports_defects() {
        assert_eq!(Command::parse(&[]), Err(WireError::Truncated));
        assert_eq!(
            Command::parse(&[0x99]),
            Err(WireError::UnknownCommand(0x99))
        );
        assert_eq!(
            Command::parse(&[0x07, 0x00]),
            Err(WireError::BadData { cmd: 0x07, len: 1 })
        );
        assert_eq!(
            Command::parse(&[0x02, 0xFF]),
            Err(WireError::BadData { cmd: 0x02, len: 1 })
        );
        assert_eq!(
            Command::parse(&[0x4C, 1, 2, 3]),
            Err(WireError::BadData { cmd: 0x4C, len: 3 })
        );
    }
}
