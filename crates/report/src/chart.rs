//! The KPI trend chart as accessible inline SVG, written by hand: no fonts, styles or
//! scripts from outside, colours with at least 4.5:1 contrast on white, and a description
//! in words of every value for people who cannot see it.

use crate::words::with_unit;
use custos_core::sla_report::{Trend, fmt_num};
use std::fmt::Write as _;

const W: f64 = 600.0;
const H: f64 = 300.0;
/// Plot area.
const X0: f64 = 56.0;
const X1: f64 = 588.0;
const Y0: f64 = 44.0;
const Y1: f64 = 236.0;

/// Text and axes (13.9:1 on white).
const INK: &str = "#1b2330";
/// Secondary text, "no data" marks (7.5:1).
const MUTED: &str = "#4a5568";
/// The KPI line and points (6.3:1).
const SERIES: &str = "#1f4fd1";
/// The target line and its label (6.9:1).
const TARGET: &str = "#9a3412";
/// Grid lines: decoration only, the values are written next to the points.
const GRID: &str = "#dde2ea";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";

/// Escapes text for XML element content and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A round step near `raw`: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The value axis: from, to and step, covering every value and the target.
fn scale(t: &Trend) -> (f64, f64, f64) {
    let vals = t
        .points
        .iter()
        .filter_map(|(_, v)| *v)
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = vals.fold((t.target, t.target), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    // Counts and durations start at zero; percentages zoom in on the interesting band.
    if !t.metric.is_percentage() && lo > 0.0 {
        lo = 0.0;
    }
    if hi - lo < 1e-9 {
        let pad = (hi.abs() * 0.1).max(1.0);
        (lo, hi) = (lo - pad, hi + pad);
    }
    let step = nice_step((hi - lo) / 4.0);
    let mut from = (lo / step).floor() * step;
    let mut to = (hi / step).ceil() * step;
    if t.metric.is_percentage() {
        from = from.max(0.0);
        to = to.min(100.0).max(from + step);
    }
    (from, to, step)
}

fn tick_label(v: f64, step: f64) -> String {
    if step.fract().abs() < 1e-9 {
        fmt_num(v.round())
    } else {
        format!("{v:.1}")
    }
}

/// "Oct" for 2026-10, "Q4" for 2026-Q4; the year goes on a second line.
fn period_parts(p: &str) -> (String, &str) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, rest) = p.split_once('-').unwrap_or((p, ""));
    let short = match rest.parse::<usize>() {
        Ok(m @ 1..=12) => MONTHS[m - 1].to_string(),
        _ => rest.to_string(),
    };
    (short, year)
}

/// The chart in words: every period's value and where it stands against the target.
pub(crate) fn describe(t: &Trend) -> String {
    let pct = t.metric.is_percentage();
    let Some(((first, _), (last, _))) = t.points.first().zip(t.points.last()) else {
        return format!("{}: no periods to show yet.", t.label);
    };
    let (mut above, mut below, mut none) = (0, 0, 0);
    let values: Vec<String> = t
        .points
        .iter()
        .map(|(p, v)| match v {
            Some(v) if *v >= t.target => {
                above += 1;
                format!("{p} {}", with_unit(*v, pct))
            }
            Some(v) => {
                below += 1;
                format!("{p} {} (below target)", with_unit(*v, pct))
            }
            None => {
                none += 1;
                format!("{p} no data")
            }
        })
        .collect();
    format!(
        "{} from {first} to {last}, target {}. {}. {above} at or above target, {below} below, {none} without data.",
        t.label,
        with_unit(t.target, pct),
        values.join("; ")
    )
}

/// Where a point's value label goes (its baseline): on the side away from the line, so a
/// low point is labelled below and a high one above, and off the target line and the axes.
fn label_y(yy: f64, neighbours: &[f64], target_y: f64) -> f64 {
    let (above, below) = (yy - 10.0, yy + 19.0);
    let low_point =
        !neighbours.is_empty() && yy > neighbours.iter().sum::<f64>() / neighbours.len() as f64;
    let order = if low_point {
        [below, above]
    } else {
        [above, below]
    };
    // Text of 12px occupies about [baseline - 9, baseline + 2].
    let fits = |ly: f64| ly - 9.0 > Y0 - 12.0 && ly < Y1 - 3.0;
    let clear_of_target = |ly: f64| !(ly - 10.0..=ly + 3.0).contains(&target_y);
    order
        .into_iter()
        .find(|ly| fits(*ly) && clear_of_target(*ly))
        .or_else(|| order.into_iter().find(|ly| fits(*ly)))
        .unwrap_or(above)
}

/// Accessible inline SVG line chart of one KPI over its periods (up to 12).
///
/// `<svg role="img">` named by its `<title>` and described by its `<desc>`, which lists
/// every value in words. The value axis has round ticks, the period axis a label per
/// period; the target is a dashed line; each value is a labelled point on the line. A
/// period without data leaves a gap in the line and is marked "no data". Colours meet
/// 4.5:1 on white; text uses the reader's system font. The `width`/`height` attributes
/// give the natural size and `viewBox` lets it scale down (`max-width: 100%`).
pub fn chart_svg(trend: &Trend) -> String {
    let id = format!("chart-{}", trend.metric.as_str());
    let pct = trend.metric.is_percentage();
    let n = trend.points.len();
    let (from, to, step) = scale(trend);
    let y = |v: f64| Y1 - (v - from) / (to - from) * (Y1 - Y0);
    let band = (X1 - X0) / n.max(1) as f64;
    let x = |i: usize| X0 + band * (i as f64 + 0.5);

    let mut s = String::with_capacity(8 * 1024);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc" style="max-width:100%;height:auto">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        xml_escape(&trend.label),
        xml_escape(&describe(trend))
    );
    let _ = write!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = write!(s, r#"<g font-family="{FONT}" font-size="13" fill="{INK}">"#);

    // Legend.
    let _ = write!(
        s,
        r#"<g aria-hidden="true"><line x1="{X0}" y1="16" x2="{}" y2="16" stroke="{SERIES}" stroke-width="2.5"/><circle cx="{}" cy="16" r="4" fill="{SERIES}"/><text x="{}" y="20">Value</text>"#,
        X0 + 28.0,
        X0 + 14.0,
        X0 + 34.0
    );
    let _ = write!(
        s,
        r#"<line x1="{}" y1="16" x2="{}" y2="16" stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4"/><text x="{}" y="20" fill="{TARGET}">Target {}</text></g>"#,
        X0 + 90.0,
        X0 + 118.0,
        X0 + 124.0,
        xml_escape(&with_unit(trend.target, pct))
    );

    // Value axis with grid lines.
    let mut v = from;
    while v <= to + step * 1e-6 {
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line x1="{X0}" y1="{yy:.1}" x2="{X1}" y2="{yy:.1}" stroke="{GRID}"/><text x="{}" y="{:.1}" text-anchor="end" fill="{MUTED}">{}</text>"#,
            X0 - 8.0,
            yy + 4.5,
            tick_label(v, step)
        );
        v += step;
    }
    let _ = write!(
        s,
        r#"<line x1="{X0}" y1="{Y0}" x2="{X0}" y2="{Y1}" stroke="{MUTED}"/><line x1="{X0}" y1="{Y1}" x2="{X1}" y2="{Y1}" stroke="{MUTED}"/>"#
    );

    // Period axis: month or quarter, and the year where it starts or changes.
    let mut last_year = "";
    for (i, (p, _)) in trend.points.iter().enumerate() {
        let (short, year) = period_parts(p.as_str());
        let xx = x(i);
        let _ = write!(
            s,
            r#"<line x1="{xx:.1}" y1="{Y1}" x2="{xx:.1}" y2="{}" stroke="{MUTED}"/><text x="{xx:.1}" y="{}" text-anchor="middle">{}</text>"#,
            Y1 + 5.0,
            Y1 + 21.0,
            xml_escape(&short)
        );
        if year != last_year {
            let _ = write!(
                s,
                r#"<text x="{xx:.1}" y="{}" text-anchor="middle" fill="{MUTED}">{}</text>"#,
                Y1 + 38.0,
                xml_escape(year)
            );
            last_year = year;
        }
    }

    // Target line.
    let ty = y(trend.target);
    let _ = write!(
        s,
        r#"<line x1="{X0}" y1="{ty:.1}" x2="{X1}" y2="{ty:.1}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4"/>"#
    );

    // The line, broken where a period has no data.
    let mut run: Vec<(f64, f64)> = vec![];
    let mut runs = vec![];
    for (i, (_, v)) in trend.points.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => run.push((x(i), y(*v))),
            _ => runs.push(std::mem::take(&mut run)),
        }
    }
    runs.push(run);
    for r in runs.iter().filter(|r| r.len() > 1) {
        let pts: Vec<String> = r.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{SERIES}" stroke-width="2.5" stroke-linejoin="round"/>"#,
            pts.join(" ")
        );
    }

    // Points with their values, and the "no data" marks.
    let neighbours = |i: usize| -> Vec<f64> {
        [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|j| trend.points.get(j).and_then(|(_, v)| *v))
            .filter(|v| v.is_finite())
            .map(y)
            .collect()
    };
    for (i, (_, v)) in trend.points.iter().enumerate() {
        let xx = x(i);
        match v {
            Some(v) if v.is_finite() => {
                let yy = y(*v);
                let ly = label_y(yy, &neighbours(i), ty);
                let _ = write!(
                    s,
                    r#"<circle cx="{xx:.1}" cy="{yy:.1}" r="4.5" fill="{SERIES}" stroke="white" stroke-width="1.5"/><text x="{xx:.1}" y="{ly:.1}" text-anchor="middle" font-size="12">{}</text>"#,
                    fmt_num(*v)
                );
            }
            _ => {
                let _ = write!(
                    s,
                    r#"<circle cx="{xx:.1}" cy="{Y1}" r="4" fill="white" stroke="{MUTED}" stroke-width="1.5"/><text x="{xx:.1}" y="{}" text-anchor="start" font-size="12" fill="{MUTED}" transform="rotate(-90 {xx:.1} {})">no data</text>"#,
                    Y1 - 12.0,
                    Y1 - 12.0
                );
            }
        }
    }
    if n == 0 {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{MUTED}">No periods to show yet</text>"#,
            (X0 + X1) / 2.0,
            (Y0 + Y1) / 2.0
        );
    }
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(2.2), 2.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn periods_split_into_short_label_and_year() {
        assert_eq!(period_parts("2026-10"), ("Oct".to_string(), "2026"));
        assert_eq!(period_parts("2026-Q4"), ("Q4".to_string(), "2026"));
    }
}
