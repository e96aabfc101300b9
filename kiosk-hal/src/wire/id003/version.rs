//! The answer to VERSION REQUEST (0x88): the validator's model, protocol,
//! firmware and dataset country in one ASCII line.
//!
//! ```text
//! i(CHN)100-SS ID003-05V200-41 16MAR18 [CRC]
//! └model──────┘└proto─┘└firmware┘└date─┘└ROM checksum, not always sent
//!   └country: the letters inside the parentheses
//! ```
//!
//! ⚠ No manual is public: the layout is the one two public drivers parse
//! and emit (see `docs/protocol-notes.md`). The parser therefore keeps the
//! whole line as sent and reads the fields leniently: a line it cannot
//! split still gives its model (the first word).

use crate::wire::WireError;
use crate::{DeviceIdentity, DeviceProtocol};

/// The VERSION REQUEST command byte (and its answer's status byte).
const VERSION: u8 = 0x88;

/// A validator's version line, split into its fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionInfo {
    /// The line as sent, trailing spaces and NULs removed.
    pub text: String,
    /// The first word: model and country variant (`i(CHN)100-SS`).
    pub model: String,
    /// The dataset's country: the first three letters inside the model's
    /// parentheses (`CHN`), if there are any.
    pub country: Option<String>,
    /// The protocol part of the second word, before its `V` (`ID003-05`).
    pub protocol: Option<String>,
    /// The firmware version, from the second word's `V` on (`V200-41`).
    pub firmware: Option<String>,
    /// The firmware's date as written (`16MAR18`).
    pub date: Option<String>,
}

impl VersionInfo {
    /// Reads the data of a 0x88 answer.
    ///
    /// Errors: [`WireError::BadData`] (0x88) for data that is empty, blank
    /// or not printable ASCII.
    pub fn parse(data: &[u8]) -> Result<VersionInfo, WireError> {
        let bad = || WireError::BadData {
            cmd: VERSION,
            len: data.len(),
        };
        let end = data
            .iter()
            .rposition(|&b| b != 0 && b != b' ')
            .map_or(0, |i| i + 1);
        let data = &data[..end];
        if data.is_empty() || !data.iter().all(|&b| b.is_ascii_graphic() || b == b' ') {
            return Err(bad());
        }
        let text = String::from_utf8(data.to_vec()).map_err(|_| bad())?;
        let mut words = text.split_ascii_whitespace();
        let model = words.next().ok_or_else(bad)?.to_string();
        let country = country_of(&model);
        let (protocol, firmware) = match words.next() {
            Some(word) => match word.find('V') {
                Some(0) | None => (None, Some(word.to_string())),
                Some(v) => (Some(word[..v].to_string()), Some(word[v..].to_string())),
            },
            None => (None, None),
        };
        let date = words.next().map(str::to_string);
        Ok(VersionInfo {
            text,
            model,
            country,
            protocol,
            firmware,
            date,
        })
    }

    /// The data of a 0x88 answer (the emulator's side): the line as is.
    pub fn to_data(&self) -> Vec<u8> {
        self.text.as_bytes().to_vec()
    }

    /// The identity this line gives: model, firmware (with its date, since
    /// JCM reuses version numbers across dates) and country; ID-003 has no
    /// serial-number request.
    pub fn identity(&self) -> DeviceIdentity {
        let firmware = match (&self.protocol, &self.firmware, &self.date) {
            (_, None, _) => None,
            (Some(p), Some(f), Some(d)) => Some(format!("{p}{f} {d}")),
            (Some(p), Some(f), None) => Some(format!("{p}{f}")),
            (None, Some(f), Some(d)) => Some(format!("{f} {d}")),
            (None, Some(f), None) => Some(f.clone()),
        };
        DeviceIdentity {
            manufacturer: None,
            model: Some(self.model.clone()),
            firmware,
            serial: None,
            country: self.country.clone(),
            ..DeviceIdentity::of(DeviceProtocol::Id003)
        }
    }
}

/// `i(CHN)100-SS` → `CHN`; `U(GBR5)-700` → `GBR`.
fn country_of(model: &str) -> Option<String> {
    let open = model.find('(')?;
    let close = open + model[open..].find(')')?;
    let inner = &model[open + 1..close];
    let letters: String = inner
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    (letters.len() >= 3).then(|| letters[..3].to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::id003::{FrameRepr, StatusResponse};

    /// A whole answer frame as a public ID-003 device fake sends it (a Ruby
    /// pty emulator; see `docs/protocol-notes.md`): length 0x29, CRC C0 70.
    const FAKE_ARG_FRAME: &[u8] = b"\xfc\x29\x88i(ARG)100-SS ID003-05V186-24 18DEC12\xc0\x70";

    #[test]
    fn a_public_answer_frame_checks_and_splits() {
        let (frame, used) = FrameRepr::parse(FAKE_ARG_FRAME).unwrap();
        assert_eq!(used, FAKE_ARG_FRAME.len());
        let StatusResponse::Version(data) = StatusResponse::from_frame(&frame).unwrap() else {
            panic!("not a version answer");
        };
        let v = VersionInfo::parse(&data).unwrap();
        assert_eq!(v.model, "i(ARG)100-SS");
        assert_eq!(v.country.as_deref(), Some("ARG"));
        assert_eq!(v.protocol.as_deref(), Some("ID003-05"));
        assert_eq!(v.firmware.as_deref(), Some("V186-24"));
        assert_eq!(v.date.as_deref(), Some("18DEC12"));
        // Emit is the inverse: the same frame, CRC included.
        let again = StatusResponse::Version(v.to_data()).to_bytes().unwrap();
        assert_eq!(again, FAKE_ARG_FRAME);
    }

    #[test]
    fn the_documented_layout_with_rom_checksum_and_a_hyphenated_model() {
        // The example in Aristocrat Monaco's Id003Protocol.cs comment.
        let v = VersionInfo::parse(b"i(USA)100-SS ID003-05V280-42 01AUG17 964D").unwrap();
        assert_eq!(
            (
                v.country.as_deref(),
                v.firmware.as_deref(),
                v.date.as_deref()
            ),
            (Some("USA"), Some("V280-42"), Some("01AUG17"))
        );
        let id = v.identity();
        assert_eq!(id.model.as_deref(), Some("i(USA)100-SS"));
        assert_eq!(id.firmware.as_deref(), Some("ID003-05V280-42 01AUG17"));
        assert_eq!(id.serial, None);
        // A UBA line: a hyphen after the parenthesis, a digit after the country.
        let uba = VersionInfo::parse(b"U(GBR5)-700-SH2-RTQ ID003-05V005-00 21FEB25").unwrap();
        assert_eq!(uba.country.as_deref(), Some("GBR"));
        assert_eq!(uba.model, "U(GBR5)-700-SH2-RTQ");
    }

    #[test]
    fn padding_is_dropped_and_garbage_refused() {
        let v = VersionInfo::parse(b"i(CHN)100-SS ID003-05V200-41 16MAR18  \0\0").unwrap();
        assert_eq!(v.text, "i(CHN)100-SS ID003-05V200-41 16MAR18");
        assert_eq!(v.country.as_deref(), Some("CHN"));
        // Only a model: still an identity, no firmware.
        let bare = VersionInfo::parse(b"KIOSK-SIM").unwrap();
        assert_eq!((bare.country, bare.firmware), (None, None));
        for garbage in [&b""[..], b"   \0", b"i(CHN)\xff", b"a\nb"] {
            assert_eq!(
                VersionInfo::parse(garbage),
                Err(WireError::BadData {
                    cmd: 0x88,
                    len: garbage.len()
                }),
                "{garbage:?}"
            );
        }
    }
}
