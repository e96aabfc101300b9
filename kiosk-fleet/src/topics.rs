//! The topic tree: one prefix per hall, one branch per kiosk.
//!
//! ```text
//! kiosk/v1/<hall>/<kiosk>/status       retained, QoS 1: the kiosk's status, or "offline" (last will)
//! kiosk/v1/<hall>/<kiosk>/ticket       QoS 1: a fault ticket opened, escalated, resolved
//! kiosk/v1/<hall>/<kiosk>/event        QoS 0: sessions, payments, faults, alarms
//! kiosk/v1/<hall>/<kiosk>/cmd          QoS 1: signed commands to the kiosk
//! kiosk/v1/<hall>/<kiosk>/cmd/result   QoS 1: each command's answer
//! ```
//!
//! Every kiosk writes only under its own `<hall>/<kiosk>/` branch (the
//! broker's ACL enforces it with the kiosk's login as `<kiosk>`), so a
//! message's topic names its sender: the hall never trusts an id inside
//! a payload over the topic it came on. Hall and kiosk ids are single
//! topic levels: no `/`, `+`, `#`, and not empty.

/// The first levels of every topic: application and schema version.
pub const ROOT: &str = "kiosk/v1";

/// What a topic under a kiosk carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Retained status or the offline marker.
    Status,
    /// Fault tickets.
    Ticket,
    /// Events.
    Event,
    /// Commands to the kiosk.
    Command,
    /// Answers to commands.
    CommandResult,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] = [
        Channel::Status,
        Channel::Ticket,
        Channel::Event,
        Channel::Command,
        Channel::CommandResult,
    ];

    /// The topic's tail after `<hall>/<kiosk>/`.
    pub fn suffix(self) -> &'static str {
        match self {
            Channel::Status => "status",
            Channel::Ticket => "ticket",
            Channel::Event => "event",
            Channel::Command => "cmd",
            Channel::CommandResult => "cmd/result",
        }
    }
}

/// Why an id cannot be a topic level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadId(pub String);

impl std::fmt::Display for BadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} cannot be an MQTT topic level (empty, or has '/', '+', '#' or a control character)",
            self.0
        )
    }
}

impl std::error::Error for BadId {}

/// Checks that `id` is one topic level.
pub fn check_id(id: &str) -> Result<(), BadId> {
    let bad = id.is_empty()
        || id.len() > 64
        || id
            .chars()
            .any(|c| c == '/' || c == '+' || c == '#' || c.is_control());
    if bad {
        Err(BadId(id.to_string()))
    } else {
        Ok(())
    }
}

/// The topics of one hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallTopics {
    hall: String,
}

impl HallTopics {
    /// The hall `hall` (checked as one topic level).
    pub fn new(hall: &str) -> Result<HallTopics, BadId> {
        check_id(hall)?;
        Ok(HallTopics { hall: hall.into() })
    }

    /// The hall's id.
    pub fn hall(&self) -> &str {
        &self.hall
    }

    /// `kiosk/v1/<hall>/<kiosk>/<channel>`.
    pub fn topic(&self, kiosk: &str, channel: Channel) -> String {
        debug_assert!(check_id(kiosk).is_ok(), "{kiosk:?}");
        format!("{ROOT}/{}/{kiosk}/{}", self.hall, channel.suffix())
    }

    /// The filter for `channel` of every kiosk of the hall (`+` for the kiosk).
    pub fn every_kiosk(&self, channel: Channel) -> String {
        format!("{ROOT}/{}/+/{}", self.hall, channel.suffix())
    }

    /// Which kiosk and channel `topic` is, if it is one of this hall's.
    pub fn parse<'t>(&self, topic: &'t str) -> Option<(&'t str, Channel)> {
        let rest = topic.strip_prefix(ROOT)?.strip_prefix('/')?;
        let rest = rest.strip_prefix(self.hall.as_str())?.strip_prefix('/')?;
        let (kiosk, tail) = rest.split_once('/')?;
        check_id(kiosk).ok()?;
        let channel = Channel::ALL.into_iter().find(|c| c.suffix() == tail)?;
        Some((kiosk, channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_parses_back_to_its_kiosk_and_channel() {
        let t = HallTopics::new("营业厅-1").unwrap();
        for channel in Channel::ALL {
            let topic = t.topic("K07", channel);
            assert_eq!(t.parse(&topic), Some(("K07", channel)), "{topic}");
        }
        assert_eq!(
            t.topic("K07", Channel::CommandResult),
            "kiosk/v1/营业厅-1/K07/cmd/result"
        );
        assert_eq!(t.every_kiosk(Channel::Status), "kiosk/v1/营业厅-1/+/status");
    }

    #[test]
    fn other_halls_and_unknown_tails_are_not_ours() {
        let t = HallTopics::new("H1").unwrap();
        assert_eq!(t.parse("kiosk/v1/H2/K01/status"), None);
        assert_eq!(t.parse("kiosk/v1/H1/K01/status/x"), None);
        assert_eq!(t.parse("kiosk/v1/H1/status"), None);
        assert_eq!(t.parse("kiosk/v0/H1/K01/status"), None);
        assert_eq!(t.parse("kiosk/v1/H10/K01/status"), None);
    }

    #[test]
    fn ids_must_be_one_topic_level() {
        for bad in ["", "a/b", "K+", "#", "a\nb"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
            assert!(HallTopics::new(bad).is_err());
        }
        assert!(check_id("K01").is_ok());
    }
}
