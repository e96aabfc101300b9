//! Settings of the SSP acceptor driver.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::drivers::{Parity, ReconnectConfig, SerialLine};
use crate::wire::ssp::essp::DEFAULT_FIXED_KEY;

/// The slowest poll GA138 allows (its window is 200–1000 ms).
const IDLE_POLL_MAX_MS: u64 = 1000;

/// An ITL SSP / eSSP note validator (NV9, NV10, NV11, NV200…) on a serial port.
///
/// ```toml
/// kind = "ssp"
/// port = "/dev/serial/by-id/usb-ITL-NV200-if00"
/// encryption = true
/// fixed-key = "0123456701234567"
/// ```
///
/// Every field but `port` has a default; timings follow ITL GA138 (see
/// `shared/docs/protocols.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SspConfig {
    /// The port (required).
    pub port: PathBuf,
    /// Baud rate. Default 9600.
    pub baud: u32,
    /// Stop bits. Default 2 (SSP is 8N2).
    pub stop_bits: u8,
    /// The unit's SSP address. Default 0 (validators).
    pub address: u8,
    /// Exchange keys and encrypt every command (eSSP). Default false: plain
    /// SSP is enough for a note validator unless the unit is configured to
    /// insist, which it shows by answering FA.
    pub encryption: bool,
    /// The unit's fixed key as ITL writes it, 16 hex digits. Default
    /// `0123456701234567`, the factory key.
    pub fixed_key: String,
    /// The protocol version announced with HOST PROTOCOL VERSION. Default 6
    /// (the version with 4-byte channel values and per-channel currencies).
    pub protocol_version: u8,
    /// Poll with ACK (0x56) and acknowledge events (0x57), so a credit is
    /// repeated until the driver has taken it. Default true; a unit that
    /// does not know 0x56 is polled plainly.
    pub poll_with_ack: bool,
    /// Poll interval (GA138: 200–1000 ms). Default 200.
    pub poll_interval_ms: u64,
    /// Poll interval while the kiosk keeps the unit disabled and its last
    /// poll reported nothing but "disabled" (0xE8): between customers, when
    /// no note can enter and none is held (the 10 s escrow timeout of
    /// GA138 only runs with a note held, which needs the unit enabled).
    /// At most 1000 (GA138's slowest poll; `validate` refuses more). A
    /// request, or any other event (a cash box pulled out, a jam), goes
    /// back to `poll-interval-ms` at once. Default 1000.
    pub idle_poll_interval_ms: u64,
    /// How long to wait for a reply (GA138: 1 s). Default 1000.
    pub answer_timeout_ms: u64,
    /// Resends of one command, with the same sequence flag, before the unit
    /// counts as offline (GA138 allows 20). Default 3.
    pub command_retries: u32,
    /// After a RESET the unit is quiet while it boots: how long its silence
    /// is not an outage. Default 10000.
    pub reset_grace_ms: u64,
    /// First wait before reopening a vanished port. Default 200.
    pub reconnect_initial_ms: u64,
    /// Longest wait between reopening attempts. Default 5000.
    pub reconnect_max_ms: u64,
    /// The I/O thread's write timeout and its longest sleep while the port
    /// cannot be opened (reads wait on the port itself, not on a tick).
    /// Default 5.
    pub io_tick_ms: u64,
}

impl Default for SspConfig {
    fn default() -> Self {
        SspConfig {
            port: PathBuf::new(),
            baud: 9600,
            stop_bits: 2,
            address: 0,
            encryption: false,
            fixed_key: format!("{DEFAULT_FIXED_KEY:016X}"),
            protocol_version: 6,
            poll_with_ack: true,
            poll_interval_ms: 200,
            idle_poll_interval_ms: 1000,
            answer_timeout_ms: 1000,
            command_retries: 3,
            reset_grace_ms: 10_000,
            reconnect_initial_ms: 200,
            reconnect_max_ms: 5000,
            io_tick_ms: 5,
        }
    }
}

impl SspConfig {
    /// The config for a port, every other field at its default.
    pub fn for_port(port: impl Into<PathBuf>) -> SspConfig {
        SspConfig {
            port: port.into(),
            ..SspConfig::default()
        }
    }

    /// The fixed key as a number.
    pub fn fixed_key(&self) -> Result<u64, String> {
        let hex = self.fixed_key.trim();
        if hex.len() != 16 {
            return Err(format!("fixed-key {hex:?} is not 16 hex digits"));
        }
        u64::from_str_radix(hex, 16).map_err(|_| format!("fixed-key {hex:?} is not 16 hex digits"))
    }

    /// Checks what a port cannot: the address and the fixed key.
    pub fn validate(&self) -> Result<(), String> {
        if self.address > 0x7D {
            return Err(format!("address {} is above 125", self.address));
        }
        if self.idle_poll_interval_ms > IDLE_POLL_MAX_MS {
            return Err(format!(
                "idle-poll-interval-ms {} is above {IDLE_POLL_MAX_MS} (GA138: poll at least once a second)",
                self.idle_poll_interval_ms
            ));
        }
        self.fixed_key().map(|_| ())?;
        self.line().validate()
    }

    /// The serial line settings (8 data bits, no parity).
    pub fn line(&self) -> SerialLine {
        SerialLine {
            path: self.port.clone(),
            baud: self.baud,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: self.stop_bits,
        }
    }

    /// The reopening backoff.
    pub fn reconnect(&self) -> ReconnectConfig {
        ReconnectConfig {
            initial_ms: self.reconnect_initial_ms,
            max_ms: self.reconnect_max_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toml_example_parses_and_bad_keys_are_refused() {
        let config: SspConfig = toml::from_str(
            "port = \"/dev/ttyUSB0\"\nencryption = true\nfixed-key = \"0123456701234567\"\n",
        )
        .unwrap();
        assert!(config.encryption);
        assert_eq!(config.fixed_key(), Ok(DEFAULT_FIXED_KEY));
        assert_eq!(config.line().stop_bits, 2);
        assert_eq!(config.validate(), Ok(()));
        let short = SspConfig {
            fixed_key: "0123".into(),
            ..config.clone()
        };
        assert!(short.validate().is_err());
        let far = SspConfig {
            address: 0x7F,
            ..config
        };
        assert!(far.validate().is_err());
        assert!(toml::from_str::<SspConfig>("port = \"/x\"\nbaud-rate = 1").is_err());
    }
}
