//! The answer to SETUP REQUEST (0x05) from a note validator (unit type 0x00).

use crate::wire::WireError;
use crate::{Currency, DeviceIdentity, DeviceProtocol, Money};

/// What a note validator says about itself and its channels.
///
/// ```text
/// type | firmware ×4 ASCII | country ×3 | value multiplier ×3 BE | n | values ×n | security ×n
///      | real value multiplier ×3 BE | protocol version
///      | (protocol ≥ 6) country ×3 per channel | value ×4 LE per channel
/// ```
///
/// A channel's note is worth its value × the real value multiplier in
/// minor units (⚠ GA138 says "pence/cents"; datasets with the 1-byte
/// values beyond 255 need protocol 6's 4-byte values).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetupData {
    /// 0x00 for a note validator.
    pub unit_type: u8,
    /// Firmware version, 4 ASCII digits ("0420" = 4.20).
    pub firmware: [u8; 4],
    /// The dataset's country code, 3 ASCII letters ("CNY").
    pub country: [u8; 3],
    /// The value multiplier (24 bits; 0 means: use protocol 6's values).
    pub value_multiplier: u32,
    /// The 1-byte value of each channel (channel 1 first).
    pub channel_values: Vec<u8>,
    /// The security level of each channel.
    pub channel_security: Vec<u8>,
    /// Multiplier from a channel value to minor units (24 bits).
    pub real_value_multiplier: u32,
    /// The protocol version the unit speaks.
    pub protocol_version: u8,
    /// Protocol ≥ 6: each channel's currency.
    pub channel_countries: Vec<[u8; 3]>,
    /// Protocol ≥ 6: each channel's 4-byte value.
    pub expanded_values: Vec<u32>,
}

fn u24(b: &[u8]) -> u32 {
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

impl SetupData {
    /// Reads the data after `F0`.
    ///
    /// Errors: [`WireError::BadData`] (command 0x05) when the data is shorter
    /// than its channel count says, or its texts are not ASCII.
    pub fn parse(data: &[u8]) -> Result<SetupData, WireError> {
        let bad = || WireError::BadData {
            cmd: 0x05,
            len: data.len(),
        };
        let head = data.get(..12).ok_or_else(bad)?;
        let n = usize::from(head[11]);
        let base = 12 + 2 * n + 4;
        let rest = data.get(12..base).ok_or_else(bad)?;
        let protocol_version = rest[2 * n + 3];
        let wide = protocol_version >= 6;
        let end = if wide { base + 7 * n } else { base };
        if data.len() < end {
            return Err(bad());
        }
        let ascii3 = |b: &[u8]| -> Result<[u8; 3], WireError> {
            let a = [b[0], b[1], b[2]];
            a.iter().all(u8::is_ascii).then_some(a).ok_or_else(bad)
        };
        let firmware = [head[1], head[2], head[3], head[4]];
        if !firmware.iter().all(u8::is_ascii) {
            return Err(bad());
        }
        let (channel_countries, expanded_values) = if wide {
            let countries = data[base..base + 3 * n]
                .chunks_exact(3)
                .map(ascii3)
                .collect::<Result<Vec<_>, _>>()?;
            let values = data[base + 3 * n..end]
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (countries, values)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(SetupData {
            unit_type: head[0],
            firmware,
            country: ascii3(&head[5..8])?,
            value_multiplier: u24(&head[8..11]),
            channel_values: rest[..n].to_vec(),
            channel_security: rest[n..2 * n].to_vec(),
            real_value_multiplier: u24(&rest[2 * n..2 * n + 3]),
            protocol_version,
            channel_countries,
            expanded_values,
        })
    }

    /// The data after `F0`.
    ///
    /// Errors: [`WireError::BadLength`] when the channel lists differ in
    /// length (or, for protocol ≥ 6, the wide lists are missing) or there
    /// are more than 255 channels.
    pub fn to_data(&self) -> Result<Vec<u8>, WireError> {
        let n = self.channel_values.len();
        let wide = self.protocol_version >= 6;
        let consistent = self.channel_security.len() == n
            && (!wide || (self.channel_countries.len() == n && self.expanded_values.len() == n));
        if !consistent || n > 255 {
            return Err(WireError::BadLength(n));
        }
        let mut out = vec![self.unit_type];
        out.extend_from_slice(&self.firmware);
        out.extend_from_slice(&self.country);
        out.extend_from_slice(&self.value_multiplier.to_be_bytes()[1..]);
        out.push(n as u8);
        out.extend_from_slice(&self.channel_values);
        out.extend_from_slice(&self.channel_security);
        out.extend_from_slice(&self.real_value_multiplier.to_be_bytes()[1..]);
        out.push(self.protocol_version);
        if wide {
            for c in &self.channel_countries {
                out.extend_from_slice(c);
            }
            for v in &self.expanded_values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// Channels the unit has.
    pub fn channels(&self) -> usize {
        self.channel_values.len()
    }

    /// The note of `channel` (1-based), or `None` for channel 0, a channel
    /// the unit does not have, a currency that is not three letters, or a
    /// value that does not fit.
    pub fn value(&self, channel: u8) -> Option<Money> {
        let i = usize::from(channel).checked_sub(1)?;
        let (value, country) = if self.protocol_version >= 6 {
            (
                *self.expanded_values.get(i)?,
                *self.channel_countries.get(i)?,
            )
        } else {
            (u32::from(*self.channel_values.get(i)?), self.country)
        };
        let currency = Currency::from_code(country)?;
        let minor = i64::from(value).checked_mul(i64::from(self.real_value_multiplier))?;
        (minor > 0).then(|| Money::new(minor, currency))
    }

    /// The channel whose note is `value`, if any.
    pub fn channel_of(&self, value: Money) -> Option<u8> {
        (1..=self.channels().min(255) as u8).find(|&c| self.value(c) == Some(value))
    }

    /// The firmware version as text ("0420").
    pub fn firmware_text(&self) -> String {
        String::from_utf8_lossy(&self.firmware).into_owned()
    }

    /// What the unit says about itself: its unit type as the model,
    /// firmware as `major.minor` (`"0420"` → `4.20`, the ITL SDK's reading),
    /// its dataset's country, and the serial number from GET SERIAL NUMBER
    /// (0x0C) in decimal, as printed on the unit's label.
    pub fn identity(&self, serial_number: Option<u32>) -> DeviceIdentity {
        let text = self.firmware_text();
        let firmware = match text.parse::<u32>() {
            Ok(n) if text.len() == 4 => format!("{}.{:02}", n / 100, n % 100),
            _ => text,
        };
        let model = match unit_type_name(self.unit_type) {
            Some(name) => name.to_string(),
            None => format!("unit type 0x{:02X}", self.unit_type),
        };
        DeviceIdentity {
            model: Some(model),
            firmware: Some(firmware),
            serial: serial_number.map(|n| n.to_string()),
            country: Some(String::from_utf8_lossy(&self.country).into_owned()),
            ..DeviceIdentity::of(DeviceProtocol::Ssp)
        }
    }
}

/// The name of an SSP unit type (the first byte of the setup answer), for
/// the types public drivers list.
pub fn unit_type_name(unit_type: u8) -> Option<&'static str> {
    Some(match unit_type {
        0x00 => "Banknote validator",
        0x03 => "Smart Hopper",
        0x06 => "SMART payout fitted",
        0x07 => "Note Float fitted",
        0x08 => "Addon Printer",
        0x0B => "Stand Alone Printer",
        0x0D => "TEBS",
        0x0E => "TEBS with SMART Payout",
        0x0F => "TEBS with SMART Ticket",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(major: i64) -> Money {
        Money::major(major, Currency::CNY)
    }

    fn sample(protocol_version: u8) -> SetupData {
        let values = [1u8, 5, 10, 20, 50, 100];
        SetupData {
            unit_type: 0,
            firmware: *b"0420",
            country: *b"CNY",
            value_multiplier: 1,
            channel_values: values.to_vec(),
            channel_security: vec![2; 6],
            real_value_multiplier: 100,
            protocol_version,
            channel_countries: if protocol_version >= 6 {
                vec![*b"CNY"; 6]
            } else {
                vec![]
            },
            expanded_values: if protocol_version >= 6 {
                values.iter().map(|&v| u32::from(v)).collect()
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn setup_round_trips_and_values_are_money() {
        for version in [4, 6, 7] {
            let setup = sample(version);
            let data = setup.to_data().unwrap();
            assert_eq!(SetupData::parse(&data), Ok(setup.clone()));
            assert_eq!(setup.value(1), Some(cny(1)));
            assert_eq!(setup.value(6), Some(cny(100)));
            assert_eq!(setup.value(0), None);
            assert_eq!(setup.value(7), None);
            assert_eq!(setup.channel_of(cny(50)), Some(5));
            assert_eq!(setup.channel_of(cny(2)), None);
        }
        // Layout: type, "0420", "CNY", multiplier 00 00 01, 6 channels.
        let data = sample(7).to_data().unwrap();
        assert_eq!(&data[..12], b"\x000420CNY\x00\x00\x01\x06");
        assert_eq!(data.len(), 16 + 2 * 6 + 7 * 6);
    }

    #[test]
    fn short_or_inconsistent_setup_is_an_error() {
        let data = sample(7).to_data().unwrap();
        for cut in [0, 11, 12, 20, data.len() - 1] {
            assert!(SetupData::parse(&data[..cut]).is_err(), "cut at {cut}");
        }
        let mut odd = sample(7);
        odd.expanded_values.pop();
        assert_eq!(odd.to_data(), Err(WireError::BadLength(6)));
    }

    /// The banknote-validator setup answer and the serial-number answer
    /// from encrypted-smiley-secure-protocol's tests (`utils.parseData.test.js`),
    /// after their leading `F0`.
    #[test]
    fn public_setup_and_serial_vectors_give_the_identity() {
        let setup = [
            0x00, 0x30, 0x31, 0x30, 0x30, 0x45, 0x55, 0x52, 0x00, 0x00, 0x01, 0x03, 0x05, 0x0a,
            0x14, 0x02, 0x02, 0x02, 0x00, 0x00, 0x64, 0x04,
        ];
        let data = SetupData::parse(&setup).unwrap();
        assert_eq!(data.channel_values, [5, 10, 20]);
        assert_eq!(
            (data.real_value_multiplier, data.protocol_version),
            (100, 4)
        );
        assert_eq!(data.to_data().unwrap(), setup, "emit is the inverse");
        let serial =
            crate::wire::ssp::Reply::new(crate::wire::ssp::ReplyCode::Ok, [0, 74, 120, 180]);
        let id = data.identity(serial.serial_number().ok());
        assert_eq!(id.protocol, DeviceProtocol::Ssp);
        assert_eq!(id.model.as_deref(), Some("Banknote validator"));
        assert_eq!(id.firmware.as_deref(), Some("1.00"));
        assert_eq!(id.country.as_deref(), Some("EUR"));
        assert_eq!(id.serial.as_deref(), Some("4880564"));
        let odd = SetupData {
            unit_type: 0x42,
            firmware: *b"X1.2",
            ..data
        };
        let id = odd.identity(None);
        assert_eq!(id.model.as_deref(), Some("unit type 0x42"));
        assert_eq!((id.firmware.as_deref(), id.serial), (Some("X1.2"), None));
    }
}
