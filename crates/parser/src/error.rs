//! Parse problems reported as values: a kind with a stable name plus the byte offset in the
//! frame. A record with errors is still returned; the caller counts the errors per kind.

/// Kind of problem found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `<` at the start of the frame is not followed by 1 to 3 digits and `>`.
    InvalidPri,
    /// The PRI is a number above 191 (facility 23, severity 7), so it is ignored.
    PriOutOfRange,
    /// A syslog header timestamp has the right shape but is not a valid time, for example
    /// Feb 29 in a year-less RFC 3164 header when no year near the receive time is a leap year.
    InvalidTimestamp,
    /// RFC 5424 structured data is not closed by `]` or has a malformed element.
    InvalidStructuredData,
    /// `eventtime` is not 10, 13, 16 or 19 digits, or does not fit in 64-bit nanoseconds.
    InvalidEventtime,
    /// `date` is not `YYYY-MM-DD` or names a day that does not exist.
    InvalidDate,
    /// `time` is not `HH:MM:SS` with an optional fraction and offset.
    InvalidTime,
    /// `tz` is neither `+HHMM`/`-HHMM`, `+HH:MM` nor `UTC+H:MM`.
    InvalidTimezone,
    /// A quoted value has no closing quote, so it runs to the end of the frame.
    UnclosedQuote,
    /// Text between key=value pairs that is not a pair (for example a trailing `|`).
    StrayText,
    /// A CEF header has fewer than the seven `|`-separated fields.
    InvalidCefHeader,
}

impl ErrorKind {
    /// Returns the stable snake_case name, suitable as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidPri => "invalid_pri",
            ErrorKind::PriOutOfRange => "pri_out_of_range",
            ErrorKind::InvalidTimestamp => "invalid_timestamp",
            ErrorKind::InvalidStructuredData => "invalid_structured_data",
            ErrorKind::InvalidEventtime => "invalid_eventtime",
            ErrorKind::InvalidDate => "invalid_date",
            ErrorKind::InvalidTime => "invalid_time",
            ErrorKind::InvalidTimezone => "invalid_timezone",
            ErrorKind::UnclosedQuote => "unclosed_quote",
            ErrorKind::StrayText => "stray_text",
            ErrorKind::InvalidCefHeader => "invalid_cef_header",
        }
    }

    /// Every kind, in declaration order, for callers that pre-register metrics.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::InvalidPri,
        ErrorKind::PriOutOfRange,
        ErrorKind::InvalidTimestamp,
        ErrorKind::InvalidStructuredData,
        ErrorKind::InvalidEventtime,
        ErrorKind::InvalidDate,
        ErrorKind::InvalidTime,
        ErrorKind::InvalidTimezone,
        ErrorKind::UnclosedQuote,
        ErrorKind::StrayText,
        ErrorKind::InvalidCefHeader,
    ];
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// Kind of problem.
    pub kind: ErrorKind,
    /// Byte offset in the frame where the problem starts.
    pub offset: usize,
}

/// Maximum number of errors kept per frame; later ones are only counted.
pub const MAX_ERRORS: usize = 8;

/// The errors of one frame, kept inline so that parsing never allocates for them.
#[derive(Debug, Clone, Copy)]
pub struct Errors {
    items: [ParseError; MAX_ERRORS],
    len: u8,
    dropped: u32,
}

impl Default for Errors {
    fn default() -> Self {
        Errors {
            items: [ParseError {
                kind: ErrorKind::StrayText,
                offset: 0,
            }; MAX_ERRORS],
            len: 0,
            dropped: 0,
        }
    }
}

impl Errors {
    pub(crate) fn push(&mut self, kind: ErrorKind, offset: usize) {
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = ParseError { kind, offset };
                self.len += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    /// Returns the kept errors in the order they were found.
    pub fn as_slice(&self) -> &[ParseError] {
        &self.items[..usize::from(self.len)]
    }

    /// Returns the number of errors found after the first [`MAX_ERRORS`], which are not kept.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Returns true when no error was found.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
