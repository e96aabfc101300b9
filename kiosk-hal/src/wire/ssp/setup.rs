//! The answer to SETUP REQUEST (0x05) from a note validator (unit type 0x00).

use crate::wire::WireError;
use crate::{Currency, Money};

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
}
