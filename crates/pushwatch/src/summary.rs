//! Counters of one replay or run, and the short summary that replay prints to stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Counters of a replay or run so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Non-empty lines or frames read.
    pub lines: u64,
    /// Bytes of those lines, after decompression.
    pub bytes: u64,
    /// Lines cut at the length limit.
    pub truncated: u64,
    /// Lines outside `--from`/`--to`, not processed.
    pub skipped_out_of_range: u64,
    /// Parse errors by kind name; one line can have several.
    pub parse_errors: BTreeMap<&'static str, u64>,
    /// Lines that the rule table turned into an MFA signal.
    pub signals: u64,
    /// Classified login attempts by outcome class name.
    pub attempts: BTreeMap<String, u64>,
    /// Findings opened.
    pub findings_opened: u64,
    /// Finding updates.
    pub findings_updated: u64,
    /// Findings resolved.
    pub findings_resolved: u64,
    /// Lines that arrived after their window had closed.
    pub late_lines: u64,
    /// Lines dated too far after their receive or reference time, skipped.
    pub future_lines: u64,
    /// MFA fatigue findings not opened because an outage finding covered the user.
    pub suppressed_fatigue: u64,
    /// MFA fatigue findings resolved because an outage finding explained them.
    pub explained_fatigue: u64,
    /// FortiAuthenticator lines with a field written twice, left unclassified.
    pub ambiguous_lines: u64,
    /// Windows closed (over all scopes).
    pub windows_closed: u64,
    /// Open login attempts evicted at the `stitching.max_open_attempts` cap.
    pub evicted_attempts: u64,
    /// Users evicted from the push history at the `stitching.max_users` cap.
    pub evicted_users: u64,
}

impl Summary {
    /// Returns the number of parse errors over all kinds.
    pub fn parse_error_total(&self) -> u64 {
        self.parse_errors.values().sum()
    }

    /// Renders the summary as a few human-readable lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "lines read: {} ({} bytes kept, {} cut at the length limit{})",
            self.lines,
            self.bytes,
            self.truncated,
            if self.skipped_out_of_range > 0 {
                format!(", {} outside --from/--to", self.skipped_out_of_range)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "parse errors: {}{}",
            self.parse_error_total(),
            list(
                self.parse_errors
                    .iter()
                    .map(|(kind, count)| (*kind, *count))
            )
        );
        let total_attempts: u64 = self.attempts.values().sum();
        let _ = writeln!(
            out,
            "login attempts: {total_attempts} from {} MFA lines{}",
            self.signals,
            list(
                self.attempts
                    .iter()
                    .map(|(class, count)| (class.as_str(), *count))
            )
        );
        let _ = writeln!(
            out,
            "findings: {} opened, {} updated, {} resolved",
            self.findings_opened, self.findings_updated, self.findings_resolved
        );
        let _ = writeln!(out, "late lines: {}", self.late_lines);
        if self.suppressed_fatigue > 0 || self.explained_fatigue > 0 {
            let _ = writeln!(
                out,
                "mfa fatigue during outages: {} not opened, {} resolved as explained",
                self.suppressed_fatigue, self.explained_fatigue
            );
        }
        if self.ambiguous_lines > 0 {
            let _ = writeln!(
                out,
                "ambiguous lines: {} (FortiAuthenticator lines that write a field twice or \
                 have status= in their message, most likely through a quote in a user name; \
                 not classified)",
                self.ambiguous_lines
            );
        }
        if self.future_lines > 0 {
            let _ = writeln!(
                out,
                "future lines: {} (dated more than windows.max_clock_skew_secs after the \
                 receive or reference time; skipped)",
                self.future_lines
            );
        }
        if self.evicted_attempts > 0 || self.evicted_users > 0 {
            let _ = writeln!(
                out,
                "evicted at the caps: {} open attempts, {} users",
                self.evicted_attempts, self.evicted_users
            );
        }
        out
    }
}

/// Formats `(name, count)` pairs as ` (a 1, b 2)`, skipping zero counts.
fn list<'a>(items: impl Iterator<Item = (&'a str, u64)>) -> String {
    let parts: Vec<String> = items
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_lists_nonzero_kinds() {
        let mut summary = Summary {
            lines: 10,
            bytes: 600,
            late_lines: 2,
            findings_opened: 1,
            ..Summary::default()
        };
        summary.parse_errors.insert("stray_text", 3);
        summary.parse_errors.insert("invalid_pri", 0);
        summary.attempts.insert("push_approved".to_string(), 4);
        summary.attempts.insert("totp_fallback".to_string(), 1);
        let text = summary.render();
        assert!(text.contains("lines read: 10 (600 bytes"), "{text}");
        assert!(text.contains("parse errors: 3 (stray_text 3)"), "{text}");
        assert!(!text.contains("invalid_pri"), "{text}");
        assert!(
            !text.contains("future lines"),
            "shown only when some: {text}"
        );
        assert!(!text.contains("fatigue"), "shown only when some: {text}");
        summary.explained_fatigue = 3;
        let text = summary.render();
        assert!(
            text.contains("mfa fatigue during outages: 0 not opened, 3 resolved as explained"),
            "{text}"
        );
        assert!(
            text.contains("login attempts: 5 from 0 MFA lines (push_approved 4, totp_fallback 1)"),
            "{text}"
        );
        assert!(
            text.contains("findings: 1 opened, 0 updated, 0 resolved"),
            "{text}"
        );
        assert!(text.contains("late lines: 2"), "{text}");
        assert!(!text.contains("evicted"), "{text}");
    }

    #[test]
    fn render_shows_evictions() {
        let summary = Summary {
            evicted_attempts: 7,
            evicted_users: 3,
            ..Summary::default()
        };
        let text = summary.render();
        assert!(
            text.contains("evicted at the caps: 7 open attempts, 3 users"),
            "{text}"
        );
    }
}
