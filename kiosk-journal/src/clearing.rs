//! The clearing handover record (清箱交接记录): what two people counted
//! against what the journal expected, with the chain head at the clearing,
//! for both to sign. As text, or as one self-contained HTML page that
//! prints on A4 (no external files, fonts or scripts).

use kiosk_core::journal::{
    denomination, differences, ClearingRecord, CountLang, DenominationLine, JournalError,
    ReadOnlyJournal,
};
use kiosk_core::Millis;
use kiosk_hal::Money;
use serde::Serialize;

use crate::catalog::{Lang, Msg};
use crate::kind::{Fate, Kind};
use crate::text::{amount, Table};
use crate::time::{self, UtcOffset};

/// Who settled an in-doubt note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettledBy {
    /// The device's own report.
    Device,
    /// Two staff members (dual control), named.
    Staff(Vec<String>),
}

/// An in-doubt note settled since the previous clearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettledNote {
    /// The note's id.
    pub note: i64,
    /// Its session.
    pub session: Option<String>,
    /// Its value, if known.
    pub value: Option<Money>,
    /// Where it went.
    pub fate: Option<Fate>,
    /// Who said so.
    pub by: SettledBy,
    /// When.
    pub at: Millis,
}

/// The handover record of one clearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClearingReport {
    /// The kiosks of the journal.
    pub kiosks: Vec<String>,
    /// The clearing as recorded.
    pub clearing: ClearingRecord,
    /// Counted minus expected (positive: over).
    pub over_short: Money,
    /// In-doubt notes settled since the previous clearing, up to this one.
    pub settled: Vec<SettledNote>,
    /// Which notes the over/short is made of: each denomination whose count
    /// differs from what was expected, largest first (empty when the count
    /// was a total only, or every denomination matched: see
    /// `clearing.notes`).
    pub over_short_by_note: Vec<NoteDifference>,
}

/// One denomination's part of an over/short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NoteDifference {
    /// The denomination.
    pub value: Money,
    /// Counted minus expected notes: positive over, negative short.
    pub notes: i64,
}

/// Which clearing: its number, or the last one.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    /// Clearing number `n` (its id).
    Id(i64),
    /// The newest.
    Last,
}

/// The record of the clearing `which`; `Ok(None)` if there is no such clearing.
pub fn build(
    journal: &ReadOnlyJournal,
    which: Which,
) -> Result<Option<ClearingReport>, JournalError> {
    let all = journal.clearings()?;
    let index = match which {
        Which::Last => all.len().checked_sub(1),
        Which::Id(n) => all.iter().position(|c| c.id == n),
    };
    let Some(index) = index else {
        return Ok(None);
    };
    let clearing = all[index].clone();
    let previous = index.checked_sub(1).map(|i| &all[i]);
    // The audit rows since the previous clearing's row, up to this one's
    // (by row when both have their row, else by time).
    let this_row = clearing.chain_head.map(|h| h.rows as i64);
    let previous_row = previous.and_then(|p| p.chain_head.map(|h| h.rows as i64));
    let after = |id: i64, at: Millis| match (previous_row, previous) {
        (Some(row), _) => id > row,
        (None, Some(p)) => at > p.at,
        (None, None) => true,
    };
    let upto = |id: i64, at: Millis| this_row.map_or(at <= clearing.at, |row| id <= row);
    let mut settled = Vec::new();
    journal.for_each_audit_row(None, |r| {
        let kind = Kind::parse(&r.kind);
        if !matches!(kind, Kind::NoteSettled | Kind::NoteSettledByStaff)
            || !after(r.id, r.at)
            || !upto(r.id, r.at)
        {
            return;
        }
        let by = match kind {
            Kind::NoteSettledByStaff => SettledBy::Staff(operators(r.detail.as_deref())),
            _ => SettledBy::Device,
        };
        settled.push(SettledNote {
            note: r.note.map_or(0, |n| n.0),
            session: r.session.as_ref().map(|s| s.0.to_string()),
            value: r.note_value,
            fate: Fate::from_detail(r.detail.as_deref()),
            by,
            at: r.at,
        });
    })?;
    Ok(Some(ClearingReport {
        kiosks: journal.kiosks()?.into_iter().map(|k| k.0).collect(),
        over_short: Money::new(clearing.over_short(), clearing.counted.currency),
        over_short_by_note: clearing
            .note_differences()
            .into_iter()
            .map(|(value, notes)| NoteDifference { value, notes })
            .collect(),
        clearing,
        settled,
    }))
}

/// The operators a staff settlement's detail names.
fn operators(detail: Option<&str>) -> Vec<String> {
    let v: serde_json::Value = detail
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    v["operators"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// "over 10.00" / "short 10.00" / "even".
fn over_short(r: &ClearingReport, text: impl Fn(Msg) -> String) -> String {
    let d = r.over_short;
    match d.minor.signum() {
        1 => format!("{} {}", text(Msg::Over), amount(d)),
        -1 => format!(
            "{} {}",
            text(Msg::Short),
            amount(Money::new(-d.minor, d.currency))
        ),
        _ => text(Msg::Even),
    }
}

/// Which notes the over/short is made of, in `lang` (see
/// [`differences`]), or why that cannot be said.
fn by_note(lines: &[DenominationLine], lang: Lang) -> String {
    let count_lang = match lang {
        Lang::Zh => CountLang::Zh,
        Lang::En => CountLang::En,
    };
    if lines.is_empty() {
        return Msg::NoLines.text(lang).to_string();
    }
    match differences(lines, count_lang) {
        None => Msg::NotByDenomination.text(lang).to_string(),
        Some(d) if d.is_empty() => Msg::Even.text(lang).to_string(),
        Some(d) => d,
    }
}

/// The per-denomination table's rows: denomination, expected, counted,
/// difference (signed: `+1` over, `-2` short; `—` without a count).
fn line_cells(lines: &[DenominationLine]) -> Vec<[String; 4]> {
    lines
        .iter()
        .map(|l| {
            [
                denomination(l.value),
                l.expected.to_string(),
                l.counted.map_or("—".into(), |c| c.to_string()),
                l.difference().map_or("—".into(), |d| {
                    if d > 0 {
                        format!("+{d}")
                    } else {
                        d.to_string()
                    }
                }),
            ]
        })
        .collect()
}

/// The part of the expected total no denomination accounts for, when
/// there is one (the audit trail and the books disagree: look into it).
fn unattributed(c: &ClearingRecord) -> Option<Money> {
    c.unattributed()
        .filter(|u| *u != 0)
        .map(|u| Money::new(u, c.expected.currency))
}

fn fate_text(f: Option<Fate>) -> Msg {
    match f {
        Some(Fate::InCashBox) => Msg::FateInBox,
        Some(Fate::Returned) => Msg::FateReturned,
        _ => Msg::FateUnknown,
    }
}

fn by_text(by: &SettledBy, text: &impl Fn(Msg) -> String) -> String {
    match by {
        SettledBy::Device => text(Msg::ByDevice),
        SettledBy::Staff(names) => format!("{} ({})", text(Msg::ByStaff), names.join(", ")),
    }
}

/// The labelled facts of the record, in order: (label, value).
fn facts(
    r: &ClearingReport,
    offset: UtcOffset,
    text: &impl Fn(Msg) -> String,
    by_note: String,
) -> Vec<(Msg, String)> {
    let c = &r.clearing;
    vec![
        (Msg::Kiosk, r.kiosks.join(", ")),
        (Msg::ClearingNo, c.id.to_string()),
        (
            Msg::Time,
            format!("{} (UTC{offset})", time::format(c.at, offset)),
        ),
        (Msg::OperatorA, c.operators[0].clone()),
        (Msg::OperatorB, c.operators[1].clone()),
        (Msg::Expected, c.expected.to_string()),
        (Msg::Counted, c.counted.to_string()),
        (Msg::OverShort, over_short(r, text)),
        (Msg::OverShortByNote, by_note),
        (Msg::Counterfeit, c.counterfeit_found.to_string()),
        (Msg::PendingAtClearing, c.pending.to_string()),
        (Msg::InDoubtAtClearing, c.in_doubt_notes.to_string()),
        (
            Msg::ChainHead,
            c.chain_head
                .map_or_else(|| text(Msg::None), |h| h.to_string()),
        ),
    ]
}

/// The record as text in `lang`.
pub fn render_text(r: &ClearingReport, lang: Lang, offset: UtcOffset) -> String {
    let text = |m: Msg| m.text(lang).to_string();
    let mut out = format!("{}\n\n", text(Msg::ClearingTitle));
    let mut table = Table::left_aligned(vec![String::new(), String::new()]);
    for (label, value) in facts(r, offset, &text, by_note(&r.clearing.notes, lang)) {
        table.row(vec![text(label), value]);
    }
    for line in table.render().lines().skip(1) {
        out.push_str(line);
        out.push('\n');
    }
    if !r.clearing.notes.is_empty() {
        out.push_str(&format!("\n{}\n", text(Msg::ByDenomination)));
        let mut t = Table::new(vec![
            text(Msg::Denomination),
            text(Msg::ExpectedNotes),
            text(Msg::CountedNotes),
            text(Msg::DifferenceNotes),
        ]);
        for cells in line_cells(&r.clearing.notes) {
            t.row(cells.to_vec());
        }
        out.push_str(&t.render());
        if let Some(u) = unattributed(&r.clearing) {
            out.push_str(&format!("{}: {u}\n", text(Msg::Unattributed)));
        }
    }
    out.push_str(&format!("\n{}\n", text(Msg::SettledNotes)));
    if r.settled.is_empty() {
        out.push_str(&format!("  {}\n", text(Msg::None)));
    } else {
        let mut t = Table::left_aligned(vec![
            text(Msg::Note),
            text(Msg::Session),
            text(Msg::Value),
            text(Msg::How),
            text(Msg::Time),
        ]);
        for s in &r.settled {
            t.row(vec![
                s.note.to_string(),
                s.session.clone().unwrap_or_default(),
                s.value.map_or("—".into(), |v| v.to_string()),
                format!("{}, {}", text(fate_text(s.fate)), by_text(&s.by, &text)),
                time::format(s.at, offset),
            ]);
        }
        out.push_str(&t.render());
    }
    out.push('\n');
    for who in [Msg::OperatorA, Msg::OperatorB] {
        out.push_str(&format!(
            "{} {}: ____________________   {}: ____________\n",
            text(who),
            text(Msg::Signature),
            text(Msg::Date)
        ));
    }
    out
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A label, Chinese first and English second.
fn label(m: Msg) -> String {
    format!(
        "<span class=\"zh\">{}</span> <span class=\"en\">{}</span>",
        esc(m.zh()),
        esc(m.en())
    )
}

/// The print stylesheet: A4, no external fonts (the system's CJK font).
const CSS: &str = "
@page { size: A4; margin: 18mm 16mm; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'SimSun', sans-serif;
       font-size: 11pt; color: #000; margin: 0; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; }
.en { color: #444; font-size: 0.85em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
th { width: 38%; background: #eee; font-weight: normal; }
td.mono, .mono { font-family: 'DejaVu Sans Mono', 'Consolas', monospace; font-size: 9pt; word-break: break-all; }
.note { font-size: 9pt; }
.signatures { margin-top: 14mm; display: flex; gap: 12mm; page-break-inside: avoid; }
.signatures div { flex: 1; border-top: 1px solid #000; padding-top: 2mm; min-height: 18mm; }
@media print { th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
";

/// The record as one self-contained printable HTML page.
pub fn render_html(r: &ClearingReport, offset: UtcOffset) -> String {
    let text = |m: Msg| m.both();
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>{} {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&Msg::ClearingTitle.both()),
        r.clearing.id
    ));
    h.push_str(&format!(
        "<h1>{}</h1>\n<table>\n",
        label(Msg::ClearingTitle)
    ));
    let both = format!(
        "{} / {}",
        by_note(&r.clearing.notes, Lang::Zh),
        by_note(&r.clearing.notes, Lang::En)
    );
    for (m, value) in facts(r, offset, &text, both) {
        let class = if m == Msg::ChainHead {
            " class=\"mono\""
        } else {
            ""
        };
        h.push_str(&format!(
            "<tr><th>{}</th><td{class}>{}</td></tr>\n",
            label(m),
            esc(&value)
        ));
    }
    h.push_str("</table>\n");
    h.push_str(&format!(
        "<p class=\"note\">{}: {}</p>\n",
        label(Msg::ChainHead),
        label(Msg::ChainHeadExplained)
    ));
    if !r.clearing.notes.is_empty() {
        h.push_str(&format!(
            "<h2>{}</h2>\n<table>\n<tr>",
            label(Msg::ByDenomination)
        ));
        for m in [
            Msg::Denomination,
            Msg::ExpectedNotes,
            Msg::CountedNotes,
            Msg::DifferenceNotes,
        ] {
            h.push_str(&format!("<th style=\"width:auto\">{}</th>", label(m)));
        }
        h.push_str("</tr>\n");
        for cells in line_cells(&r.clearing.notes) {
            h.push_str("<tr>");
            for cell in cells {
                h.push_str(&format!("<td>{}</td>", esc(&cell)));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
        if let Some(u) = unattributed(&r.clearing) {
            h.push_str(&format!(
                "<p>{}: {}</p>\n",
                label(Msg::Unattributed),
                esc(&u.to_string())
            ));
        }
    }
    h.push_str(&format!("<h2>{}</h2>\n", label(Msg::SettledNotes)));
    if r.settled.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", label(Msg::None)));
    } else {
        h.push_str("<table>\n<tr>");
        for m in [Msg::Note, Msg::Session, Msg::Value, Msg::How, Msg::Time] {
            h.push_str(&format!("<th style=\"width:auto\">{}</th>", label(m)));
        }
        h.push_str("</tr>\n");
        for s in &r.settled {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td><td>{}</td></tr>\n",
                s.note,
                esc(s.session.as_deref().unwrap_or("")),
                esc(&s.value.map_or("—".into(), |v| v.to_string())),
                label(fate_text(s.fate)),
                esc(&by_text(&s.by, &text)),
                esc(&time::format(s.at, offset)),
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str("<div class=\"signatures\">\n");
    for (who, name) in [
        (Msg::OperatorA, &r.clearing.operators[0]),
        (Msg::OperatorB, &r.clearing.operators[1]),
    ] {
        h.push_str(&format!(
            "<div>{} {}: {}<br><br>{}:</div>\n",
            label(who),
            label(Msg::Signature),
            esc(name),
            label(Msg::Date)
        ));
    }
    h.push_str("</div>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            esc("<b>\"O'Neil\" & 张</b>"),
            "&lt;b&gt;&quot;O&#39;Neil&quot; &amp; 张&lt;/b&gt;"
        );
    }
}
