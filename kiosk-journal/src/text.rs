//! Plain-text output: amounts without their currency code, and tables
//! aligned for terminals where a Chinese character takes two columns.

use kiosk_hal::Money;

/// `m` without its currency code: `1,234.50` for CNY 1234.50.
pub fn amount(m: Money) -> String {
    let exp = m.currency.minor_exponent();
    let sign = if m.minor < 0 { "-" } else { "" };
    let abs = m.minor.unsigned_abs();
    let scale = 10u64.pow(exp);
    let units = group(abs / scale);
    if exp == 0 {
        format!("{sign}{units}")
    } else {
        format!("{sign}{units}.{:0w$}", abs % scale, w = exp as usize)
    }
}

/// `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Columns `s` takes in a terminal: two for a wide (CJK, full-width)
/// character, one otherwise.
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// A table of text cells: the first column left-aligned, the others
/// right-aligned (numbers), or all left-aligned (words).
#[derive(Debug, Clone)]
pub struct Table {
    rows: Vec<Vec<String>>,
    all_left: bool,
}

impl Table {
    /// A table of numbers with a header row.
    pub fn new(header: Vec<String>) -> Table {
        Table {
            rows: vec![header],
            all_left: false,
        }
    }

    /// A table of words with a header row: every column left-aligned.
    pub fn left_aligned(header: Vec<String>) -> Table {
        Table {
            rows: vec![header],
            all_left: true,
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, one line per row.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| width(c))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(width(cell)));
                if i > 0 {
                    line.push_str("  ");
                }
                if i == 0 || self.all_left {
                    line.push_str(cell);
                    line.push_str(&pad);
                } else {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::Currency;

    #[test]
    fn amounts_and_widths() {
        assert_eq!(
            amount(Money::new(123_456_750, Currency::CNY)),
            "1,234,567.50"
        );
        assert_eq!(amount(Money::new(-5, Currency::CNY)), "-0.05");
        assert_eq!(width("实点 Counted"), 12);
        let mut t = Table::new(vec!["面额".into(), "n".into()]);
        t.row(vec!["100.00".into(), "3".into()]);
        assert_eq!(t.render(), "面额    n\n100.00  3\n");
    }
}
