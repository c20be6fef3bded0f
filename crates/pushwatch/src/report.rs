//! The `--report` page of `pushwatch replay`: one self-contained HTML file with an inline SVG
//! chart per scope (global, each site, each platform) that draws the push-approval and TOTP
//! shares per window over time, with the findings marked as shaded spans. It has no script
//! and loads nothing from the network.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::DateTime;

use crate::summary::Summary;

const CHART_WIDTH: f64 = 1100.0;
const CHART_HEIGHT: f64 = 190.0;
const MARGIN_LEFT: f64 = 48.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_TOP: f64 = 22.0;
const MARGIN_BOTTOM: f64 = 26.0;
const PUSH_COLOUR: &str = "#1f6fd1";
const TOTP_COLOUR: &str = "#e07b00";
const FINDING_COLOUR: &str = "#d62728";
/// Windows with fewer login attempts are left out of the lines: their shares swing between
/// 0 and 100 % on a handful of logins and hide the trend.
const MIN_DRAWN_ATTEMPTS: u64 = 5;

/// One closed window of one scope.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    start_ms: i64,
    end_ms: i64,
    attempts: u64,
    push_share: Option<f64>,
    totp_share: Option<f64>,
}

/// One finding from opening to resolution.
#[derive(Debug, Clone, PartialEq)]
struct Span {
    detector: String,
    scope: String,
    title: String,
    severity: String,
    opened_ms: i64,
    resolved_ms: Option<i64>,
    updates: u64,
}

/// Collects windows and findings during a replay and renders the page at the end.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    series: BTreeMap<String, Vec<Point>>,
    spans: Vec<Span>,
    /// Index in `spans` of the open finding of each `detector|scope`.
    open: BTreeMap<(String, String), usize>,
}

impl ReportBuilder {
    /// Creates an empty report.
    pub fn new() -> Self {
        ReportBuilder::default()
    }

    /// Adds a closed window. Only the global, site and platform scopes are drawn.
    pub fn add_window(
        &mut self,
        scope: &str,
        start_ms: i64,
        end_ms: i64,
        attempts: u64,
        push_share: Option<f64>,
        totp_share: Option<f64>,
    ) {
        if !is_charted(scope) {
            return;
        }
        self.series
            .entry(scope.to_string())
            .or_default()
            .push(Point {
                start_ms,
                end_ms,
                attempts,
                push_share,
                totp_share,
            });
    }

    /// Records that a finding opened at `time_ms`.
    pub fn finding_opened(
        &mut self,
        detector: &str,
        scope: &str,
        title: &str,
        severity: &str,
        time_ms: i64,
    ) {
        let key = (detector.to_string(), scope.to_string());
        self.open.insert(key, self.spans.len());
        self.spans.push(Span {
            detector: detector.to_string(),
            scope: scope.to_string(),
            title: title.to_string(),
            severity: severity.to_string(),
            opened_ms: time_ms,
            resolved_ms: None,
            updates: 0,
        });
    }

    /// Records an update of an open finding; its latest severity is kept.
    pub fn finding_updated(&mut self, detector: &str, scope: &str, severity: &str) {
        let key = (detector.to_string(), scope.to_string());
        if let Some(span) = self
            .open
            .get(&key)
            .and_then(|&index| self.spans.get_mut(index))
        {
            span.updates += 1;
            span.severity = severity.to_string();
        }
    }

    /// Records that a finding resolved at `time_ms`.
    pub fn finding_resolved(&mut self, detector: &str, scope: &str, time_ms: i64) {
        let key = (detector.to_string(), scope.to_string());
        if let Some(index) = self.open.remove(&key) {
            if let Some(span) = self.spans.get_mut(index) {
                span.resolved_ms = Some(time_ms);
            }
        }
    }

    /// Renders the page.
    pub fn render(&self, title: &str, summary: &Summary) -> String {
        let (first, last) = self.time_range();
        let mut html = String::with_capacity(64 << 10);
        let _ = writeln!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>",
            escape(title),
            escape(title)
        );
        let _ = writeln!(
            html,
            "<p class=\"legend\"><span style=\"color:{PUSH_COLOUR}\">&#9644; push approved \
             share</span> <span style=\"color:{TOTP_COLOUR}\">&#9644; TOTP (typed code) \
             share</span> <span class=\"finding\">&#9632; finding open in the chart's scope \
             &#9660; finding on a user, node or realm</span> &mdash; shares of push and \
             typed-code attempts per window (windows with fewer than {MIN_DRAWN_ATTEMPTS} \
             attempts are left out), UTC; hover for details. A finding opens at the end of \
             the window that fired it (or at the log line that did), so its shading starts \
             after the drop it reports.</p>"
        );
        if self.series.is_empty() {
            html.push_str(
                "<p>No login attempts were classified, so there is nothing to draw.</p>\n",
            );
        }
        if let Some((from, to)) = self.focus(first, last) {
            let _ = writeln!(
                html,
                "<h2>Around the findings: {} to {}</h2>",
                format_time(from),
                format_time(to)
            );
            self.charts(&mut html, from, to);
            html.push_str("<h2>Whole replay</h2>\n");
        }
        self.charts(&mut html, first, last);
        html.push_str(&self.findings_table());
        let _ = writeln!(
            html,
            "<h2>Summary</h2>\n<pre>{}</pre>\n</body>\n</html>",
            escape(&summary.render())
        );
        html
    }

    /// Appends one chart per scope over `[first, last]`.
    fn charts(&self, html: &mut String, first: i64, last: i64) {
        for (scope, points) in self.ordered_series() {
            let spans: Vec<&Span> = self
                .spans
                .iter()
                .filter(|span| span.scope == *scope)
                .collect();
            let markers: Vec<&Span> = match scope.as_str() {
                "global" => self
                    .spans
                    .iter()
                    .filter(|span| !self.is_drawn(&span.scope))
                    .collect(),
                _ => Vec::new(),
            };
            let _ = writeln!(html, "<h3>{}</h3>", escape(scope));
            html.push_str(&chart(points, &spans, &markers, first, last));
        }
    }

    /// Returns a time range around the findings of the charted scopes, padded by a quarter of
    /// their length and at least two hours. Returns `None` when there is no such finding, or
    /// when the range would cover most of the replay anyway.
    fn focus(&self, first: i64, last: i64) -> Option<(i64, i64)> {
        const MIN_PADDING_MS: i64 = 2 * 3_600_000;
        let charted = self.spans.iter().filter(|span| self.is_drawn(&span.scope));
        let (start, end) = charted.fold(None, |range: Option<(i64, i64)>, span| {
            let end = span.resolved_ms.unwrap_or(last);
            Some(match range {
                None => (span.opened_ms, end),
                Some((start, old_end)) => (start.min(span.opened_ms), old_end.max(end)),
            })
        })?;
        let padding = ((end - start) / 4).max(MIN_PADDING_MS);
        let from = (start - padding).max(first);
        let to = (end + padding).min(last);
        (to - from < (last - first) / 2).then_some((from, to))
    }

    fn time_range(&self) -> (i64, i64) {
        let starts = self.series.values().flatten().map(|point| point.start_ms);
        let ends = self.series.values().flatten().map(|point| point.end_ms);
        let first = starts.min().unwrap_or(0);
        let last = ends.max().unwrap_or(first + 1);
        (first, last.max(first + 1))
    }

    fn is_drawn(&self, scope: &str) -> bool {
        self.series.contains_key(scope)
    }

    /// Returns the series in reading order: global, then sites, then platforms.
    fn ordered_series(&self) -> Vec<(&String, &Vec<Point>)> {
        let mut ordered: Vec<(&String, &Vec<Point>)> = self.series.iter().collect();
        ordered.sort_by_key(|(scope, _)| (scope_rank(scope), scope.as_str()));
        ordered
    }

    fn findings_table(&self) -> String {
        let mut html = String::from("<h2>Findings</h2>\n");
        if self.spans.is_empty() {
            html.push_str("<p>No finding was opened.</p>\n");
            return html;
        }
        html.push_str(
            "<table>\n<tr><th>opened (UTC)</th><th>resolved (UTC)</th><th>detector</th>\
             <th>scope</th><th>severity</th><th>updates</th><th>title</th></tr>\n",
        );
        for span in &self.spans {
            let resolved = span
                .resolved_ms
                .map_or("open at the end".to_string(), format_time);
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                format_time(span.opened_ms),
                escape(&resolved),
                escape(&span.detector),
                escape(&span.scope),
                escape(&span.severity),
                span.updates,
                escape(&span.title)
            );
        }
        html.push_str("</table>\n");
        html
    }
}

fn is_charted(scope: &str) -> bool {
    scope == "global" || scope.starts_with("site:") || scope.starts_with("platform:")
}

fn scope_rank(scope: &str) -> u8 {
    if scope == "global" {
        0
    } else if scope.starts_with("site:") {
        1
    } else {
        2
    }
}

/// Presentation attributes of axis labels, set on the elements so that a chart copied out of
/// the page renders the same.
const AXIS_TEXT: &str = "font-family=\"sans-serif\" font-size=\"11\" fill=\"#555\"";

/// Pixels per character of an 11 px label, an estimate used to keep finding labels from
/// overlapping each other and the right edge.
const LABEL_CHAR_WIDTH: f64 = 6.2;

/// Height of one row of finding labels above the plot.
const LABEL_ROW_HEIGHT: f64 = 13.0;

/// Maps event time and shares to chart coordinates.
struct Scale {
    first: i64,
    last: i64,
    /// Top of the plot area, below the rows of finding labels.
    top: f64,
    /// Height of the whole chart.
    height: f64,
}

impl Scale {
    fn x(&self, ms: i64) -> f64 {
        let plot_width = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
        let ms = ms.clamp(self.first, self.last);
        MARGIN_LEFT + (ms - self.first) as f64 / (self.last - self.first) as f64 * plot_width
    }

    fn y(&self, share: f64) -> f64 {
        self.top + (1.0 - share.clamp(0.0, 1.0)) * plot_height()
    }
}

fn plot_height() -> f64 {
    CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
}

/// Draws one scope. The two shares are lines, broken where a window has no second-factor
/// attempt. The findings of the scope are shaded spans. Findings of scopes without a chart of
/// their own (users, nodes, realms) are small markers along the top.
fn chart(points: &[Point], spans: &[&Span], markers: &[&Span], first: i64, last: i64) -> String {
    let labels = place_labels(spans, first, last);
    let extra_rows = labels.iter().map(|label| label.row).max().unwrap_or(0);
    let extra_height = extra_rows as f64 * LABEL_ROW_HEIGHT;
    let scale = Scale {
        first,
        last,
        top: MARGIN_TOP + extra_height,
        height: CHART_HEIGHT + extra_height,
    };
    let points: Vec<Point> = points
        .iter()
        .filter(|point| point.end_ms > first && point.start_ms < last)
        .copied()
        .collect();
    let mut svg = String::with_capacity(16 << 10);
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {CHART_WIDTH} {height}\" \
         width=\"{CHART_WIDTH}\" height=\"{height}\" role=\"img\">",
        height = scale.height,
    );
    draw_spans(&mut svg, spans, &scale);
    draw_labels(&mut svg, &labels, &scale);
    draw_markers(&mut svg, markers, &scale);
    draw_axes(&mut svg, &scale);
    for (colour, pick) in [
        (
            PUSH_COLOUR,
            (|point: &Point| point.push_share) as fn(&Point) -> Option<f64>,
        ),
        (TOTP_COLOUR, |point: &Point| point.totp_share),
    ] {
        let path = line_path(&points, pick, &|ms| scale.x(ms), &|share| scale.y(share));
        if !path.is_empty() {
            let _ = writeln!(
                svg,
                "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.4\"/>"
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Shades each finding from opening to resolution (or the end of the chart).
fn draw_spans(svg: &mut String, spans: &[&Span], scale: &Scale) {
    for span in spans {
        let start = scale.x(span.opened_ms);
        let end = scale
            .x(span.resolved_ms.unwrap_or(scale.last))
            .max(start + 2.0);
        let _ = writeln!(
            svg,
            "<rect x=\"{start:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
             fill=\"{FINDING_COLOUR}\" fill-opacity=\"0.15\" stroke=\"{FINDING_COLOUR}\" \
             stroke-opacity=\"0.6\"><title>{}</title></rect>",
            scale.top,
            end - start,
            plot_height(),
            tooltip(span),
        );
    }
}

/// The detector name of one finding, placed above the plot.
#[derive(Debug, Clone)]
struct Label<'a> {
    /// Horizontal position of the anchor.
    x: f64,
    /// SVG `text-anchor`: `start`, or `end` for a label moved left of the right edge.
    anchor: &'static str,
    /// Row above the plot, 0 being the nearest.
    row: usize,
    text: &'a str,
}

/// Places one label per finding at the start of its shading, in the nearest row where it does
/// not overlap an earlier label. A label that would run past the right edge of the plot ends
/// at that edge instead. Widths are estimated from the character count.
fn place_labels<'a>(spans: &[&'a Span], first: i64, last: i64) -> Vec<Label<'a>> {
    let scale = Scale {
        first,
        last,
        top: MARGIN_TOP,
        height: CHART_HEIGHT,
    };
    let right = CHART_WIDTH - MARGIN_RIGHT;
    // Right end of the last label in each row, gap included.
    let mut row_ends: Vec<f64> = Vec::new();
    let mut labels = Vec::with_capacity(spans.len());
    for span in spans {
        let start = scale.x(span.opened_ms);
        let width = span.detector.chars().count() as f64 * LABEL_CHAR_WIDTH;
        let (x, anchor, left) = if start + width > right {
            (right, "end", right - width)
        } else {
            (start, "start", start)
        };
        let row = match row_ends.iter().position(|&end| end <= left) {
            Some(row) => row,
            None => {
                row_ends.push(f64::MIN);
                row_ends.len() - 1
            }
        };
        row_ends[row] = left + width + 4.0;
        labels.push(Label {
            x,
            anchor,
            row,
            text: &span.detector,
        });
    }
    labels
}

fn draw_labels(svg: &mut String, labels: &[Label<'_>], scale: &Scale) {
    for label in labels {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\" font-family=\"sans-serif\" \
             font-size=\"11\" fill=\"{FINDING_COLOUR}\">{}</text>",
            label.x,
            scale.top - 6.0 - label.row as f64 * LABEL_ROW_HEIGHT,
            label.anchor,
            escape(label.text),
        );
    }
}

/// Draws a small triangle above the plot at the opening of each finding, with a tooltip.
fn draw_markers(svg: &mut String, markers: &[&Span], scale: &Scale) {
    for span in markers {
        let x = scale.x(span.opened_ms);
        let _ = writeln!(
            svg,
            "<path d=\"M{x:.1} {:.1} l-4 -7 h8 z\" class=\"marker\" fill=\"{FINDING_COLOUR}\">\
             <title>{}</title></path>",
            scale.top,
            tooltip(span),
        );
    }
}

fn draw_axes(svg: &mut String, scale: &Scale) {
    for share in [0.0, 0.5, 1.0] {
        let y = scale.y(share);
        let _ = writeln!(
            svg,
            "<line x1=\"{MARGIN_LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" \
             stroke=\"#ccc\"/><text x=\"{:.1}\" y=\"{:.1}\" {AXIS_TEXT} \
             text-anchor=\"end\">{:.0}%</text>",
            CHART_WIDTH - MARGIN_RIGHT,
            MARGIN_LEFT - 4.0,
            y + 4.0,
            share * 100.0
        );
    }
    const TICKS: i64 = 6;
    for tick in 0..=TICKS {
        let ms = scale.first + (scale.last - scale.first) * tick / TICKS;
        // The first and last labels are anchored inside the chart so that they are not cut.
        let anchor = match tick {
            0 => "start",
            TICKS => "end",
            _ => "middle",
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" {AXIS_TEXT} text-anchor=\"{anchor}\">{}</text>",
            scale.x(ms),
            scale.height - 8.0,
            format_time(ms)
        );
    }
}

fn tooltip(span: &Span) -> String {
    let resolved = span.resolved_ms.map_or("still open".to_string(), |ms| {
        format!("to {}", format_time(ms))
    });
    escape(&format!(
        "{} on {}: {} ({}), from {} {}",
        span.detector,
        span.scope,
        span.title,
        span.severity,
        format_time(span.opened_ms),
        resolved
    ))
}

/// Builds an SVG path through the windows that have a value, starting a new segment after a
/// window without one or a gap in time.
fn line_path(
    points: &[Point],
    pick: fn(&Point) -> Option<f64>,
    x: &dyn Fn(i64) -> f64,
    y: &dyn Fn(f64) -> f64,
) -> String {
    let mut path = String::new();
    let mut previous_end: Option<i64> = None;
    for point in points {
        let value = pick(point).filter(|_| point.attempts >= MIN_DRAWN_ATTEMPTS);
        let Some(value) = value else {
            previous_end = None;
            continue;
        };
        let middle = point.start_ms + (point.end_ms - point.start_ms) / 2;
        let command = if previous_end == Some(point.start_ms) {
            'L'
        } else {
            'M'
        };
        let _ = write!(path, "{command}{:.1} {:.1} ", x(middle), y(value));
        previous_end = Some(point.end_ms);
    }
    path.trim_end().to_string()
}

fn format_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|time| time.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.2em;margin:1.4em 0 .2em}h3{font-size:1em;margin:.8em 0 .1em}\
.legend span{margin-right:1.2em}.legend .finding{color:#d62728}\
table{border-collapse:collapse;font-size:.9em}\
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}";

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn sample() -> ReportBuilder {
        let mut report = ReportBuilder::new();
        for window in 0..4 {
            let start = window * 5 * MINUTE;
            let push = if window < 2 { Some(0.9) } else { Some(0.0) };
            report.add_window("global", start, start + 5 * MINUTE, 10, push, Some(0.1));
            report.add_window("site:hq", start, start + 5 * MINUTE, 10, push, Some(0.1));
            report.add_window("node:fac1", start, start + 5 * MINUTE, 10, push, Some(0.1));
        }
        report.finding_opened(
            "push_silence",
            "site:hq",
            "No push <approvals>",
            "high",
            10 * MINUTE,
        );
        report.finding_updated("push_silence", "site:hq", "critical");
        report.finding_resolved("push_silence", "site:hq", 15 * MINUTE);
        report.finding_opened(
            "mfa_fatigue",
            "user:ab12",
            "Push flood",
            "medium",
            12 * MINUTE,
        );
        report
    }

    #[test]
    fn page_is_self_contained() {
        let html = sample().render("Replay", &Summary::default());
        assert!(!html.contains("<script"), "no script");
        assert!(!html.contains("src="), "nothing loaded");
        assert!(!html.contains("href="), "no links");
        assert_eq!(
            html.matches("<svg").count(),
            2,
            "global and site:hq are drawn, node is not"
        );
    }

    #[test]
    fn findings_are_marked_and_escaped() {
        let html = sample().render("Replay", &Summary::default());
        assert!(html.contains("No push &lt;approvals&gt;"), "title escaped");
        assert!(!html.contains("No push <approvals>"), "raw title absent");
        assert!(html.contains("<td>critical</td>"), "latest severity kept");
        assert!(
            html.contains("open at the end"),
            "unresolved finding listed"
        );
        assert_eq!(
            html.matches("<rect").count(),
            1,
            "the hq finding on the hq chart"
        );
        assert_eq!(
            html.matches("class=\"marker\"").count(),
            1,
            "the user finding as a marker on the global chart"
        );
    }

    #[test]
    fn line_breaks_at_missing_window() {
        let points = [
            Point {
                start_ms: 0,
                end_ms: 10,
                attempts: 10,
                push_share: Some(1.0),
                totp_share: None,
            },
            Point {
                start_ms: 10,
                end_ms: 20,
                attempts: 10,
                push_share: Some(0.5),
                totp_share: None,
            },
            Point {
                start_ms: 20,
                end_ms: 30,
                attempts: 10,
                push_share: None,
                totp_share: None,
            },
            Point {
                start_ms: 30,
                end_ms: 40,
                attempts: 10,
                push_share: Some(0.0),
                totp_share: None,
            },
        ];
        let x = |ms: i64| ms as f64;
        let y = |share: f64| 100.0 - share * 100.0;
        let path = line_path(&points, |point| point.push_share, &x, &y);
        assert_eq!(path, "M5.0 0.0 L15.0 50.0 M35.0 100.0");
    }

    #[test]
    fn sparse_window_is_left_out() {
        let points = [
            Point {
                start_ms: 0,
                end_ms: 10,
                attempts: 10,
                push_share: Some(1.0),
                totp_share: None,
            },
            Point {
                start_ms: 10,
                end_ms: 20,
                attempts: 2,
                push_share: Some(0.0),
                totp_share: None,
            },
            Point {
                start_ms: 20,
                end_ms: 30,
                attempts: 10,
                push_share: Some(1.0),
                totp_share: None,
            },
        ];
        let path = line_path(
            &points,
            |point| point.push_share,
            &|ms| ms as f64,
            &|share| share,
        );
        assert_eq!(path, "M5.0 1.0 M25.0 1.0");
    }

    #[test]
    fn detail_section_around_findings() {
        let mut report = ReportBuilder::new();
        let hour = 60 * MINUTE;
        for window in 0..(14 * 24 * 12) {
            let start = window * 5 * MINUTE;
            report.add_window(
                "global",
                start,
                start + 5 * MINUTE,
                20,
                Some(0.8),
                Some(0.2),
            );
        }
        report.finding_opened("push_silence", "global", "No push", "high", 300 * hour);
        report.finding_resolved("push_silence", "global", 302 * hour);
        let html = report.render("Replay", &Summary::default());
        assert!(
            html.contains("Around the findings: 1970-01-13 10:00 to 1970-01-13 16:00"),
            "two hours of padding on each side"
        );
        assert_eq!(html.matches("<svg").count(), 2, "detail and whole replay");
    }

    /// Returns (x, y, text-anchor, text) of every finding label in `html`.
    fn finding_labels(html: &str) -> Vec<(f64, f64, String, String)> {
        let attribute = |line: &str, name: &str| -> String {
            let start = line
                .find(&format!(" {name}=\""))
                .map(|at| at + name.len() + 3)
                .expect("attribute present");
            let length = line[start..].find('"').expect("attribute closed");
            line[start..start + length].to_string()
        };
        html.lines()
            .filter(|line| {
                line.starts_with("<text") && line.contains(&format!("fill=\"{FINDING_COLOUR}\""))
            })
            .map(|line| {
                let text_start = line.find('>').expect("text element") + 1;
                let text_end = line.rfind("</text>").expect("text closed");
                (
                    attribute(line, "x").parse().expect("x is a number"),
                    attribute(line, "y").parse().expect("y is a number"),
                    attribute(line, "text-anchor"),
                    line[text_start..text_end].to_string(),
                )
            })
            .collect()
    }

    /// Returns a report with `windows` five-minute windows of the `platform:ios` scope.
    fn ios_windows(windows: i64) -> ReportBuilder {
        let mut report = ReportBuilder::new();
        for window in 0..windows {
            let start = window * 5 * MINUTE;
            report.add_window(
                "platform:ios",
                start,
                start + 5 * MINUTE,
                10,
                Some(0.5),
                Some(0.5),
            );
        }
        report
    }

    #[test]
    fn every_finding_gets_a_label() {
        let mut report = ios_windows(12);
        for detector in ["platform_divergence", "push_silence", "totp_surge"] {
            report.finding_opened(detector, "platform:ios", "Title", "high", 30 * MINUTE);
        }
        let html = report.render("Replay", &Summary::default());
        let labels = finding_labels(&html);
        let texts: Vec<&str> = labels.iter().map(|label| label.3.as_str()).collect();
        assert_eq!(
            texts,
            ["platform_divergence", "push_silence", "totp_surge"],
            "{html}"
        );
        let mut rows: Vec<f64> = labels.iter().map(|label| label.1).collect();
        rows.dedup();
        assert_eq!(rows.len(), 3, "labels at one time are stacked: {labels:?}");
        for (_, y, _, text) in &labels {
            assert!(*y >= 11.0, "label {text} at y {y} is cut at the top");
        }
        assert!(
            html.contains(&format!(
                "height=\"{}\"",
                CHART_HEIGHT + 2.0 * LABEL_ROW_HEIGHT
            )),
            "the chart grows by two label rows: {html}"
        );
    }

    #[test]
    fn separate_findings_share_a_row() {
        let mut report = ios_windows(12);
        report.finding_opened("push_silence", "platform:ios", "Title", "high", 0);
        report.finding_opened("totp_surge", "platform:ios", "Title", "high", 40 * MINUTE);
        let html = report.render("Replay", &Summary::default());
        let labels = finding_labels(&html);
        assert_eq!(labels.len(), 2, "{html}");
        assert_eq!(
            labels[0].1, labels[1].1,
            "no overlap, so one row: {labels:?}"
        );
        assert!(
            html.contains(&format!("height=\"{CHART_HEIGHT}\"")),
            "{html}"
        );
    }

    #[test]
    fn label_at_right_edge_stays_inside() {
        let mut report = ios_windows(12);
        report.finding_opened(
            "platform_divergence",
            "platform:ios",
            "Title",
            "high",
            59 * MINUTE,
        );
        let html = report.render("Replay", &Summary::default());
        let labels = finding_labels(&html);
        assert_eq!(labels.len(), 1, "{html}");
        let (x, _, anchor, _) = &labels[0];
        assert_eq!(anchor, "end", "{labels:?}");
        assert!(*x <= CHART_WIDTH - MARGIN_RIGHT, "{labels:?}");
        let width = "platform_divergence".len() as f64 * LABEL_CHAR_WIDTH;
        assert!(*x - width >= MARGIN_LEFT, "{labels:?}");
    }

    #[test]
    fn legend_explains_shading_start() {
        let html = sample().render("Replay", &Summary::default());
        assert!(
            html.contains("A finding opens at the end of the window that fired it"),
            "{html}"
        );
    }

    #[test]
    fn empty_report_says_so() {
        let html = ReportBuilder::new().render("Replay", &Summary::default());
        assert!(html.contains("nothing to draw"));
        assert!(html.contains("No finding was opened."));
    }
}
