//! Commands from operations (remote) and staff (on site).
//!
//! A command never interrupts a session: the runner reads commands only
//! between sessions, so one sent while a customer's money is in play waits
//! until that session has ended.

use serde::{Deserialize, Serialize};

use kiosk_hal::NoteFate;

use crate::events::DeviceKind;
use crate::ids::Millis;
use crate::journal::{NoteCount, NoteId};

/// A command to a kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    tag = "type",
    rename_all_fields = "kebab-case"
)]
pub enum StaffCommand {
    /// Restart: reset every device and recover the journal again.
    Restart,
    /// Run the self-test (the daily start-of-day inspection).
    SelfTest,
    /// Take the kiosk out of service.
    Disable {
        /// Shown to customers.
        reason: String,
    },
    /// Put it back in service.
    Enable,
    /// Print a test receipt.
    PrintTest,
    /// Print the receipts kept because the printer could not print them
    /// (after paper was loaded or the printer fixed), oldest first.
    ReprintReceipts,
    /// Opens a clearing (清箱): two different authorised people are present.
    /// The kiosk stops taking cash; taking the box out is then expected.
    BeginClearing {
        /// The two people (dual control), both in `authorised-operators`.
        operators: [String; 2],
    },
    /// Closes the clearing with the count made in front of the cashier.
    EndClearing {
        /// The cash counted.
        counted: kiosk_hal::Money,
        /// The same count by denomination (`[{ value = { minor = 10000,
        /// currency = "CNY" }, count = 3 }, …]`), when the two people gave
        /// it: it must add up to `counted` (else the step is refused and
        /// the clearing stays open), and the clearing record then names
        /// which notes an over/short is made of. Without it the clearing
        /// still records the notes expected per denomination.
        #[serde(default)]
        counted_notes: Option<Vec<NoteCount>>,
        /// Counterfeit notes found at counting.
        counterfeit_found: u32,
        /// In-doubt notes the two people settled against the count (a note
        /// found in the box, or known to have gone back to its customer).
        /// Each is settled exactly once; a note in the box gets its own
        /// pending payment to its session's account.
        #[serde(default)]
        settle: Vec<StaffSettlement>,
    },
    /// Staff report physical damage: out of service until enabled again.
    ReportDamage {
        /// Who reports it.
        reporter: String,
        /// What is damaged.
        description: String,
    },
}

/// Staff's word on one in-doubt note, given at a clearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StaffSettlement {
    /// The note's journal row (as listed in the clearing report).
    pub note: NoteId,
    /// Where the count says it is: `in-cash-box` or `returned`.
    pub fate: NoteFate,
}

impl StaffCommand {
    /// A short stable name for reports (`"self-test"`).
    pub fn name(&self) -> &'static str {
        match self {
            StaffCommand::Restart => "restart",
            StaffCommand::SelfTest => "self-test",
            StaffCommand::Disable { .. } => "disable",
            StaffCommand::Enable => "enable",
            StaffCommand::PrintTest => "print-test",
            StaffCommand::ReprintReceipts => "reprint-receipts",
            StaffCommand::ReportDamage { .. } => "report-damage",
            StaffCommand::BeginClearing { .. } => "begin-clearing",
            StaffCommand::EndClearing { .. } => "end-clearing",
        }
    }
}

/// A command with the authenticated people who gave it: journaled with
/// them and its result. A plain [`StaffCommand`] given on the kiosk itself
/// converts to one with nobody named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisedCommand {
    /// The command.
    pub command: StaffCommand,
    /// Who gave it (two people for a clearing), as the operator API or the
    /// fleet authenticated them.
    pub by: Vec<String>,
}

impl From<StaffCommand> for AuthorisedCommand {
    fn from(command: StaffCommand) -> AuthorisedCommand {
        AuthorisedCommand {
            command,
            by: Vec::new(),
        }
    }
}

/// What operations send a kiosk over an authenticated channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    tag = "kind",
    rename_all_fields = "kebab-case"
)]
pub enum Remote {
    /// A command to perform, with who gave it.
    Command(AuthorisedCommand),
    /// A request refused before it reached the kiosk (bad or missing
    /// credentials, a role that may not): journaled as a security event.
    Refused {
        /// Why, with where the request came from.
        reason: String,
        /// Who the sender claimed to be, if anyone.
        claimed: Option<String>,
    },
}

/// One device's result in a self-test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCheck {
    /// The device.
    pub device: DeviceKind,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
    /// Who the device said it is (model, firmware, serial) when the
    /// self-test read it: the start-of-day record names the physical unit
    /// checked, so a swapped validator or a firmware update shows in the
    /// daily records. `None` when the driver could not say (offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<kiosk_hal::DeviceIdentity>,
}

/// The self-test report: pass or fail per device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTestReport {
    /// When it ran.
    pub at: Millis,
    /// One check per device.
    pub checks: Vec<DeviceCheck>,
}

impl SelfTestReport {
    /// Whether every device passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}
