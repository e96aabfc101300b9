//! The kinds of audit rows, as the journal file names them (its
//! `event_kinds` table, read through the `audit` view).

/// What an audit row records. The names are part of the journal's file
/// format; a name this build does not know is kept as [`Kind::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `session-begun`
    SessionBegun,
    /// `session-ended`
    SessionEnded,
    /// `note-escrowed`
    NoteEscrowed,
    /// `note-stacked`: a note went into the cash box.
    NoteStacked,
    /// `note-returned`
    NoteReturned,
    /// `note-rejected`
    NoteRejected,
    /// `note-in-doubt`
    NoteInDoubt,
    /// `note-settled`: the device said where an in-doubt note went.
    NoteSettled,
    /// `note-settled-by-staff`: two staff said where it went.
    NoteSettledByStaff,
    /// `payment-pending`: a payment journaled before posting.
    PaymentPending,
    /// `posting-attempted`
    PostingAttempted,
    /// `payment-credited`
    PaymentCredited,
    /// `payment-credit-repeated`
    PaymentCreditRepeated,
    /// `payment-refused`
    PaymentRefused,
    /// `payment-refusal-repeated`
    PaymentRefusalRepeated,
    /// `receipt-kept`
    ReceiptKept,
    /// `receipt-reprinted`
    ReceiptReprinted,
    /// `clearing`
    Clearing,
    /// `ticket-opened`, `ticket-updated`, `ticket-resolved`
    Ticket,
    /// `staff-command`
    StaffCommand,
    /// `security-event`
    SecurityEvent,
    /// A name this build does not know.
    Other(String),
}

impl Kind {
    /// The kind named `name`.
    pub fn parse(name: &str) -> Kind {
        match name {
            "session-begun" => Kind::SessionBegun,
            "session-ended" => Kind::SessionEnded,
            "note-escrowed" => Kind::NoteEscrowed,
            "note-stacked" => Kind::NoteStacked,
            "note-returned" => Kind::NoteReturned,
            "note-rejected" => Kind::NoteRejected,
            "note-in-doubt" => Kind::NoteInDoubt,
            "note-settled" => Kind::NoteSettled,
            "note-settled-by-staff" => Kind::NoteSettledByStaff,
            "payment-pending" => Kind::PaymentPending,
            "posting-attempted" => Kind::PostingAttempted,
            "payment-credited" => Kind::PaymentCredited,
            "payment-credit-repeated" => Kind::PaymentCreditRepeated,
            "payment-refused" => Kind::PaymentRefused,
            "payment-refusal-repeated" => Kind::PaymentRefusalRepeated,
            "receipt-kept" => Kind::ReceiptKept,
            "receipt-reprinted" => Kind::ReceiptReprinted,
            "clearing" => Kind::Clearing,
            "ticket-opened" | "ticket-updated" | "ticket-resolved" => Kind::Ticket,
            "staff-command" => Kind::StaffCommand,
            "security-event" => Kind::SecurityEvent,
            other => Kind::Other(other.to_string()),
        }
    }

    /// Whether the row is a money event (a session, note, payment,
    /// receipt or clearing), as opposed to a fault ticket or a staff or
    /// security row. Unknown kinds count as money events: an export must
    /// not drop a row it cannot name.
    pub fn is_money(&self) -> bool {
        !matches!(
            self,
            Kind::Ticket | Kind::StaffCommand | Kind::SecurityEvent
        )
    }
}

/// Where a settled in-doubt note went, as the settling row's detail says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// In the cash box.
    InCashBox,
    /// Given back.
    Returned,
    /// Still unknown (the note stays in doubt).
    Unknown,
}

impl Fate {
    /// The fate in a settling row's `detail` (`{"fate": "in-cash-box", …}`).
    pub fn from_detail(detail: Option<&str>) -> Option<Fate> {
        let v: serde_json::Value = serde_json::from_str(detail?).ok()?;
        match v.get("fate")?.as_str()? {
            "in-cash-box" => Some(Fate::InCashBox),
            "returned" => Some(Fate::Returned),
            "unknown" => Some(Fate::Unknown),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_and_staff_rows_are_not_money_events() {
        assert!(Kind::parse("note-stacked").is_money());
        assert!(Kind::parse("clearing").is_money());
        assert!(Kind::parse("something-new").is_money());
        assert!(!Kind::parse("ticket-updated").is_money());
        assert!(!Kind::parse("security-event").is_money());
        assert_eq!(
            Fate::from_detail(Some(r#"{"fate":"in-cash-box","operators":["a","b"]}"#)),
            Some(Fate::InCashBox)
        );
        assert_eq!(Fate::from_detail(Some("not json")), None);
    }
}
