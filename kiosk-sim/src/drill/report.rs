//! A drill's result: expectations, the money invariant, timings, seed and trace hash.

use serde::Serialize;

use crate::cli_text::{Lang, Msg};

/// One checked expectation, in both languages: the JSON carries both (as
/// [`Detail`] does), the text and HTML reports show the operator's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationResult {
    /// What was expected, in English words.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was seen, in English words.
    pub observed: String,
    /// What was expected, in Chinese (简体).
    pub expectation_zh: String,
    /// What was seen, in Chinese (简体).
    pub observed_zh: String,
}

impl ExpectationResult {
    /// An expectation whose words are made in each language by
    /// `expectation` and `observed` (from the [`Msg`] catalog), so no
    /// expectation exists in one language only.
    pub fn in_both(
        expectation: impl Fn(Lang) -> String,
        passed: bool,
        observed: impl Fn(Lang) -> String,
    ) -> Self {
        ExpectationResult {
            expectation: expectation(Lang::En),
            passed,
            observed: observed(Lang::En),
            expectation_zh: expectation(Lang::Zh),
            observed_zh: observed(Lang::Zh),
        }
    }

    /// What was expected, in `lang`.
    pub fn expectation_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.expectation_zh,
            Lang::En => &self.expectation,
        }
    }

    /// What was seen, in `lang`.
    pub fn observed_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.observed_zh,
            Lang::En => &self.observed,
        }
    }
}

/// Two 64-bit digests or trace hashes side by side, as a determinism
/// expectation shows them.
pub fn two_hashes(lang: Lang, first: u64, second: u64) -> String {
    Msg::ObsTwoHashes.fill(
        lang,
        &[
            ("first", &format!("{first:016x}")),
            ("second", &format!("{second:016x}")),
        ],
    )
}

/// The money invariant, both sides of it, after the drill.
///
/// Books: the journal's `in_box` = credited + pending + refused. Physical:
/// the notes really in the (virtual) cash box lie between the journal's
/// `in_box` and `in_box + in_doubt` (an in-doubt note may be in the box or
/// not). Backend: no key applied twice, and the cash the backend credited
/// equals what the journal records as credited, plus what it applied for
/// keys the journal still holds pending (a lost answer not yet retried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvariantReport {
    /// Minor units physically in the virtual cash box.
    pub physical_box: i64,
    /// Minor units the journal believes are in the box.
    pub journal_in_box: i64,
    /// Journal: credited cash.
    pub credited: i64,
    /// Journal: pending cash.
    pub pending: i64,
    /// Journal: refused cash (in the box, held for staff).
    pub refused: i64,
    /// Journal: in-doubt notes with a known value.
    pub in_doubt: i64,
    /// Journal: in-doubt notes.
    pub in_doubt_notes: u32,
    /// Backend: cash credited.
    pub backend_credited: i64,
    /// Backend: the most times any one key was applied (must be ≤ 1).
    pub max_applies_per_key: u32,
    /// Whether every part held.
    pub holds: bool,
    /// What broke, if anything.
    pub violations: Vec<String>,
}

impl InvariantReport {
    /// The invariant as one report line, plus one per violation (Chinese).
    pub fn render_text(&self) -> String {
        self.render_text_in(Lang::default())
    }

    /// The invariant as one report line, plus one per violation, in `lang`.
    pub fn render_text_in(&self, lang: Lang) -> String {
        let mark = if self.holds {
            Msg::MarkOk
        } else {
            Msg::MarkFail
        };
        let mut s = Msg::MoneyLine.fill(
            lang,
            &[
                ("mark", &mark.text(lang)),
                ("box", &money(self.physical_box)),
                ("credited", &money(self.credited)),
                ("pending", &money(self.pending)),
                ("refused", &money(self.refused)),
                ("in_box", &money(self.journal_in_box)),
                ("in_doubt", &money(self.in_doubt)),
                ("notes", &self.in_doubt_notes),
                ("backend", &money(self.backend_credited)),
                ("max", &self.max_applies_per_key),
            ],
        );
        s.push('\n');
        for v in &self.violations {
            s.push_str(&Msg::Violation.fill(lang, &[("violation", v)]));
            s.push('\n');
        }
        s
    }
}

/// Timings in simulated milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// When the fault happened (virtual ms since start).
    pub fault_at_ms: Option<u64>,
    /// Fault → detected.
    pub detect_ms: Option<u64>,
    /// Detected → customer told / fallback in place.
    pub fallback_ms: Option<u64>,
    /// Detected → resolved (or escalated).
    pub resolve_ms: Option<u64>,
}

/// The whole result of one drill run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillReport {
    /// Drill id (catalog id).
    pub id: String,
    /// Its title (English).
    pub title: String,
    /// Its title in Chinese (the English one where the scenario gives none).
    pub title_zh: String,
    /// The seed: rerun with `--seed` to reproduce.
    pub seed: u64,
    /// Whether every expectation and the invariant held.
    pub passed: bool,
    /// Expectations, one by one.
    pub expectations: Vec<ExpectationResult>,
    /// The money invariant; `None` for site drills, whose model journals no cash.
    pub invariant: Option<InvariantReport>,
    /// Fault → detected → fallback → resolved.
    pub timings: Timings,
    /// Virtual time the drill covered.
    pub simulated_ms: u64,
    /// Events in the trace.
    pub events: usize,
    /// Hash of the trace (hex): equal for equal runs.
    pub trace_hash: String,
    /// A longer report for drills that have one (site drills).
    pub detail: Option<Detail>,
}

/// A drill's longer report in both languages: the JSON carries both, so it
/// is the same whatever `--lang` says, and the text picks one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// 简体中文.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Detail {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

fn ms(v: Option<u64>) -> String {
    match v {
        Some(v) => duration(v),
        None => "-".into(),
    }
}

/// A duration as people read it: `850ms`, `6s 200ms`, `32m 56s` (whole
/// seconds from a minute up: milliseconds no longer matter there).
pub fn duration(ms: u64) -> String {
    let shown = if ms >= 60_000 { ms / 1000 * 1000 } else { ms };
    humantime::format_duration(std::time::Duration::from_millis(shown)).to_string()
}

fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// Where a drill's scenario came from: what it takes to run it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrillSource<'a> {
    /// A built-in drill, run by its id.
    Builtin,
    /// A scenario file, run with `--file`.
    File(&'a std::path::Path),
}

/// The command that runs drill `id` from `source` with `seed` again:
/// `kiosk-sim drill bill-jam --seed 7`, or `kiosk-sim drill --file my.toml
/// --seed 7` for a file (its id is not a built-in one).
pub fn reproduce_command(id: &str, source: DrillSource<'_>, seed: u64) -> String {
    match source {
        DrillSource::Builtin => format!("kiosk-sim drill {} --seed {seed}", shell_word(id)),
        DrillSource::File(path) => format!(
            "kiosk-sim drill --file {} --seed {seed}",
            shell_word(&path.display().to_string())
        ),
    }
}

/// `word` as one shell word: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:,@=".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

impl DrillReport {
    /// The report as text for a terminal, in Chinese, with the reproduce
    /// command of a built-in drill.
    pub fn render_text(&self) -> String {
        self.render_text_in(
            Lang::default(),
            &reproduce_command(&self.id, DrillSource::Builtin, self.seed),
        )
    }

    /// The command that runs this built-in drill again with this seed (a
    /// drill from a file: [`reproduce_command`] with its path).
    pub fn reproduce_command(&self) -> String {
        reproduce_command(&self.id, DrillSource::Builtin, self.seed)
    }

    /// The report as text for a terminal in `lang`; a failed run ends with
    /// `reproduce` (see [`reproduce_command`]).
    ///
    /// Event patterns and scenario names inside the expectations stay as
    /// the scenario wrote them; the words around them are in `lang`.
    pub fn render_text_in(&self, lang: Lang, reproduce: &str) -> String {
        let mut s = String::new();
        let verdict = if self.passed {
            Msg::ReportPass
        } else {
            Msg::ReportFail
        };
        s.push_str(&format!(
            "{}  {}  — {}\n",
            verdict.text(lang),
            self.id,
            match lang {
                Lang::Zh => &self.title_zh,
                Lang::En => &self.title,
            }
        ));
        for e in &self.expectations {
            let mark = if e.passed { Msg::MarkOk } else { Msg::MarkFail };
            s.push_str(&Msg::Expectation.fill(
                lang,
                &[
                    ("mark", &mark.text(lang)),
                    ("expectation", &e.expectation_in(lang)),
                    ("observed", &e.observed_in(lang)),
                ],
            ));
            s.push('\n');
        }
        match &self.invariant {
            Some(inv) => s.push_str(&inv.render_text_in(lang)),
            None => {
                s.push_str(&Msg::MoneyNotModelled.fill(lang, &[("mark", &Msg::MarkNa.text(lang))]));
                s.push('\n');
            }
        }
        if let Some(detail) = &self.detail {
            for line in detail.text(lang).lines() {
                s.push_str(&format!("  | {line}\n"));
            }
        }
        let t = &self.timings;
        s.push_str(&Msg::TimingsLine.fill(
            lang,
            &[
                ("fault", &ms(t.fault_at_ms)),
                ("detect", &ms(t.detect_ms)),
                ("fallback", &ms(t.fallback_ms)),
                ("resolve", &ms(t.resolve_ms)),
            ],
        ));
        s.push('\n');
        s.push_str(&Msg::SeedLine.fill(
            lang,
            &[
                ("seed", &self.seed),
                ("trace", &self.trace_hash),
                ("events", &self.events),
                ("simulated", &ms(Some(self.simulated_ms))),
            ],
        ));
        s.push('\n');
        if !self.passed {
            s.push_str(&Msg::ReproduceWith.fill(lang, &[("command", &reproduce)]));
            s.push('\n');
        }
        s
    }
}

/// Writes a JSON array one element at a time, formatted exactly as
/// `serde_json::to_string_pretty` formats the whole array, so a batch of
/// any size streams its reports without holding them all.
pub struct JsonArray<W: std::io::Write> {
    out: W,
    first: bool,
}

impl<W: std::io::Write> JsonArray<W> {
    /// Starts an array on `out`.
    pub fn new(out: W) -> JsonArray<W> {
        JsonArray { out, first: true }
    }

    /// Appends one element.
    pub fn push(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
        self.out
            .write_all(if self.first { b"[\n" } else { b",\n" })?;
        self.first = false;
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            write!(self.out, "  {line}")?;
        }
        Ok(())
    }

    /// Closes the array (`[]` when nothing was pushed) and flushes; gives `out` back.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out
            .write_all(if self.first { b"[]" } else { b"\n]" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(6_200), "6s 200ms");
        assert_eq!(duration(1_976_387), "32m 56s");
        assert_eq!(duration(32_782_973), "9h 6m 22s");
    }

    #[test]
    fn a_file_drill_is_reproduced_from_its_file_not_an_id() {
        let path = std::path::Path::new("drills/my own.toml");
        assert_eq!(
            reproduce_command("my-drill", DrillSource::File(path), 7),
            "kiosk-sim drill --file 'drills/my own.toml' --seed 7"
        );
        assert_eq!(
            reproduce_command("bill-jam", DrillSource::Builtin, 3),
            "kiosk-sim drill bill-jam --seed 3"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn a_streamed_json_array_reads_as_the_whole_one_did() {
        let report = DrillReport {
            id: "a".into(),
            title: "multi\nline \"title\"".into(),
            title_zh: "标题".into(),
            seed: 1,
            passed: true,
            expectations: vec![ExpectationResult::in_both(
                |_| "e".into(),
                true,
                |_| "o".into(),
            )],
            invariant: None,
            timings: Timings::default(),
            simulated_ms: 5,
            events: 2,
            trace_hash: "00".into(),
            detail: Some(Detail {
                zh: "详\n情".into(),
                en: "x\ny".into(),
            }),
        };
        for n in 0..3 {
            let all = vec![report.clone(); n];
            let mut array = JsonArray::new(Vec::new());
            for r in &all {
                array.push(r).unwrap();
            }
            let streamed = String::from_utf8(array.finish().unwrap()).unwrap();
            assert_eq!(
                streamed,
                serde_json::to_string_pretty(&all).unwrap(),
                "{n} reports"
            );
        }
    }
}
