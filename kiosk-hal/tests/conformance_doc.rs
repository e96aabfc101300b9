//! The conformance map (`docs/conformance.md`) covers every error kind: a
//! kind added without its XFS4IoT / UnifiedPOS row fails here.

use std::collections::BTreeSet;

use kiosk_hal::ErrorKind;

const DOC: &str = include_str!("../../docs/conformance.md");

/// The first cells of the table under the heading `heading`, backticks
/// removed (header and separator rows skipped).
fn first_column(doc: &str, heading: &str) -> Vec<String> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the doc"));
    let section = &doc[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cell = l.trim_start_matches('|').split('|').next().unwrap_or("");
            cell.trim().trim_matches('`').to_string()
        })
        .collect()
}

#[test]
fn every_error_kind_has_a_row_and_every_row_is_a_kind() {
    let rows = first_column(DOC, "## Error kinds");
    let names: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
    assert_eq!(names.len(), rows.len(), "a kind listed twice: {rows:?}");
    for kind in ErrorKind::ALL {
        assert!(
            names.contains(kind.as_str()),
            "docs/conformance.md has no row for ErrorKind `{kind}`"
        );
    }
    for name in &names {
        assert!(
            ErrorKind::from_name(name).is_some(),
            "docs/conformance.md lists `{name}`, which is no ErrorKind"
        );
    }
}

#[test]
fn the_parser_reads_first_cells() {
    let doc = "## Error kinds\n\n| a | b |\n|---|---|\n| `offline` | x |\n| `jam` | y |\n\n## Next\n| `z` | w |\n";
    assert_eq!(first_column(doc, "## Error kinds"), ["offline", "jam"]);
}
