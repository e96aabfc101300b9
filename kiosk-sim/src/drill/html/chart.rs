//! The report's charts, drawn with plotters' SVG backend into strings.
//!
//! Text goes out as SVG `<text>` elements (plotters escapes it) in a
//! generic family; the page's CSS picks a CJK font for it, so Chinese
//! labels render with whatever the browser has (no font files in the
//! binary, no font-kit). Plotters only estimates text widths without font
//! metrics, so label areas are sized generously.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart width in pixels (the page scales it to its column).
const WIDTH: u32 = 960;
/// The family written into the SVG; the page's CSS overrides it with a CJK font.
/// (plotters' SVG backend writes `font-size` as the given size / 1.24, so
/// the sizes below are a quarter above the pixels wanted.)
const FONT: &str = "sans-serif";

/// Colours for series, in order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// The colour of series `i`.
pub(super) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A chart error as text (plotters' errors carry the backend's).
fn err(e: impl std::fmt::Display) -> String {
    format!("{e}")
}

/// Draws onto a fresh SVG of `height` pixels and returns its text.
fn svg(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// One point in time on a timeline row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mark {
    /// Simulated ms.
    pub at_ms: u64,
    /// Text next to the marker (empty: none).
    pub note: String,
}

/// One row of a timeline: a name and its marks, or spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row {
    /// Row label, Chinese first.
    pub label: String,
    /// Points in time.
    pub marks: Vec<Mark>,
    /// Intervals (from, to) in simulated ms, drawn as bars.
    pub spans: Vec<(u64, u64)>,
    /// Whether the marks are the drill's milestones (large, joined in order)
    /// or plain events (small ticks).
    pub milestone: bool,
}

/// A timeline: rows top to bottom over simulated time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Timeline {
    /// Caption.
    pub title: String,
    /// The rows.
    pub rows: Vec<Row>,
    /// Start of the time axis (simulated ms).
    pub start_ms: u64,
    /// End of the time axis (simulated ms).
    pub end_ms: u64,
}

/// The time axis' labels: simulated time as people read it.
fn time_label(ms: f64) -> String {
    super::super::report::duration(ms.max(0.0) as u64)
}

/// The timeline as SVG: milestones as large dots joined in order
/// (fault → detected → customer told → fallback → resolved), each with its
/// time, and every event as a tick on its own row.
pub(super) fn timeline(t: &Timeline) -> Result<String, String> {
    let rows = t.rows.len().max(1);
    let height = 90 + 34 * rows as u32;
    let start = t.start_ms as f64;
    let end = t.end_ms.max(t.start_ms + 1) as f64;
    let end = end + (end - start) * 0.04;
    svg(height, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&t.title, (FONT, 22))
            .margin(12)
            .margin_left(210)
            .margin_right(90)
            .x_label_area_size(36)
            .y_label_area_size(0)
            .build_cartesian_2d(start..end, -0.5f64..(rows as f64 - 0.5))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(8)
            .x_label_formatter(&|v| time_label(*v))
            .x_desc("模拟时间 simulated time")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        // Row i is drawn from the top.
        let y = |i: usize| (rows - 1 - i) as f64;
        let mut path: Vec<(f64, f64)> = Vec::new();
        for (i, row) in t.rows.iter().enumerate() {
            let c = colour(i);
            let (px, py) = chart.backend_coord(&(start, y(i)));
            root.draw(&Text::new(
                row.label.clone(),
                (px - 8, py),
                (FONT, 16)
                    .into_text_style(root)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(err)?;
            chart
                .draw_series(row.spans.iter().map(|(from, to)| {
                    Rectangle::new(
                        [(*from as f64, y(i) - 0.3), (*to as f64, y(i) + 0.3)],
                        c.mix(0.6).filled(),
                    )
                }))
                .map_err(err)?;
            if row.milestone {
                for m in &row.marks {
                    path.push((m.at_ms as f64, y(i)));
                }
                chart
                    .draw_series(row.marks.iter().map(|m| {
                        EmptyElement::at((m.at_ms as f64, y(i)))
                            + Circle::new((0, 0), 7, c.filled())
                            + Text::new(m.note.clone(), (10, -16), (FONT, 15))
                    }))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(row.marks.iter().map(|m| {
                        let x = m.at_ms as f64;
                        PathElement::new(vec![(x, y(i) - 0.3), (x, y(i) + 0.3)], c.stroke_width(2))
                    }))
                    .map_err(err)?;
            }
        }
        if path.len() > 1 {
            chart
                .draw_series(LineSeries::new(path, BLACK.mix(0.35).stroke_width(2)))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// Bars in groups: one group per category, one bar per series, and an
/// optional horizontal target line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GroupedBars {
    /// Caption.
    pub title: String,
    /// The value axis' description.
    pub y_desc: String,
    /// Category names (groups along the x axis).
    pub groups: Vec<String>,
    /// Series: name and one value per group.
    pub series: Vec<(String, Vec<f64>)>,
    /// A target drawn across the chart: name and value.
    pub target: Option<(String, f64)>,
}

/// Grouped bars as SVG.
pub(super) fn grouped_bars(b: &GroupedBars) -> Result<String, String> {
    let n = b.groups.len().max(1);
    let k = b.series.len().max(1);
    let top = b
        .series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .chain(b.target.iter().map(|(_, t)| *t))
        .fold(0f64, f64::max)
        .max(1.0)
        // Head room for the legend above the tallest bar.
        * 1.45;
    svg(420, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&b.title, (FONT, 22))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(b.y_desc.as_str())
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(err)?;
        // Group names on two lines, Chinese over English, so that nine
        // categories fit under a 960-pixel chart.
        for (g, name) in b.groups.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(g as f64, 0.0));
            let (zh, en) = name.split_once(' ').unwrap_or((name.as_str(), ""));
            for (line, text) in [zh, en].into_iter().enumerate() {
                root.draw(&Text::new(
                    text.to_string(),
                    (px, py + 6 + 15 * line as i32),
                    (FONT, 15)
                        .into_text_style(root)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(err)?;
            }
        }
        let width = 0.8 / k as f64;
        for (s, (name, values)) in b.series.iter().enumerate() {
            let c = colour(s);
            chart
                .draw_series(values.iter().enumerate().map(|(g, v)| {
                    let left = g as f64 - 0.4 + s as f64 * width;
                    Rectangle::new([(left, 0.0), (left + width * 0.92, *v)], c.filled())
                }))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        if let Some((name, value)) = &b.target {
            let red = RGBColor(0xb0, 0x00, 0x20);
            chart
                .draw_series(LineSeries::new(
                    [(-0.5, *value), (n as f64 - 0.5, *value)],
                    red.stroke_width(2),
                ))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], red.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        Ok(())
    })
}

/// How many of something per category: one bar each.
pub(super) fn counts(title: &str, y_desc: &str, bars: &[(String, u64)]) -> Result<String, String> {
    grouped_bars(&GroupedBars {
        title: title.to_string(),
        y_desc: y_desc.to_string(),
        groups: bars.iter().map(|(name, _)| name.clone()).collect(),
        series: vec![(
            y_desc.to_string(),
            bars.iter().map(|(_, c)| *c as f64).collect(),
        )],
        target: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels_escaped() {
        let t = Timeline {
            title: "时间线 <timeline>".into(),
            rows: vec![Row {
                label: "故障 fault".into(),
                marks: vec![Mark {
                    at_ms: 1500,
                    note: "a & b".into(),
                }],
                spans: vec![(0, 1000)],
                milestone: true,
            }],
            start_ms: 0,
            end_ms: 3000,
        };
        let s = timeline(&t).unwrap();
        assert!(s.starts_with("<svg"), "{s}");
        assert!(s.contains("时间线 &lt;timeline&gt;"), "{s}");
        assert!(s.contains("a &amp; b"), "{s}");
        assert!(s.contains("<circle"), "{s}");
        let b = GroupedBars {
            title: "等候 wait".into(),
            y_desc: "秒 s".into(),
            groups: vec!["有引导 guided".into(), "无引导 unguided".into()],
            series: vec![("p50".into(), vec![10.0, 20.0])],
            target: Some(("目标 target".into(), 15.0)),
        };
        let s = grouped_bars(&b).unwrap();
        // Group names on two lines.
        assert!(
            s.contains(">\n有引导\n<") && s.contains(">\nguided\n<"),
            "{s}"
        );
        assert!(s.contains("目标 target"), "{s}");
        assert!(s.contains("<rect"), "{s}");
        let s = counts("原因 causes", "次 count", &[("卡币 bill-jam".into(), 3)]).unwrap();
        assert!(s.contains("卡币") && s.contains("bill-jam"), "{s}");
    }
}
