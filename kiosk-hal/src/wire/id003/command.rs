//! Host commands (host to validator) and the settings they carry.

use super::{FrameRepr, WireError};

/// A validator setting, as written by 0xC0–0xC5, echoed back by the
/// validator and read back with 0x80–0x85.
///
/// ⚠ Data lengths other than 0xC0 (2 bytes) and 0xC3 (1 byte) come from
/// open-source drivers only: security 2 bytes, communication mode 1,
/// direction 1, optional function 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// 0xC0: enable / disable denominations, a 2-byte bit mask.
    ///
    /// ⚠ Which bit is which denomination, and whether `00 00` means "all
    /// enabled", differs between drivers: the codec carries the raw bytes.
    Enable([u8; 2]),
    /// 0xC1: security level per denomination, a 2-byte bit mask.
    Security([u8; 2]),
    /// 0xC2: communication mode.
    CommMode(u8),
    /// 0xC3: `true` inhibits the acceptor (0x01), `false` lets it accept (0x00).
    Inhibit(bool),
    /// 0xC4: which note directions are accepted, a bit mask.
    Direction(u8),
    /// 0xC5: optional functions, a 2-byte bit mask.
    OptionalFunction([u8; 2]),
}

impl Setting {
    /// The setting's index: its set command is `0xC0 + index`, its read-back `0x80 + index`.
    pub fn index(&self) -> u8 {
        match self {
            Setting::Enable(_) => 0,
            Setting::Security(_) => 1,
            Setting::CommMode(_) => 2,
            Setting::Inhibit(_) => 3,
            Setting::Direction(_) => 4,
            Setting::OptionalFunction(_) => 5,
        }
    }

    /// The data bytes as sent on the wire.
    pub fn data(&self) -> Vec<u8> {
        match *self {
            Setting::Enable(b) | Setting::Security(b) | Setting::OptionalFunction(b) => b.to_vec(),
            Setting::CommMode(b) | Setting::Direction(b) => vec![b],
            Setting::Inhibit(on) => vec![u8::from(on)],
        }
    }

    /// Parses the data of setting `index` (0–5) carried by a frame with code `cmd`.
    pub(crate) fn parse(index: u8, cmd: u8, data: &[u8]) -> Result<Setting, WireError> {
        let bad = WireError::BadData {
            cmd,
            len: data.len(),
        };
        let two = |data: &[u8]| <[u8; 2]>::try_from(data).map_err(|_| bad);
        let one = |data: &[u8]| match data {
            [b] => Ok(*b),
            _ => Err(bad),
        };
        Ok(match index {
            0 => Setting::Enable(two(data)?),
            1 => Setting::Security(two(data)?),
            2 => Setting::CommMode(one(data)?),
            3 => match one(data)? {
                0x00 => Setting::Inhibit(false),
                0x01 => Setting::Inhibit(true),
                _ => return Err(bad),
            },
            4 => Setting::Direction(one(data)?),
            5 => Setting::OptionalFunction(two(data)?),
            _ => return Err(WireError::UnknownCommand(cmd)),
        })
    }
}

/// A command from the host to the validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostCommand {
    /// 0x11: status request (the poll).
    StatusRequest,
    /// 0x40: reset.
    Reset,
    /// 0x41: stack the escrowed note; VEND VALID comes once it is past the stacker lever.
    Stack1,
    /// 0x42: stack the escrowed note; VEND VALID comes once it is fully in the stacker.
    Stack2,
    /// 0x43: return the escrowed note.
    Return,
    /// 0x44: hold the note in escrow.
    Hold,
    /// 0x45: wait.
    Wait,
    /// 0x50: acknowledge (the host answers VEND VALID with it).
    Ack,
    /// 0xC0: enable / disable denominations (see [`Setting::Enable`]).
    SetEnable([u8; 2]),
    /// 0xC1: security levels.
    SetSecurity([u8; 2]),
    /// 0xC2: communication mode.
    SetCommMode(u8),
    /// 0xC3: inhibit (`true`) or accept (`false`).
    SetInhibit(bool),
    /// 0xC4: accepted directions.
    SetDirection(u8),
    /// 0xC5: optional functions.
    SetOptionalFunction([u8; 2]),
    /// 0x80: read back the enable setting.
    ReadEnable,
    /// 0x81: read back the security setting.
    ReadSecurity,
    /// 0x82: read back the communication mode.
    ReadCommMode,
    /// 0x83: read back the inhibit setting.
    ReadInhibit,
    /// 0x84: read back the direction setting.
    ReadDirection,
    /// 0x85: read back the optional functions.
    ReadOptionalFunction,
    /// 0x88: firmware version request.
    VersionRequest,
    /// 0x89: boot ROM version request.
    BootVersionRequest,
    /// 0x8A: currency assign request (escrow code to denomination table).
    CurrencyAssignRequest,
}

impl HostCommand {
    /// The command byte.
    pub fn code(&self) -> u8 {
        match self {
            HostCommand::StatusRequest => 0x11,
            HostCommand::Reset => 0x40,
            HostCommand::Stack1 => 0x41,
            HostCommand::Stack2 => 0x42,
            HostCommand::Return => 0x43,
            HostCommand::Hold => 0x44,
            HostCommand::Wait => 0x45,
            HostCommand::Ack => 0x50,
            HostCommand::ReadEnable => 0x80,
            HostCommand::ReadSecurity => 0x81,
            HostCommand::ReadCommMode => 0x82,
            HostCommand::ReadInhibit => 0x83,
            HostCommand::ReadDirection => 0x84,
            HostCommand::ReadOptionalFunction => 0x85,
            HostCommand::VersionRequest => 0x88,
            HostCommand::BootVersionRequest => 0x89,
            HostCommand::CurrencyAssignRequest => 0x8A,
            HostCommand::SetEnable(_)
            | HostCommand::SetSecurity(_)
            | HostCommand::SetCommMode(_)
            | HostCommand::SetInhibit(_)
            | HostCommand::SetDirection(_)
            | HostCommand::SetOptionalFunction(_) => 0xC0 + self.setting().map_or(0, |s| s.index()),
        }
    }

    /// The setting a set command (0xC0–0xC5) writes; `None` for other commands.
    pub fn setting(&self) -> Option<Setting> {
        Some(match *self {
            HostCommand::SetEnable(b) => Setting::Enable(b),
            HostCommand::SetSecurity(b) => Setting::Security(b),
            HostCommand::SetCommMode(b) => Setting::CommMode(b),
            HostCommand::SetInhibit(on) => Setting::Inhibit(on),
            HostCommand::SetDirection(b) => Setting::Direction(b),
            HostCommand::SetOptionalFunction(b) => Setting::OptionalFunction(b),
            _ => return None,
        })
    }

    /// The frame to send.
    pub fn to_frame(&self) -> FrameRepr {
        let data = self.setting().map(|s| s.data()).unwrap_or_default();
        FrameRepr::new(self.code(), data)
    }

    /// The frame's bytes, ready for the port (at most 7 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Host commands carry at most 2 data bytes: emitting cannot fail.
        self.to_frame().to_bytes().unwrap_or_default()
    }

    /// The command a frame carries (the emulator's side).
    ///
    /// Errors: [`WireError::UnknownCommand`] for a code not listed here (an
    /// emulator answers it with 0x4B invalid command), [`WireError::BadData`]
    /// for data of the wrong length or value.
    pub fn from_frame(frame: &FrameRepr) -> Result<HostCommand, WireError> {
        HostCommand::from_parts(frame.cmd, &frame.data)
    }

    /// As [`from_frame`](HostCommand::from_frame), from a code and its data.
    pub fn from_parts(cmd: u8, data: &[u8]) -> Result<HostCommand, WireError> {
        let plain = match cmd {
            0x11 => HostCommand::StatusRequest,
            0x40 => HostCommand::Reset,
            0x41 => HostCommand::Stack1,
            0x42 => HostCommand::Stack2,
            0x43 => HostCommand::Return,
            0x44 => HostCommand::Hold,
            0x45 => HostCommand::Wait,
            0x50 => HostCommand::Ack,
            0x80 => HostCommand::ReadEnable,
            0x81 => HostCommand::ReadSecurity,
            0x82 => HostCommand::ReadCommMode,
            0x83 => HostCommand::ReadInhibit,
            0x84 => HostCommand::ReadDirection,
            0x85 => HostCommand::ReadOptionalFunction,
            0x88 => HostCommand::VersionRequest,
            0x89 => HostCommand::BootVersionRequest,
            0x8A => HostCommand::CurrencyAssignRequest,
            0xC0..=0xC5 => return Ok(Setting::parse(cmd - 0xC0, cmd, data)?.into()),
            _ => return Err(WireError::UnknownCommand(cmd)),
        };
        if data.is_empty() {
            Ok(plain)
        } else {
            Err(WireError::BadData {
                cmd,
                len: data.len(),
            })
        }
    }

    /// Parses the command frame at the start of `buf`; returns it and the bytes it used.
    pub fn parse(buf: &[u8]) -> Result<(HostCommand, usize), WireError> {
        let (frame, n) = FrameRepr::parse(buf)?;
        Ok((HostCommand::from_frame(&frame)?, n))
    }
}

impl From<Setting> for HostCommand {
    fn from(s: Setting) -> HostCommand {
        match s {
            Setting::Enable(b) => HostCommand::SetEnable(b),
            Setting::Security(b) => HostCommand::SetSecurity(b),
            Setting::CommMode(b) => HostCommand::SetCommMode(b),
            Setting::Inhibit(on) => HostCommand::SetInhibit(on),
            Setting::Direction(b) => HostCommand::SetDirection(b),
            Setting::OptionalFunction(b) => HostCommand::SetOptionalFunction(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_host_frames() {
        let cases: &[(HostCommand, &[u8])] = &[
            (HostCommand::StatusRequest, &[0xFC, 0x05, 0x11, 0x27, 0x56]),
            (HostCommand::Reset, &[0xFC, 0x05, 0x40, 0x2B, 0x15]),
            (HostCommand::Ack, &[0xFC, 0x05, 0x50, 0xAA, 0x05]),
            (HostCommand::Stack1, &[0xFC, 0x05, 0x41, 0xA2, 0x04]),
            (HostCommand::Return, &[0xFC, 0x05, 0x43, 0xB0, 0x27]),
            (
                HostCommand::SetInhibit(false),
                &[0xFC, 0x06, 0xC3, 0x00, 0x04, 0xD6],
            ),
            (
                HostCommand::SetInhibit(true),
                &[0xFC, 0x06, 0xC3, 0x01, 0x8D, 0xC7],
            ),
        ];
        for (cmd, bytes) in cases {
            assert_eq!(cmd.to_bytes(), *bytes, "{cmd:?}");
            assert_eq!(HostCommand::parse(bytes), Ok((*cmd, bytes.len())));
        }
    }

    #[test]
    fn setting_commands_carry_their_data() {
        let cmd = HostCommand::SetEnable([0x82, 0x00]);
        let bytes = cmd.to_bytes();
        assert_eq!(&bytes[..5], &[0xFC, 0x07, 0xC0, 0x82, 0x00]);
        assert_eq!(HostCommand::parse(&bytes), Ok((cmd, 7)));
        assert_eq!(cmd.setting(), Some(Setting::Enable([0x82, 0x00])));
        assert_eq!(HostCommand::SetDirection(0x0F).code(), 0xC4);
        assert_eq!(HostCommand::SetOptionalFunction([1, 2]).code(), 0xC5);
    }

    #[test]
    fn rejects_bad_data_and_unknown_codes() {
        assert_eq!(
            HostCommand::from_parts(0xC3, &[0x02]),
            Err(WireError::BadData { cmd: 0xC3, len: 1 })
        );
        assert_eq!(
            HostCommand::from_parts(0xC0, &[0x00]),
            Err(WireError::BadData { cmd: 0xC0, len: 1 })
        );
        assert_eq!(
            HostCommand::from_parts(0x11, &[0x00]),
            Err(WireError::BadData { cmd: 0x11, len: 1 })
        );
        assert_eq!(
            HostCommand::from_parts(0xC6, &[0x01, 0x12]),
            Err(WireError::UnknownCommand(0xC6))
        );
    }
}
