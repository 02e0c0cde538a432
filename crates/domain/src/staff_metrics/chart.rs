//! Server-side SVG charts for the staff console: a line chart for series over time and
//! a horizontal bar chart for counts by name.
//!
//! The output is one self-contained `<svg>` element to inline in a page: `role="img"`
//! with a `<title>` and a `<desc>` that says what the data shows (a screen reader gets
//! the numbers, not the drawing), a fixed `viewBox` of [`CHART_WIDTH`] × [`CHART_HEIGHT`]
//! scaled to `width="100%"`, no scripts, fonts or external references. Lines, bars and
//! text are drawn in `currentColor` and carry classes (`chart-line`, `chart-series-N`,
//! `chart-bar`, `chart-grid`, `chart-axis`, `chart-label`, `chart-title`, `chart-empty`)
//! so the page's stylesheet can theme them; series also differ by dash pattern, so they
//! can be told apart without colour. Every piece of text is XML-escaped. The same input
//! always gives the same bytes.

use std::fmt::Write as _;

use time::Duration;

pub const CHART_WIDTH: u32 = 640;
pub const CHART_HEIGHT: u32 = 240;

/// What an empty chart says.
pub const NO_DATA: &str = "No data in this period";

const W: f64 = CHART_WIDTH as f64;
const H: f64 = CHART_HEIGHT as f64;
const FONT_SIZE: f64 = 11.0;
/// Rough advance of one character at [`FONT_SIZE`], for laying out legends.
const CHAR_WIDTH: f64 = 6.2;
const TITLE_Y: f64 = 18.0;
/// Markers on every point up to this many points; beyond, only on isolated points.
const MAX_MARKED_POINTS: usize = 40;
const MAX_X_LABELS: usize = 7;
const MAX_BARS: usize = 8;
/// How many values the `<desc>` of a bar chart lists.
const MAX_DESC_BARS: usize = 20;
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

/// One point of a series: its x label (a date) and its value, `None` for a gap.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
}

/// One line of a line chart. All series of a chart are expected to have the same x
/// labels; the x axis takes them from the longest series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// What the y values of a line chart are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YUnit {
    Count,
    /// 0 to 100.
    Percent,
    /// Seconds, shown in s, min, h or d.
    Duration,
}

/// "45 s", "12 min", "3.5 h", "2 d": the unit follows the size, one decimal at most.
pub fn format_duration(duration: Duration) -> String {
    format_seconds(duration.as_seconds_f64())
}

/// "12.5 %".
pub fn format_percent(percent: f64) -> String {
    if percent.is_finite() {
        format!("{percent:.1} %")
    } else {
        "–".to_owned()
    }
}

pub fn format_seconds(seconds: f64) -> String {
    let (scale, unit) = duration_scale(seconds.abs());
    format!("{} {unit}", number(seconds / scale))
}

/// The display unit for durations up to `seconds`.
fn duration_scale(seconds: f64) -> (f64, &'static str) {
    if seconds < 60.0 {
        (1.0, "s")
    } else if seconds < 3600.0 {
        (60.0, "min")
    } else if seconds < 48.0 * 3600.0 {
        (3600.0, "h")
    } else {
        (86400.0, "d")
    }
}

/// One decimal at most, "-0" and "x.0" trimmed.
fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

fn format_value(value: f64, unit: YUnit) -> String {
    match unit {
        YUnit::Count => number(value),
        YUnit::Percent => format_percent(value),
        YUnit::Duration => format_seconds(value),
    }
}

/// XML text and attribute escaping. Characters XML 1.0 cannot hold at all (control
/// characters other than tab and newlines) become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, the last one "…" when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A stable id for `aria-labelledby` (FNV-1a of the chart's text).
fn chart_id(kind: &str, title: &str, desc: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind.bytes().chain(title.bytes()).chain([0]).chain(desc.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("chart-{hash:016x}")
}

/// The `<svg>` start, its title and description, and the visible title.
fn open(kind: &str, title: &str, desc: &str) -> String {
    let id = chart_id(kind, title, desc);
    let mut svg = String::new();
    let _ = write!(
        svg,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" "#,
            r#"role="img" aria-labelledby="{id}-title {id}-desc" class="chart chart-{kind}" "#,
            r#"font-size="{fs}">"#,
            r#"<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>"#,
            r#"<text class="chart-title" x="8" y="{ty}" font-size="13" font-weight="bold" "#,
            r#"fill="currentColor">{short}</text>"#,
        ),
        w = CHART_WIDTH,
        h = CHART_HEIGHT,
        id = id,
        kind = kind,
        fs = FONT_SIZE,
        title = escape(title),
        desc = escape(desc),
        ty = TITLE_Y,
        short = escape(&truncate(title, 80)),
    );
    svg
}

fn empty(kind: &str, title: &str) -> String {
    let mut svg = open(kind, title, &format!("{NO_DATA}."));
    let _ = write!(
        svg,
        r#"<text class="chart-empty" x="{x}" y="{y}" text-anchor="middle" fill="currentColor">{NO_DATA}</text></svg>"#,
        x = W / 2.0,
        y = H / 2.0 + 4.0,
    );
    svg
}

/// A point's value if it is drawable (finite; below 0 drawn at 0).
fn drawable(point: &Point) -> Option<f64> {
    point.value.filter(|v| v.is_finite()).map(|v| v.max(0.0))
}

/// y axis ticks in display units: a step of 1, 2 or 5 × 10ⁿ (whole for counts), from 0
/// to the first multiple at or above `max`. Returns the top and the tick values.
fn ticks(max: f64, whole: bool) -> (f64, Vec<f64>) {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        f if f <= 1.0 => magnitude,
        f if f <= 2.0 => 2.0 * magnitude,
        f if f <= 5.0 => 5.0 * magnitude,
        _ => 10.0 * magnitude,
    };
    let step = if whole { step.max(1.0).round() } else { step };
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    (n as f64 * step, (0..=n).map(|i| i as f64 * step).collect())
}

/// A line per series over shared x labels, with a y axis from 0. Gaps (`None`, NaN)
/// break the line. Without any value, the chart says [`NO_DATA`].
pub fn line_chart(title: &str, series: &[Series], y_unit: YUnit) -> String {
    let values = || series.iter().flat_map(|s| s.points.iter().filter_map(drawable));
    let Some(max) = values().reduce(f64::max) else {
        return empty("line", title);
    };
    let axis = series.iter().max_by_key(|s| s.points.len()).map_or(&[][..], |s| &s.points[..]);
    let n = axis.len();

    let desc = line_desc(series, axis, y_unit);
    let mut svg = open("line", title, &desc);

    // Legend rows under the title.
    let mut legend_x = 8.0;
    let mut legend_y = 36.0;
    for (k, s) in series.iter().enumerate() {
        let name = truncate(&s.name, 40);
        let width = 28.0 + name.chars().count() as f64 * CHAR_WIDTH + 16.0;
        if legend_x > 8.0 && legend_x + width > W {
            legend_x = 8.0;
            legend_y += 14.0;
        }
        let _ = write!(
            svg,
            r#"<line class="chart-line chart-series-{k}" x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="currentColor" stroke-width="2"{dash}/>"#,
            x1 = legend_x,
            x2 = legend_x + 22.0,
            y = legend_y - 4.0,
            dash = dash(k),
        );
        let _ = write!(
            svg,
            r#"<text class="chart-label chart-legend" x="{x:.1}" y="{y:.1}" fill="currentColor">{name}</text>"#,
            x = legend_x + 28.0,
            y = legend_y,
            name = escape(&name),
        );
        legend_x += width;
    }

    let (left, right, top, bottom) = (56.0, W - 36.0, legend_y + 12.0, H - 24.0);
    // Durations are drawn in one unit picked by the largest value.
    let (scale, unit_name) = match y_unit {
        YUnit::Duration => duration_scale(max),
        YUnit::Count | YUnit::Percent => (1.0, ""),
    };
    let (axis_top, tick_values) = ticks(max / scale, y_unit == YUnit::Count);
    let y_of = |v: f64| bottom - (v / scale) / axis_top * (bottom - top);
    let x_of = |i: usize| {
        if n <= 1 {
            (left + right) / 2.0
        } else {
            left + i as f64 * (right - left) / (n - 1) as f64
        }
    };

    // Grid, y ticks, axes.
    for &v in &tick_values {
        let y = bottom - v / axis_top * (bottom - top);
        let _ = write!(
            svg,
            r#"<line class="chart-grid" x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="currentColor" stroke-opacity="0.15"/>"#,
        );
        let label = match y_unit {
            YUnit::Count => number(v),
            YUnit::Percent => format!("{} %", number(v)),
            YUnit::Duration => format!("{} {unit_name}", number(v)),
        };
        let _ = write!(
            svg,
            r#"<text class="chart-label chart-y-label" x="{x:.1}" y="{ty:.1}" text-anchor="end" fill="currentColor">{label}</text>"#,
            x = left - 6.0,
            ty = y + 4.0,
            label = escape(&label),
        );
    }
    let _ = write!(
        svg,
        r#"<line class="chart-axis" x1="{left:.1}" y1="{top:.1}" x2="{left:.1}" y2="{bottom:.1}" stroke="currentColor"/><line class="chart-axis" x1="{left:.1}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" stroke="currentColor"/>"#,
    );

    // x labels: at most MAX_X_LABELS, evenly spaced, always the first.
    let stride = n.div_ceil(MAX_X_LABELS).max(1);
    for (i, point) in axis.iter().enumerate().step_by(stride) {
        let _ = write!(
            svg,
            r#"<text class="chart-label chart-x-label" x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="currentColor">{label}</text>"#,
            x = x_of(i),
            y = H - 8.0,
            label = escape(&truncate(&point.label, 12)),
        );
    }

    // Lines and markers.
    for (k, s) in series.iter().enumerate() {
        let mut path = String::new();
        let mut pen_down = false;
        for (i, point) in s.points.iter().enumerate() {
            match drawable(point) {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1} {:.1}",
                        if pen_down {
                            " L"
                        } else if path.is_empty() {
                            "M"
                        } else {
                            " M"
                        },
                        x_of(i),
                        y_of(v),
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                svg,
                r#"<path class="chart-line chart-series-{k}" d="{path}" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"{dash}/>"#,
                dash = dash(k),
            );
        }
        let present = |i: usize| s.points.get(i).and_then(drawable).is_some();
        for (i, point) in s.points.iter().enumerate() {
            let Some(v) = drawable(point) else { continue };
            let has_neighbour = (i > 0 && present(i - 1)) || present(i + 1);
            if s.points.len() > MAX_MARKED_POINTS && has_neighbour {
                continue;
            }
            let _ = write!(
                svg,
                r#"<circle class="chart-point chart-series-{k}" cx="{x:.1}" cy="{y:.1}" r="2.5" fill="currentColor"><title>{tip}</title></circle>"#,
                x = x_of(i),
                y = y_of(v),
                tip = escape(&format!(
                    "{}, {}: {}",
                    s.name,
                    point.label,
                    format_value(point.value.unwrap_or(v), y_unit)
                )),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn dash(k: usize) -> String {
    match DASHES[k % DASHES.len()] {
        "" => String::new(),
        pattern => format!(r#" stroke-dasharray="{pattern}""#),
    }
}

/// "From 2025-03-01 to 2025-03-07. Orders confirmed: total 12; highest 4 (2025-03-03);
/// lowest 0 (2025-03-01); latest 2 (2025-03-07)."
fn line_desc(series: &[Series], axis: &[Point], unit: YUnit) -> String {
    let mut desc = String::new();
    if let (Some(first), Some(last)) = (axis.first(), axis.last()) {
        if axis.len() == 1 {
            let _ = write!(desc, "{}.", first.label);
        } else {
            let _ = write!(desc, "From {} to {}.", first.label, last.label);
        }
    }
    for s in series {
        let present: Vec<(&Point, f64)> = s
            .points
            .iter()
            .filter_map(|p| p.value.filter(|v| v.is_finite()).map(|v| (p, v)))
            .collect();
        let _ = write!(desc, " {}: ", s.name);
        let Some(&(latest, latest_value)) = present.last() else {
            desc.push_str("no data.");
            continue;
        };
        // First of equals wins, so the text does not depend on anything but the order.
        let (mut high, mut low) = (present[0], present[0]);
        for &(point, v) in &present {
            if v > high.1 {
                high = (point, v);
            }
            if v < low.1 {
                low = (point, v);
            }
        }
        if unit == YUnit::Count {
            let total: f64 = present.iter().map(|(_, v)| v).sum();
            let _ = write!(desc, "total {}; ", number(total));
        }
        let _ = write!(
            desc,
            "highest {} ({}); lowest {} ({}); latest {} ({}).",
            format_value(high.1, unit),
            high.0.label,
            format_value(low.1, unit),
            low.0.label,
            format_value(latest_value, unit),
            latest.label,
        );
    }
    desc.trim_start().to_owned()
}

/// Horizontal bars, in the order given (pass them sorted), the first [`MAX_BARS`] drawn
/// and the rest named in a note. Without bars, the chart says [`NO_DATA`].
pub fn bar_chart(title: &str, bars: &[(String, u64)]) -> String {
    if bars.is_empty() {
        return empty("bar", title);
    }
    let total: u64 = bars.iter().map(|(_, v)| v).sum();
    let mut desc = format!("{} {}, {} in total: ", bars.len(), plural(bars.len(), "bar"), total);
    let listed: Vec<String> =
        bars.iter().take(MAX_DESC_BARS).map(|(label, v)| format!("{label} {v}")).collect();
    desc.push_str(&listed.join("; "));
    if bars.len() > MAX_DESC_BARS {
        let _ = write!(desc, "; and {} more", bars.len() - MAX_DESC_BARS);
    }
    desc.push('.');
    let mut svg = open("bar", title, &desc);

    let shown = &bars[..bars.len().min(MAX_BARS)];
    let hidden = bars.len() - shown.len();
    let top = 32.0;
    let bottom = if hidden > 0 { H - 22.0 } else { H - 8.0 };
    let row = ((bottom - top) / shown.len() as f64).min(26.0);
    let (label_right, bar_left, bar_max) = (196.0, 204.0, W - 60.0 - 204.0);
    let max = shown.iter().map(|(_, v)| *v).max().unwrap_or(0);
    for (i, (label, value)) in shown.iter().enumerate() {
        let y = top + i as f64 * row;
        let width = if max == 0 { 0.0 } else { *value as f64 / max as f64 * bar_max };
        let mid = y + row / 2.0 + 4.0;
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{label_right:.1}" y="{mid:.1}" text-anchor="end" fill="currentColor">{text}</text>"#,
            text = escape(&truncate(label, 28)),
        );
        let _ = write!(
            svg,
            r#"<rect class="chart-bar chart-series-0" x="{bar_left:.1}" y="{y:.1}" width="{width:.1}" height="{h:.1}" fill="currentColor"><title>{tip}</title></rect>"#,
            y = y + row * 0.15,
            h = row * 0.7,
            tip = escape(&format!("{label}: {value}")),
        );
        let _ = write!(
            svg,
            r#"<text class="chart-label chart-value" x="{x:.1}" y="{mid:.1}" fill="currentColor">{value}</text>"#,
            x = bar_left + width + 6.0,
        );
    }
    if hidden > 0 {
        let rest: u64 = bars[shown.len()..].iter().map(|(_, v)| v).sum();
        let _ = write!(
            svg,
            r#"<text class="chart-label chart-note" x="{label_right:.1}" y="{y:.1}" text-anchor="end" fill="currentColor">{hidden} more: {rest}</text>"#,
            y = H - 8.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}
