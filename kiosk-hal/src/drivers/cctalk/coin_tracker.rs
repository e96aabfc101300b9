//! Turns a coin acceptor's buffered credits and error codes into acceptor
//! events.
//!
//! A coin has no escrow: the credit event is the credit point, and it
//! reaches the kiosk as [`AcceptorEvent::Stacked`] with the coin's value,
//! never preceded by `Escrowed`. The core credits a `Stacked` without an
//! escrow once (journaled as a new stacked item) — the same money line as
//! a note.

use crate::wire::cctalk::{CoinError, CoinEvent};
use crate::{AcceptorEvent, AcceptorStatus, FraudKind, JamLocation, Money, NoteFate, RejectReason};

#[derive(Debug, Clone, Default)]
pub(super) struct CoinTracker {
    /// A coin jam was reported and nothing since showed the path moving.
    jam: bool,
    /// A hardware error was reported and no coin since passed.
    failed: bool,
}

impl CoinTracker {
    /// Events were lost (the counter jumped past the buffer) or the device
    /// restarted. A lost event may have been a coin credited: an in-doubt
    /// item of unknown value with the alarm a jam raises, settled by staff
    /// at clearing. A restart with nothing lost settles only a jam.
    pub(super) fn fate_lost(&mut self, out: &mut Vec<AcceptorEvent>, coin_possible: bool) {
        let jammed = std::mem::take(&mut self.jam);
        if !(jammed || coin_possible) {
            return;
        }
        if !jammed {
            out.push(AcceptorEvent::Jammed {
                location: JamLocation::Stacker,
                value: None,
            });
        }
        out.push(AcceptorEvent::JamCleared {
            fate: NoteFate::Unknown,
        });
    }

    pub(super) fn on_event(
        &mut self,
        event: CoinEvent,
        value_of: impl Fn(u8) -> Option<Money>,
        out: &mut Vec<AcceptorEvent>,
    ) {
        match event {
            CoinEvent::Credit { position, .. } => {
                self.path_moving(out);
                match value_of(position) {
                    Some(value) => out.push(AcceptorEvent::Stacked { value }),
                    // In the box, value unknown (a position with no coin
                    // id): in doubt, settled as in the box.
                    None => {
                        out.push(AcceptorEvent::Jammed {
                            location: JamLocation::Stacker,
                            value: None,
                        });
                        out.push(AcceptorEvent::JamCleared {
                            fate: NoteFate::InCashBox,
                        });
                    }
                }
            }
            CoinEvent::Error(code) => match code {
                CoinError::Rejected(_) => self.returned(out, RejectReason::Counterfeit),
                CoinError::Inhibited(_) => self.returned(out, RejectReason::Inhibited),
                CoinError::MultipleWindow => self.returned(out, RejectReason::Other),
                CoinError::TooQuick(_) => self.returned(out, RejectReason::Insertion),
                CoinError::BadTransit(_) => self.returned(out, RejectReason::Transport),
                CoinError::Jam(_) => {
                    if !self.jam {
                        self.jam = true;
                        out.push(AcceptorEvent::Jammed {
                            location: JamLocation::Acceptor,
                            value: None,
                        });
                    }
                }
                CoinError::Fraud(17 | 20) => out.push(AcceptorEvent::Fraud {
                    kind: FraudKind::StringOrFishing,
                }),
                CoinError::Fraud(_) | CoinError::Alarm => out.push(AcceptorEvent::Fraud {
                    kind: FraudKind::Unspecified,
                }),
                CoinError::Hardware(_) => {
                    self.failed = true;
                    out.push(AcceptorEvent::Failure);
                }
                CoinError::None
                | CoinError::ReturnLever
                | CoinError::DataBlockRequest
                | CoinError::SecurityChanged
                | CoinError::Other(_) => {}
            },
        }
    }

    /// A coin was given back: the path moves again.
    fn returned(&mut self, out: &mut Vec<AcceptorEvent>, reason: RejectReason) {
        self.path_moving(out);
        out.push(AcceptorEvent::Rejected { reason });
    }

    /// A coin passed (credited or returned) after a jam: the jam is gone,
    /// but whether the jammed coin was that one nobody can say.
    fn path_moving(&mut self, out: &mut Vec<AcceptorEvent>) {
        self.failed = false;
        if std::mem::take(&mut self.jam) {
            out.push(AcceptorEvent::JamCleared {
                fate: NoteFate::Unknown,
            });
        }
    }

    pub(super) fn status(&self, enabled: bool) -> AcceptorStatus {
        if self.jam {
            AcceptorStatus::Jammed
        } else if self.failed {
            AcceptorStatus::Failure
        } else if enabled {
            AcceptorStatus::Accepting
        } else {
            AcceptorStatus::Inhibited
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn yuan(position: u8) -> Option<Money> {
        (position == 3).then(|| Money::major(1, Currency::CNY))
    }

    fn events(t: &mut CoinTracker, e: CoinEvent) -> Vec<AcceptorEvent> {
        let mut out = Vec::new();
        t.on_event(e, yuan, &mut out);
        out
    }

    #[test]
    fn a_credit_is_stacked_at_once_and_errors_map_to_events() {
        let mut t = CoinTracker::default();
        let credit = CoinEvent::Credit {
            position: 3,
            sorter_path: 1,
        };
        assert_eq!(
            events(&mut t, credit),
            [AcceptorEvent::Stacked {
                value: Money::major(1, Currency::CNY)
            }]
        );
        let err = |b| CoinEvent::Error(CoinError::from_byte(b));
        assert_eq!(
            events(&mut t, err(1)),
            [AcceptorEvent::Rejected {
                reason: RejectReason::Counterfeit
            }]
        );
        assert_eq!(
            events(&mut t, err(130)),
            [AcceptorEvent::Rejected {
                reason: RejectReason::Inhibited
            }]
        );
        assert_eq!(
            events(&mut t, err(20)),
            [AcceptorEvent::Fraud {
                kind: FraudKind::StringOrFishing
            }]
        );
        assert!(events(&mut t, err(254)).is_empty(), "the return lever");
        // A jam, once; the next coin through clears it with an unknown fate.
        assert_eq!(events(&mut t, err(14)).len(), 1);
        assert!(events(&mut t, err(14)).is_empty());
        assert_eq!(t.status(true), AcceptorStatus::Jammed);
        assert_eq!(
            events(&mut t, credit),
            [
                AcceptorEvent::JamCleared {
                    fate: NoteFate::Unknown
                },
                AcceptorEvent::Stacked {
                    value: Money::major(1, Currency::CNY)
                }
            ]
        );
        assert_eq!(t.status(true), AcceptorStatus::Accepting);
        // A coin of a position without an id: in the box, value unknown.
        let unknown = events(
            &mut t,
            CoinEvent::Credit {
                position: 9,
                sorter_path: 0,
            },
        );
        assert_eq!(
            unknown.last(),
            Some(&AcceptorEvent::JamCleared {
                fate: NoteFate::InCashBox
            })
        );
    }

    #[test]
    fn lost_events_put_a_possible_coin_in_doubt() {
        let mut t = CoinTracker::default();
        let mut out = Vec::new();
        t.fate_lost(&mut out, false);
        assert!(out.is_empty(), "a clean restart settles nothing");
        t.fate_lost(&mut out, true);
        assert_eq!(
            out,
            [
                AcceptorEvent::Jammed {
                    location: JamLocation::Stacker,
                    value: None
                },
                AcceptorEvent::JamCleared {
                    fate: NoteFate::Unknown
                }
            ]
        );
    }
}
