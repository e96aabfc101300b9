//! Progress of long command-line runs (`drill --seeds N`, `explore --runs
//! N`) on stderr, through `indicatif`.
//!
//! On a terminal: a bar with runs done, runs per second, the time left
//! (ETA) and what just finished. When stderr is not a terminal (CI logs, a
//! file) there is no bar, whose redraws would fill a log with control
//! characters; a plain line with the same figures is written every
//! [`PLAIN_EVERY`] instead, so a long run still shows it is alive.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::cli_text::{Lang, Msg};

/// How often a plain progress line is written when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// Progress over a known number of runs; shareable between worker threads.
#[derive(Debug)]
pub struct RunProgress {
    bar: ProgressBar,
    lang: Lang,
    /// When stderr is not a terminal: the interval and when a plain line was last due.
    plain: Option<(Duration, Mutex<Instant>)>,
}

impl RunProgress {
    /// Progress over `total` runs, labelled `label` (`演练`, `explore`): a
    /// bar if stderr is a terminal, plain lines every [`PLAIN_EVERY`] if not.
    pub fn new(total: u64, label: &str, lang: Lang) -> RunProgress {
        if std::io::stderr().is_terminal() {
            RunProgress::bar(total, label, lang)
        } else {
            RunProgress::plain(total, label, lang, PLAIN_EVERY)
        }
    }

    /// A bar drawn on stderr (about 20 times a second at most).
    pub fn bar(total: u64, label: &str, lang: Lang) -> RunProgress {
        // The template is the catalog's, so its words follow `--lang`; a
        // template error (a catalog typo) falls back to indicatif's own bar.
        let style = ProgressStyle::with_template(Msg::ProgressBar.text(lang))
            .map(|s| {
                s.progress_chars("#>.").with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1}", state.per_sec());
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(label.to_string());
        RunProgress {
            bar,
            lang,
            plain: None,
        }
    }

    /// No bar; [`RunProgress::due_line`] gives a plain line every `every`.
    pub fn plain(total: u64, label: &str, lang: Lang, every: Duration) -> RunProgress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
            .with_prefix(label.to_string());
        RunProgress {
            bar,
            lang,
            plain: Some((every, Mutex::new(Instant::now()))),
        }
    }

    /// `done` runs are finished, the last being `note` (a drill id and its
    /// verdict, or a count of failing runs). Writes a plain line when one is due.
    pub fn set(&self, done: u64, note: String) {
        self.bar.set_position(done);
        self.bar.set_message(note);
        if let Some(line) = self.due_line() {
            eprintln!("{line}");
        }
    }

    /// The plain progress line, if stderr is not a terminal and the last
    /// one is at least the interval old (then it counts as written).
    pub fn due_line(&self) -> Option<String> {
        let (every, last) = self.plain.as_ref()?;
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() < *every {
            return None;
        }
        *last = Instant::now();
        Some(self.line())
    }

    /// Runs done of all, runs per second, time left and the last note, in words.
    pub fn line(&self) -> String {
        let eta = Duration::from_secs(self.bar.eta().as_secs());
        Msg::ProgressLine.fill(
            self.lang,
            &[
                ("label", &self.bar.prefix()),
                ("done", &self.bar.position()),
                ("total", &self.bar.length().unwrap_or(0)),
                ("rate", &format!("{:.1}", self.bar.per_sec())),
                ("eta", &humantime::format_duration(eta)),
                ("note", &self.bar.message()),
            ],
        )
    }

    /// Runs `f` (which prints to stdout) with the bar cleared, then draws it again.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Removes the bar; the command's own summary follows.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_give_runs_rate_and_time_left_when_due() {
        let p = RunProgress::plain(10, "演练", Lang::Zh, Duration::ZERO);
        p.set(3, "bill-jam 通过".into());
        let line = p.due_line().expect("due at once with a zero interval");
        assert!(line.starts_with("演练：3/10 次运行"), "{line}");
        assert!(
            line.contains("每秒") && line.contains("bill-jam 通过"),
            "{line}"
        );
        let en = RunProgress::plain(4, "drill", Lang::En, Duration::ZERO);
        en.set(4, "peak-diversion pass".into());
        let line = en.due_line().unwrap();
        assert!(line.starts_with("drill: 4/4 runs"), "{line}");
        assert!(line.contains("runs/s") && line.contains("left"), "{line}");
    }

    #[test]
    fn plain_lines_wait_for_their_interval() {
        let p = RunProgress::plain(10, "explore", Lang::En, Duration::from_secs(3_600));
        p.set(1, String::new());
        assert_eq!(p.due_line(), None, "not due within the hour");
        let bar = RunProgress::bar(10, "explore", Lang::En);
        assert_eq!(bar.due_line(), None, "a bar writes no plain lines");
    }

    #[test]
    fn the_bar_template_parses_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            assert!(
                ProgressStyle::with_template(Msg::ProgressBar.text(lang)).is_ok(),
                "{lang:?}"
            );
        }
    }
}
