//! The built-in drills: one scenario file per contingency catalog id.
//!
//! The files live in `kiosk-sim/drills/` and are compiled into the binary,
//! so `kiosk-sim drill <id>` works from anywhere. Operators add their own
//! with `kiosk-sim drill --file my-drill.toml`.

use super::scenario::{Scenario, ScenarioError};

/// A drill shipped with the simulator.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDrill {
    /// The catalog id.
    pub id: &'static str,
    /// Where its file is in the repository.
    pub file: &'static str,
    /// The file's text.
    pub toml: &'static str,
}

macro_rules! drill {
    ($id:literal) => {
        BuiltinDrill {
            id: $id,
            file: concat!("kiosk-sim/drills/", $id, ".toml"),
            toml: include_str!(concat!("../../drills/", $id, ".toml")),
        }
    };
}

/// Every built-in drill, in catalog order.
pub const BUILTIN_DRILLS: &[BuiltinDrill] = &[
    // Device faults
    drill!("acceptor-offline"),
    drill!("bill-jam"),
    drill!("counterfeit-note"),
    drill!("fraud-attempt"),
    drill!("cashbox-near-full"),
    drill!("cashbox-full"),
    drill!("cashbox-removed"),
    drill!("printer-paper-out"),
    drill!("printer-paper-near-end"),
    drill!("printer-jam"),
    drill!("printer-cover-open"),
    drill!("reader-failure"),
    drill!("frequent-failures"),
    drill!("device-damaged"),
    // Network faults
    drill!("link-down"),
    drill!("link-drop-mid-payment"),
    drill!("link-slow"),
    drill!("lost-ack"),
    drill!("backend-rejects"),
    // Software faults
    drill!("power-loss-mid-payment"),
    drill!("module-failure"),
    drill!("remote-restart"),
    // Operations
    drill!("daily-self-test"),
    drill!("peak-diversion"),
    drill!("spare-switchover"),
    drill!("cashbox-clearing"),
    drill!("fault-statistics"),
];

/// The ids of the built-in drills.
pub fn builtin_ids() -> Vec<&'static str> {
    BUILTIN_DRILLS.iter().map(|d| d.id).collect()
}

/// Loads a built-in drill by id; an unknown id is an error listing the known ones.
pub fn builtin(id: &str) -> Result<Scenario, ScenarioError> {
    let Some(drill) = BUILTIN_DRILLS.iter().find(|d| d.id == id) else {
        return Err(ScenarioError {
            source_name: id.to_string(),
            message: format!(
                "unknown drill id {id:?}; known drills: {}",
                builtin_ids().join(", ")
            ),
        });
    };
    let scenario = Scenario::from_toml(drill.file, drill.toml)?;
    if scenario.id != drill.id {
        return Err(ScenarioError {
            source_name: drill.file.to_string(),
            message: format!(
                "file declares id {:?}, expected {:?}",
                scenario.id, drill.id
            ),
        });
    }
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_drill_parses_and_unknown_ids_list_the_known() {
        for d in BUILTIN_DRILLS {
            builtin(d.id).unwrap_or_else(|e| panic!("{e}"));
        }
        let err = builtin("no-such-drill").unwrap_err();
        assert!(err.message.contains("printer-paper-out"), "{}", err.message);
    }

    /// Operators read Chinese: every built-in drill's title and every
    /// expectation of its report must be in Chinese in the Chinese report
    /// (event patterns and values may stay as they are, but the words
    /// around them may not be the English ones).
    #[test]
    fn every_builtin_drill_reports_its_title_and_expectations_in_chinese() {
        let is_han = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
        for d in BUILTIN_DRILLS {
            let scenario = builtin(d.id).unwrap();
            let zh = scenario.title_zh.as_deref().unwrap_or("");
            assert!(zh.chars().any(is_han), "{}: no Chinese title", d.id);
            let report = crate::drill::run::run_drill(&scenario, 1).unwrap();
            assert_eq!(report.title_zh, zh);
            for e in &report.expectations {
                assert!(
                    e.expectation_zh.chars().any(is_han),
                    "{}: expectation {:?} has no Chinese text: {:?}",
                    d.id,
                    e.expectation,
                    e.expectation_zh
                );
                assert_ne!(e.expectation_zh, e.expectation, "{}", d.id);
            }
            let text = report.render_text_in(crate::cli_text::Lang::Zh, "");
            assert!(!text.contains("saw:"), "{}: {text}", d.id);
        }
    }
}
