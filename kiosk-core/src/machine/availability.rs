//! What the kiosk can offer a customer now, from what it knows of its
//! devices, its link and staff's orders.
//!
//! Pure: the runner reports faults as it detects them and clears them as
//! devices recover; this decides which payment methods the welcome screen
//! offers and what an out-of-service screen says. A fault stops its device
//! being used; a [`DeviceWarning`] (paper running low, the box nearly full)
//! is kept apart and stops nothing.

use std::collections::BTreeMap;

use kiosk_hal::{ErrorKind, PaymentMethod};

use crate::events::{DeviceKind, DeviceWarning};
use crate::screen::{Screen, ALTERNATIVE_CHANNELS, CHECKING_ACCEPTOR};

/// Device faults, the link's reachability and staff's orders. See the
/// module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Availability {
    faults: BTreeMap<DeviceKind, ErrorKind>,
    warnings: BTreeMap<DeviceKind, DeviceWarning>,
    /// Out of service by staff's order or a security measure, and why.
    disabled: Option<String>,
    /// The last account check or heartbeat got no answer at all.
    link_unreachable: bool,
    /// A card / QR reader is fitted.
    reader_fitted: bool,
    /// A restart left a note possibly in the acceptor's path and the
    /// acceptor has not yet said where it is: no cash (see
    /// [`Availability::set_awaiting_acceptor`]).
    awaiting_acceptor: bool,
}

impl Availability {
    /// Nothing faulty; `reader_fitted` says whether codes can be taken at all.
    pub fn new(reader_fitted: bool) -> Availability {
        Availability {
            reader_fitted,
            ..Availability::default()
        }
    }

    /// A device is faulty in this way. Returns whether that is news.
    pub fn fault(&mut self, device: DeviceKind, kind: ErrorKind) -> bool {
        self.faults.insert(device, kind) != Some(kind)
    }

    /// A device works again. Returns whether it had been faulty.
    pub fn cleared(&mut self, device: DeviceKind) -> bool {
        self.faults.remove(&device).is_some()
    }

    /// Devices currently faulty, and how.
    pub fn faults(&self) -> &BTreeMap<DeviceKind, ErrorKind> {
        &self.faults
    }

    /// The device's current fault, if any.
    pub fn fault_of(&self, device: DeviceKind) -> Option<ErrorKind> {
        self.faults.get(&device).copied()
    }

    /// Whether the device is faulty (a fault stops it being used).
    pub fn blocks(&self, device: DeviceKind) -> bool {
        self.faults.contains_key(&device)
    }

    /// A device needs attention soon. Returns whether that is news.
    pub fn warn(&mut self, device: DeviceKind, warning: DeviceWarning) -> bool {
        self.warnings.insert(device, warning) != Some(warning)
    }

    /// The device's warning has gone. Returns the warning it had, if any.
    pub fn warning_cleared(&mut self, device: DeviceKind) -> Option<DeviceWarning> {
        self.warnings.remove(&device)
    }

    /// Devices that need attention soon, and why.
    pub fn warnings(&self) -> &BTreeMap<DeviceKind, DeviceWarning> {
        &self.warnings
    }

    /// An account check or heartbeat got no answer at all (`true`), or
    /// some answer (`false`).
    pub fn set_link_unreachable(&mut self, unreachable: bool) {
        self.link_unreachable = unreachable;
    }

    /// Whether cash waits for the acceptor's word on a note a restart left
    /// in its path. While it does, a report about that note arriving late
    /// could only be taken by a new customer's session as that customer's
    /// own note; so no cash session starts until the report has come (or
    /// the machine has given up waiting and left the note in doubt).
    pub fn set_awaiting_acceptor(&mut self, awaiting: bool) {
        self.awaiting_acceptor = awaiting;
    }

    /// Whether cash waits for the acceptor's word on a note left in its path.
    pub fn awaiting_acceptor(&self) -> bool {
        self.awaiting_acceptor
    }

    /// Out of service by order, with the reason shown to customers
    /// (`None`: back in service).
    pub fn set_disabled(&mut self, reason: Option<String>) {
        self.disabled = reason;
    }

    /// Out of service unless already so for another reason (a security
    /// measure does not overwrite staff's own reason).
    pub fn disable_unless_disabled(&mut self, reason: &str) {
        self.disabled.get_or_insert_with(|| reason.to_string());
    }

    /// Why the kiosk is out of service by order, if it is.
    pub fn disabled(&self) -> Option<&str> {
        self.disabled.as_deref()
    }

    /// The payment methods a customer may choose now.
    ///
    /// A note in doubt is for staff to reconcile, not a lock: cash is
    /// offered whenever the acceptor and the box can take it, except while
    /// the kiosk waits (briefly, and for a bounded time) for the acceptor's
    /// word on a note a restart left in its path. With no answer from the
    /// backend no account can be checked, so nothing is.
    pub fn offered(&self) -> Vec<PaymentMethod> {
        self.offered_iter().collect()
    }

    /// Whether `method` is offered now (what [`Availability::offered`]
    /// lists, without building the list: a simulated hall asks after
    /// every step of every kiosk).
    pub fn offers(&self, method: PaymentMethod) -> bool {
        self.offered_iter().any(|m| m == method)
    }

    /// The offered methods in the order [`Availability::offered`] lists them.
    fn offered_iter(&self) -> impl Iterator<Item = PaymentMethod> {
        let open = self.disabled.is_none() && !self.link_unreachable;
        let cash = open
            && !self.awaiting_acceptor
            && !self.blocks(DeviceKind::Acceptor)
            && !self.blocks(DeviceKind::CashBox);
        let code = open && self.reader_fitted && !self.blocks(DeviceKind::Reader);
        [(cash, PaymentMethod::Cash), (code, PaymentMethod::Code)]
            .into_iter()
            .filter_map(|(on, method)| on.then_some(method))
    }

    /// Whether `screen` is what [`Availability::idle_screen`] would give
    /// now. The welcome screen is checked without building a new one (an
    /// idle machine asks after every step it takes).
    pub fn is_idle_screen(&self, screen: &Screen) -> bool {
        match screen {
            Screen::Welcome { methods } if !methods.is_empty() => {
                methods.iter().copied().eq(self.offered_iter())
            }
            _ => *screen == self.idle_screen(),
        }
    }

    /// The screen an idle kiosk shows: welcome with what it offers, or out
    /// of service with the reason and where else to pay.
    pub fn idle_screen(&self) -> Screen {
        let methods = self.offered();
        if !methods.is_empty() {
            return Screen::Welcome { methods };
        }
        let reason = match (&self.disabled, self.link_unreachable) {
            (Some(reason), _) => reason.clone(),
            (None, true) => "backend unreachable".into(),
            (None, false) => match self.faults.keys().next() {
                Some(device) => format!("{device:?} fault").to_lowercase(),
                None if self.awaiting_acceptor => CHECKING_ACCEPTOR.into(),
                None => "no payment method available".into(),
            },
        };
        Screen::OutOfService {
            reason,
            alternatives: ALTERNATIVE_CHANNELS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_offer_everything_faults_take_their_method_away() {
        let mut a = Availability::new(true);
        assert_eq!(a.offered(), [PaymentMethod::Cash, PaymentMethod::Code]);
        assert!(a.warn(DeviceKind::CashBox, DeviceWarning::NearFull));
        assert!(
            !a.warn(DeviceKind::CashBox, DeviceWarning::NearFull),
            "not news"
        );
        assert!(a.faults().is_empty(), "a warning is not a fault");
        assert_eq!(a.offered(), [PaymentMethod::Cash, PaymentMethod::Code]);
        a.fault(DeviceKind::CashBox, ErrorKind::Full);
        assert_eq!(a.offered(), [PaymentMethod::Code]);
        a.fault(DeviceKind::Reader, ErrorKind::Offline);
        assert!(matches!(
            a.idle_screen(),
            Screen::OutOfService { reason, .. } if reason == "cashbox fault"
        ));
        assert!(a.cleared(DeviceKind::CashBox));
        assert!(!a.cleared(DeviceKind::CashBox));
        assert_eq!(a.offered(), [PaymentMethod::Cash]);
    }

    #[test]
    fn an_unreachable_backend_or_an_order_offers_nothing() {
        let mut a = Availability::new(false);
        a.set_link_unreachable(true);
        assert!(a.offered().is_empty());
        assert!(matches!(
            a.idle_screen(),
            Screen::OutOfService { reason, .. } if reason == "backend unreachable"
        ));
        a.set_link_unreachable(false);
        a.disable_unless_disabled("under repair");
        a.disable_unless_disabled("cash box removed");
        assert_eq!(a.disabled(), Some("under repair"));
        assert!(a.offered().is_empty());
        a.set_disabled(None);
        assert_eq!(a.offered(), [PaymentMethod::Cash]);
    }

    #[test]
    fn waiting_for_the_acceptor_takes_cash_away_and_nothing_else() {
        let mut a = Availability::new(true);
        a.set_awaiting_acceptor(true);
        assert_eq!(a.offered(), [PaymentMethod::Code]);
        let mut cash_only = Availability::new(false);
        cash_only.set_awaiting_acceptor(true);
        assert!(matches!(
            cash_only.idle_screen(),
            Screen::OutOfService { reason, .. } if reason == CHECKING_ACCEPTOR
        ));
        cash_only.set_awaiting_acceptor(false);
        assert_eq!(cash_only.offered(), [PaymentMethod::Cash]);
    }

    /// `offers` and `is_idle_screen` answer without building lists and
    /// screens; they must agree with `offered` and `idle_screen` in every
    /// state, or the machine would re-send (or fail to send) its welcome.
    #[test]
    fn the_quick_checks_agree_with_the_lists_and_screens_they_stand_for() {
        let mut states = Vec::new();
        for reader in [false, true] {
            let mut a = Availability::new(reader);
            states.push(a.clone());
            a.fault(DeviceKind::Acceptor, ErrorKind::Jam);
            states.push(a.clone());
            a.fault(DeviceKind::Reader, ErrorKind::Offline);
            states.push(a.clone());
            a.cleared(DeviceKind::Acceptor);
            a.fault(DeviceKind::CashBox, ErrorKind::Full);
            states.push(a.clone());
            a.cleared(DeviceKind::CashBox);
            a.cleared(DeviceKind::Reader);
            a.set_link_unreachable(true);
            states.push(a.clone());
            a.set_link_unreachable(false);
            a.set_awaiting_acceptor(true);
            states.push(a.clone());
            a.set_awaiting_acceptor(false);
            a.set_disabled(Some("under repair".into()));
            states.push(a);
        }
        let screens: Vec<Screen> = states.iter().map(Availability::idle_screen).collect();
        for a in &states {
            for method in [PaymentMethod::Cash, PaymentMethod::Code] {
                assert_eq!(a.offers(method), a.offered().contains(&method), "{a:?}");
            }
            for screen in screens.iter().chain([
                &Screen::Welcome { methods: vec![] },
                &Screen::Welcome {
                    methods: vec![PaymentMethod::Code, PaymentMethod::Cash],
                },
                &Screen::CheckingAccount,
            ]) {
                assert_eq!(
                    a.is_idle_screen(screen),
                    *screen == a.idle_screen(),
                    "{a:?} {screen:?}"
                );
            }
        }
    }
}
