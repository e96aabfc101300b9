//! The slave's generic reply: a status byte, then data.

use crate::wire::WireError;

/// The first byte of every slave reply.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyCode {
    /// 0xF0: done; data follows (poll events, setup data, keys…).
    Ok,
    /// 0xF2: the unit does not know the command.
    UnknownCommand,
    /// 0xF3: wrong number of parameters.
    WrongParameterCount,
    /// 0xF4: a parameter is out of range (e.g. a generator that is not prime).
    ParameterOutOfRange,
    /// 0xF5: the command cannot be processed now (e.g. reject with no note in escrow).
    CannotProcess,
    /// 0xF6: software error.
    SoftwareError,
    /// 0xF8: failed.
    Fail,
    /// 0xFA: an eSSP unit refuses the command until keys are exchanged.
    KeyNotSet,
}

impl ReplyCode {
    /// The status byte.
    pub fn code(&self) -> u8 {
        match self {
            ReplyCode::Ok => 0xF0,
            ReplyCode::UnknownCommand => 0xF2,
            ReplyCode::WrongParameterCount => 0xF3,
            ReplyCode::ParameterOutOfRange => 0xF4,
            ReplyCode::CannotProcess => 0xF5,
            ReplyCode::SoftwareError => 0xF6,
            ReplyCode::Fail => 0xF8,
            ReplyCode::KeyNotSet => 0xFA,
        }
    }

    /// The code for a status byte, if it is one.
    pub fn from_code(code: u8) -> Option<ReplyCode> {
        Some(match code {
            0xF0 => ReplyCode::Ok,
            0xF2 => ReplyCode::UnknownCommand,
            0xF3 => ReplyCode::WrongParameterCount,
            0xF4 => ReplyCode::ParameterOutOfRange,
            0xF5 => ReplyCode::CannotProcess,
            0xF6 => ReplyCode::SoftwareError,
            0xF8 => ReplyCode::Fail,
            0xFA => ReplyCode::KeyNotSet,
            _ => return None,
        })
    }
}

/// A slave reply: status and the data after it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    /// The status byte.
    pub code: ReplyCode,
    /// What follows it (poll events, setup data, a key…).
    pub data: Vec<u8>,
}

impl Reply {
    /// A reply with data.
    pub fn new(code: ReplyCode, data: impl Into<Vec<u8>>) -> Reply {
        Reply {
            code,
            data: data.into(),
        }
    }

    /// A bare `F0`.
    pub fn ok() -> Reply {
        Reply::new(ReplyCode::Ok, [])
    }

    /// Reads a reply from packet DATA.
    ///
    /// Errors: [`WireError::Truncated`] for empty data,
    /// [`WireError::InvalidByte`] for a first byte that is no status.
    pub fn parse(data: &[u8]) -> Result<Reply, WireError> {
        let (&first, rest) = data.split_first().ok_or(WireError::Truncated)?;
        let code = ReplyCode::from_code(first).ok_or(WireError::InvalidByte(first))?;
        Ok(Reply::new(code, rest))
    }

    /// The packet DATA.
    pub fn to_data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 1);
        out.push(self.code.code());
        out.extend_from_slice(&self.data);
        out
    }

    /// The 8-byte little-endian key in the answer to REQUEST KEY EXCHANGE.
    pub fn key(&self) -> Result<u64, WireError> {
        let bytes: [u8; 8] = self
            .data
            .as_slice()
            .try_into()
            .map_err(|_| WireError::BadData {
                cmd: 0x4C,
                len: self.data.len(),
            })?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// The 4-byte big-endian serial number in the answer to GET SERIAL NUMBER.
    pub fn serial_number(&self) -> Result<u32, WireError> {
        let bytes: [u8; 4] = self
            .data
            .as_slice()
            .try_into()
            .map_err(|_| WireError::BadData {
                cmd: 0x0C,
                len: self.data.len(),
            })?;
        Ok(u32::from_be_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip_and_reject_non_status_bytes() {
        for code in [0xF0, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF8, 0xFA] {
            let reply = Reply::parse(&[code, 1, 2]).unwrap();
            assert_eq!(reply.to_data(), [code, 1, 2]);
        }
        assert_eq!(Reply::parse(&[]), Err(WireError::Truncated));
        assert_eq!(Reply::parse(&[0xF1]), Err(WireError::InvalidByte(0xF1)));
        assert_eq!(Reply::parse(&[0x07]), Err(WireError::InvalidByte(0x07)));
    }

    #[test]
    fn keys_and_serial_numbers() {
        let reply = Reply::parse(&[0xF0, 0x9D, 0x5A, 0x34, 0x21, 0, 0, 0, 0]).unwrap();
        assert_eq!(reply.key(), Ok(557_079_197));
        let serial = Reply::parse(&[0xF0, 0x00, 0x0B, 0xCB, 0x61]).unwrap();
        assert_eq!(serial.serial_number(), Ok(772_961));
        assert!(Reply::ok().key().is_err());
    }
}
