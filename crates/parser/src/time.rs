//! Calendar arithmetic and the time formats of syslog headers and Fortinet bodies, without
//! allocation or time zone database. Times are nanoseconds since the Unix epoch (UTC) in an
//! `i64`, which covers the years 1678 to 2261; anything outside is treated as invalid.

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Returns the number of days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Howard Hinnant's algorithm ("chrono-Compatible Low-Level Date Algorithms").
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub(crate) fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A wall-clock time without a zone, as read from a header or body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl Civil {
    /// Returns the nanoseconds since the epoch of this wall-clock time at `offset_seconds` east
    /// of UTC, or `None` when the date does not exist or is out of range.
    pub fn to_unix_nanos(self, offset_seconds: i32) -> Option<i64> {
        if !(1678..=2261).contains(&self.year)
            || self.month == 0
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
            || self.nanos >= 1_000_000_000
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds = days * SECONDS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(offset_seconds);
        seconds
            .checked_mul(NANOS_PER_SECOND)?
            .checked_add(i64::from(self.nanos))
    }
}

/// Returns the calendar year of a Unix time in nanoseconds.
pub(crate) fn year_of(unix_nanos: i64) -> i64 {
    let days = unix_nanos.div_euclid(NANOS_PER_SECOND * SECONDS_PER_DAY);
    // Inverse of days_from_civil, year part only.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    if month_index >= 10 {
        year + 1
    } else {
        year
    }
}

fn digit(byte: u8) -> Option<u32> {
    byte.is_ascii_digit().then(|| u32::from(byte - b'0'))
}

/// Reads exactly `N` ASCII digits at the start of `bytes`.
fn fixed_digits<const N: usize>(bytes: &[u8]) -> Option<u32> {
    let digits = bytes.get(..N)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &byte| Some(acc * 10 + digit(byte)?))
}

/// Reads a fraction of a second after a `.` or `,` (up to 9 digits kept, more ignored) and
/// returns it in nanoseconds with the number of bytes consumed, separator included.
fn fraction(bytes: &[u8]) -> (u32, usize) {
    const SCALE: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let Some((b'.' | b',', digits)) = bytes.split_first() else {
        return (0, 0);
    };
    let mut nanos = 0u32;
    let mut count = 0;
    for &byte in digits {
        let Some(value) = digit(byte) else { break };
        if count < 9 {
            nanos = nanos * 10 + value;
        }
        count += 1;
    }
    if count == 0 {
        return (0, 0);
    }
    (nanos * SCALE[count.min(9)], count + 1)
}

/// Parses `YYYY-MM-DD`; the whole value must match.
pub(crate) fn parse_date(value: &[u8]) -> Option<(i64, u32, u32)> {
    if value.len() != 10 || value[4] != b'-' || value[7] != b'-' {
        return None;
    }
    let year = fixed_digits::<4>(value)?;
    let month = fixed_digits::<2>(&value[5..])?;
    let day = fixed_digits::<2>(&value[8..])?;
    Some((i64::from(year), month, day))
}

/// Parses `HH:MM:SS` with an optional `.fraction`, and returns the rest of the value (for
/// example the `+0000` that FortiAuthenticator exports append).
pub(crate) fn parse_time(value: &[u8]) -> Option<(u32, u32, u32, u32, &[u8])> {
    let [h1, h2, b':', m1, m2, b':', s1, s2, after @ ..] = value else {
        return None;
    };
    let hour = digit(*h1)? * 10 + digit(*h2)?;
    let minute = digit(*m1)? * 10 + digit(*m2)?;
    let second = digit(*s1)? * 10 + digit(*s2)?;
    let (nanos, used) = fraction(after);
    Some((hour, minute, second, nanos, &after[used..]))
}

/// Parses a UTC offset and returns seconds east of UTC. Accepted: `Z`, `UTC`, `GMT`,
/// `+HHMM`, `-HHMM`, `+HH:MM`, `+HH`, and the FortiAnalyzer spelling `UTC+H:MM` / `UTC-HH:MM`
/// (also with `GMT`). Offsets beyond ±18:00 are rejected.
pub fn parse_offset(value: &[u8]) -> Option<i32> {
    let value = value.trim_ascii();
    let rest = match value {
        b"Z" | b"z" | b"UTC" | b"GMT" => return Some(0),
        _ if value.starts_with(b"UTC") || value.starts_with(b"GMT") => &value[3..],
        _ => value,
    };
    let (&sign, digits) = rest.split_first()?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = match digits {
        [h] => (digit(*h)?, 0),
        [h1, h2] => (digit(*h1)? * 10 + digit(*h2)?, 0),
        [h, b':', m1, m2] => (digit(*h)?, digit(*m1)? * 10 + digit(*m2)?),
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (
            digit(*h1)? * 10 + digit(*h2)?,
            digit(*m1)? * 10 + digit(*m2)?,
        ),
        _ => return None,
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * (hours as i32 * 3600 + minutes as i32 * 60))
}

/// Converts a FortiOS `eventtime` to nanoseconds. The unit follows from the digit count:
/// 10 seconds, 13 milliseconds, 16 microseconds, 19 nanoseconds.
pub(crate) fn parse_eventtime(value: &[u8]) -> Option<i64> {
    let scale: i64 = match value.len() {
        10 => 1_000_000_000,
        13 => 1_000_000,
        16 => 1_000,
        19 => 1,
        _ => return None,
    };
    // At most 19 digits, so the number stays below 10^19 < 2^64 without checks.
    let mut number: u64 = 0;
    let mut chunks = value.chunks_exact(8);
    for chunk in &mut chunks {
        number = number * 100_000_000 + eight_digits(chunk)?;
    }
    for &byte in chunks.remainder() {
        number = number * 10 + u64::from(digit(byte)?);
    }
    i64::try_from(number).ok()?.checked_mul(scale)
}

/// Reads eight ASCII digits at once, or returns `None` if one of them is not a digit.
fn eight_digits(chunk: &[u8]) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let word = u64::from_le_bytes(chunk.try_into().ok()?);
    // A byte is a digit when its high nibble is 3 both before and after adding 6 (0x30 to
    // 0x39). No addition carries into the next byte once the first test has passed.
    if word & HIGH_NIBBLES != ZEROS || (word + 0x0606_0606_0606_0606) & HIGH_NIBBLES != ZEROS {
        return None;
    }
    // The first digit is in the lowest byte. Combine neighbours into 2-digit, then 4-digit,
    // then 8-digit values.
    let digits = word - ZEROS;
    let pairs = (digits * 10 + (digits >> 8)) & 0x00FF_00FF_00FF_00FF;
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((quads * 10_000 + (quads >> 32)) & 0xFFFF_FFFF)
}

/// Parses an RFC 3339 timestamp (`T` between date and time, optional fraction,
/// optional offset) at the start of `bytes`. Returns the wall-clock time, the offset if one
/// was written, and the number of bytes consumed.
pub(crate) fn parse_rfc3339(bytes: &[u8]) -> Option<(Civil, Option<i32>, usize)> {
    let (year, month, day) = parse_date(bytes.get(..10)?)?;
    match bytes.get(10) {
        Some(b'T') | Some(b't') => {}
        _ => return None,
    }
    let (hour, minute, second, nanos, rest) = parse_time(&bytes[11..])?;
    let mut used = bytes.len() - rest.len();
    let offset = match rest.first() {
        Some(b'Z') | Some(b'z') => {
            used += 1;
            Some(0)
        }
        Some(b'+') | Some(b'-') => {
            let end = rest
                .iter()
                .position(|&byte| byte == b' ')
                .unwrap_or(rest.len());
            let offset = parse_offset(&rest[..end])?;
            used += end;
            Some(offset)
        }
        _ => None,
    };
    let civil = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    };
    Some((civil, offset, used))
}

/// Returns the length of the RFC 3339 timestamp at the start of `bytes`: the `used` count of
/// [`parse_rfc3339`], or `None` where it returns `None`. The common forms
/// (`YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`) are checked with word operations without computing
/// any value, and every other input goes through [`parse_rfc3339`] itself.
pub(crate) fn rfc3339_len(bytes: &[u8]) -> Option<usize> {
    rfc3339_len_common(bytes).or_else(|| parse_rfc3339(bytes).map(|(_, _, used)| used))
}

/// Returns the length for the common forms that [`rfc3339_len`] accepts without parsing, so
/// every `Some` here equals `parse_rfc3339`'s `used`. `None` means "not decided".
#[inline(always)]
fn rfc3339_len_common(bytes: &[u8]) -> Option<usize> {
    let head = bytes.get(..19)?;
    // `T` and `t` differ only in bit 0x20, so setting that bit in byte 10 accepts both.
    let form_ok = DATE_PATTERN.matches(word_at(head, 0)?, 0)
        && DAY_T_PATTERN.matches(word_at(head, 8)?, 0x20 << 16)
        && TIME_PATTERN.matches(word_at(head, 11)?, 0);
    if !form_ok {
        return None;
    }
    let mut at = 19;
    if matches!(bytes.get(at), Some(b'.' | b',')) {
        let count = leading_digits(&bytes[at + 1..]);
        if count == 0 {
            return None;
        }
        at += 1 + count;
    }
    match bytes.get(at) {
        Some(b'Z' | b'z') => Some(at + 1),
        Some(b'+' | b'-') => {
            // Only `±HH:MM` ending the token; `parse_offset` accepts it up to 18:59.
            let [h1, h2, b':', m1, m2] = *bytes.get(at + 1..at + 6)? else {
                return None;
            };
            let hours = digit(h1)? * 10 + digit(h2)?;
            let minutes = digit(m1)? * 10 + digit(m2)?;
            let token_ends = matches!(bytes.get(at + 6), None | Some(b' '));
            (hours <= 18 && minutes <= 59 && token_ends).then_some(at + 6)
        }
        _ => Some(at),
    }
}

/// An 8-byte form in which `0` stands for any ASCII digit and every other byte for itself,
/// tested on a little-endian word with a few integer operations.
struct BytePattern {
    /// The form's bytes as a word.
    bytes: u64,
    /// Per byte 0x76 for a digit and 0x7F for a literal. Added to a byte of the XOR with
    /// `bytes` that is below 0x80, it sets the high bit exactly when that byte is above 9
    /// (digit) or above 0 (literal).
    limits: u64,
}

impl BytePattern {
    const fn new(form: &[u8; 8]) -> BytePattern {
        let mut limits = 0u64;
        let mut index = 0;
        while index < 8 {
            let limit: u64 = if form[index] == b'0' { 0x76 } else { 0x7F };
            limits |= limit << (8 * index);
            index += 1;
        }
        BytePattern {
            bytes: u64::from_le_bytes(*form),
            limits,
        }
    }

    /// True when `word`, with the bits of `fold` set, has the form.
    #[inline(always)]
    fn matches(&self, word: u64, fold: u64) -> bool {
        self.mismatches(word, fold) == 0
    }

    /// Returns the high bit of each byte of `word` (with the bits of `fold` set) that does not
    /// fit the form, and possibly of bytes above the lowest such byte. A byte of 0x80 or more
    /// fails through its own high bit, and only such bytes carry into the next byte, so the
    /// lowest bit set is always a real mismatch.
    #[inline(always)]
    fn mismatches(&self, word: u64, fold: u64) -> u64 {
        let difference = (word | fold) ^ self.bytes;
        (difference | difference.wrapping_add(self.limits)) & 0x8080_8080_8080_8080
    }
}

const DATE_PATTERN: BytePattern = BytePattern::new(b"0000-00-");
const DAY_T_PATTERN: BytePattern = BytePattern::new(b"00t00:00");
const TIME_PATTERN: BytePattern = BytePattern::new(b"00:00:00");
const DIGITS_PATTERN: BytePattern = BytePattern::new(b"00000000");

/// Counts the ASCII digits at the start of `bytes`, eight at a time while eight remain.
#[inline(always)]
fn leading_digits(bytes: &[u8]) -> usize {
    let mut count = 0;
    while let Some(word) = word_at(bytes, count) {
        let non_digits = DIGITS_PATTERN.mismatches(word, 0);
        if non_digits != 0 {
            return count + non_digits.trailing_zeros() as usize / 8;
        }
        count += 8;
    }
    let tail = &bytes[count..];
    count + tail.iter().take_while(|byte| byte.is_ascii_digit()).count()
}

/// Returns the eight bytes at `at` as a little-endian word.
#[inline(always)]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// Returns the length of the RFC 3164 time at the start of `bytes`: the `used` count of
/// [`parse_bsd`], or `None` where it returns `None`. `Mmm dd hh:mm:ss` and `Mmm  d hh:mm:ss`
/// without a fraction are checked without computing any value, other input goes through
/// [`parse_bsd`].
pub(crate) fn bsd_len(bytes: &[u8]) -> Option<usize> {
    match bsd_len_common(bytes) {
        Some(used) => Some(used),
        // Most other headers do not start with a month name, so `parse_bsd` is not tried.
        None if bytes.get(..3).and_then(month_number).is_none() => None,
        None => parse_bsd(bytes).map(|(_, used)| used),
    }
}

/// Returns 15 for the common forms that [`bsd_len`] accepts without parsing, so every `Some`
/// here equals `parse_bsd`'s `used`. `None` means "not decided".
#[inline(always)]
fn bsd_len_common(bytes: &[u8]) -> Option<usize> {
    let head = bytes.get(..15)?;
    month_number(&head[..3])?;
    let day_ok = (head[4] == b' ' || head[4].is_ascii_digit()) && head[5].is_ascii_digit();
    let separators_ok = head[3] == b' ' && head[6] == b' ';
    let time_ok = TIME_PATTERN.matches(word_at(head, 7)?, 0);
    // A fraction after the seconds changes the length, so that form is left to `parse_bsd`.
    let no_fraction = !matches!(bytes.get(15), Some(b'.' | b','));
    (day_ok && separators_ok && time_ok && no_fraction).then_some(15)
}

pub(crate) fn month_number(name: &[u8]) -> Option<u32> {
    let month = match name {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    Some(month)
}

/// A year-less RFC 3164 time: month, day and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BsdTime {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

impl BsdTime {
    /// Returns this time in `year`.
    pub fn in_year(self, year: i64) -> Civil {
        Civil {
            year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second,
            nanos: self.nanos,
        }
    }
}

/// Parses `Mmm dd hh:mm:ss` (day padded with a space or a zero, or a single digit) at the
/// start of `bytes` and returns it with the number of bytes consumed.
pub(crate) fn parse_bsd(bytes: &[u8]) -> Option<(BsdTime, usize)> {
    match parse_bsd_common(bytes) {
        Some(time) => Some((time, 15)),
        None => parse_bsd_any(bytes),
    }
}

/// Parses every form that [`parse_bsd`] accepts, one field after the other.
fn parse_bsd_any(bytes: &[u8]) -> Option<(BsdTime, usize)> {
    let month = month_number(bytes.get(..3)?)?;
    if bytes.get(3) != Some(&b' ') {
        return None;
    }
    let mut at = 4;
    if bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let first = digit(*bytes.get(at)?)?;
    at += 1;
    let day = match bytes.get(at).copied().and_then(digit) {
        Some(second) => {
            at += 1;
            first * 10 + second
        }
        None => first,
    };
    if bytes.get(at) != Some(&b' ') {
        return None;
    }
    at += 1;
    let (hour, minute, second, nanos, rest) = parse_time(bytes.get(at..)?)?;
    let used = bytes.len() - rest.len();
    let time = BsdTime {
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    };
    Some((time, used))
}

/// Parses the common forms that [`bsd_len_common`] accepts, `Mmm dd hh:mm:ss` and
/// `Mmm  d hh:mm:ss` without a fraction, from fixed positions. Returns what [`parse_bsd`]
/// returns for them, and `None` for every other input.
#[inline(always)]
fn parse_bsd_common(bytes: &[u8]) -> Option<BsdTime> {
    bsd_len_common(bytes)?;
    let head = bytes.get(..15)?;
    // `bsd_len_common` has checked that these bytes are digits, so they are read without
    // another test. Byte 4 is the tens digit of the day, or a space before a one-digit day.
    let value = |at: usize| u32::from(head[at].wrapping_sub(b'0'));
    let number = |at: usize| value(at) * 10 + value(at + 1);
    let tens = if head[4] == b' ' { 0 } else { value(4) };
    Some(BsdTime {
        month: month_number(&head[..3])?,
        day: tens * 10 + value(5),
        hour: number(7),
        minute: number(10),
        second: number(13),
        nanos: 0,
    })
}

/// 182 days in nanoseconds: the distance within which [`infer_year`] keeps the receive year
/// without trying its neighbours.
const HALF_YEAR_NANOS: u64 = 182 * SECONDS_PER_DAY as u64 * NANOS_PER_SECOND as u64;

/// Picks the year for a year-less time: of the years around the receive time, the one that
/// puts the time closest to it. Returns `None` when the date exists in none of them (Feb 29
/// with no leap year among the candidates) or the time of day is invalid.
pub(crate) fn infer_year(time: BsdTime, offset_seconds: i32, receive_nanos: i64) -> Option<i64> {
    let receive_year = year_of(receive_nanos);
    // The same date one year earlier or later is 365 or 366 days away, so a candidate in the
    // receive year that is at most 182 days from the receive time is nearer than both others.
    if let Some(candidate) = time.in_year(receive_year).to_unix_nanos(offset_seconds) {
        let distance = candidate.abs_diff(receive_nanos);
        if distance <= HALF_YEAR_NANOS {
            return Some(candidate);
        }
        // Only the neighbour on the receive time's side can be nearer. On a tie the earlier
        // year wins, as in the loop below.
        let (neighbour_year, wins_tie) = if candidate > receive_nanos {
            (receive_year - 1, true)
        } else {
            (receive_year + 1, false)
        };
        let neighbour = time.in_year(neighbour_year).to_unix_nanos(offset_seconds);
        return match neighbour {
            Some(other) if other.abs_diff(receive_nanos) < distance => Some(other),
            Some(other) if wins_tie && other.abs_diff(receive_nanos) == distance => Some(other),
            _ => Some(candidate),
        };
    }
    let mut best: Option<i64> = None;
    for year in [receive_year - 1, receive_year, receive_year + 1] {
        let civil = time.in_year(year);
        let Some(candidate) = civil.to_unix_nanos(offset_seconds) else {
            continue;
        };
        let closer = match best {
            None => true,
            Some(current) => candidate.abs_diff(receive_nanos) < current.abs_diff(receive_nanos),
        };
        if closer {
            best = Some(candidate);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(civil: Civil) -> i64 {
        civil.to_unix_nanos(0).unwrap_or(i64::MIN)
    }

    fn civil(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Civil {
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos: 0,
        }
    }

    #[test]
    fn civil_to_unix() {
        assert_eq!(utc(civil(1970, 1, 1, 0, 0, 0)), 0);
        assert_eq!(
            utc(civil(2023, 3, 18, 6, 30, 43)),
            1_679_121_043 * NANOS_PER_SECOND
        );
        assert_eq!(
            utc(civil(2000, 2, 29, 0, 0, 0)),
            951_782_400 * NANOS_PER_SECOND
        );
        assert_eq!(civil(2023, 2, 29, 0, 0, 0).to_unix_nanos(0), None);
        assert_eq!(civil(2023, 13, 1, 0, 0, 0).to_unix_nanos(0), None);
        assert_eq!(civil(9999, 1, 1, 0, 0, 0).to_unix_nanos(0), None);
    }

    #[test]
    fn year_of_boundaries() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(utc(civil(2024, 12, 31, 23, 59, 59))), 2024);
        assert_eq!(year_of(utc(civil(2025, 1, 1, 0, 0, 0))), 2025);
        assert_eq!(year_of(utc(civil(2024, 2, 29, 12, 0, 0))), 2024);
        assert_eq!(year_of(-1), 1969);
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset(b"+0200"), Some(7200));
        assert_eq!(parse_offset(b"-0500"), Some(-18000));
        assert_eq!(parse_offset(b"UTC+2:00"), Some(7200));
        assert_eq!(parse_offset(b"UTC-5:00"), Some(-18000));
        assert_eq!(parse_offset(b"+05:30"), Some(19800));
        assert_eq!(parse_offset(b"UTC"), Some(0));
        assert_eq!(parse_offset(b"Z"), Some(0));
        assert_eq!(parse_offset(b"+2500"), None);
        assert_eq!(parse_offset(b"0200"), None);
        assert_eq!(parse_offset(b""), None);
    }

    #[test]
    fn eventtime_units() {
        let seconds = 1_557_788_156 * NANOS_PER_SECOND;
        assert_eq!(parse_eventtime(b"1557788156"), Some(seconds));
        assert_eq!(
            parse_eventtime(b"1557788156913"),
            Some(seconds + 913_000_000)
        );
        assert_eq!(
            parse_eventtime(b"1557788156913809"),
            Some(seconds + 913_809_000)
        );
        assert_eq!(
            parse_eventtime(b"1557788156913809277"),
            Some(seconds + 913_809_277)
        );
        assert_eq!(parse_eventtime(b"15577881569"), None);
        assert_eq!(parse_eventtime(b"9999999999999999999"), None);
        assert_eq!(parse_eventtime(b"155778815x"), None);
        assert_eq!(parse_eventtime(b"15577881/6"), None);
        assert_eq!(parse_eventtime(b"1557788:56"), None);
        assert_eq!(parse_eventtime(b"1557788156913809:77"), None);
        assert_eq!(parse_eventtime(b"\xb557788156"), None);
        assert_eq!(
            parse_eventtime(b"9223372036854775807"),
            Some(9_223_372_036_854_775_807)
        );
        assert_eq!(parse_eventtime(b"9223372036854775808"), None);
        assert_eq!(parse_eventtime(b"0000000000"), Some(0));
    }

    #[test]
    fn rfc3339_forms() {
        let (time, offset, used) = parse_rfc3339(b"2026-04-03T00:31:09.976660+00:00 host")
            .unwrap_or((civil(0, 0, 0, 0, 0, 0), None, 0));
        assert_eq!(used, 32);
        assert_eq!(offset, Some(0));
        assert_eq!(time.nanos, 976_660_000);
        let (_, offset, used) = parse_rfc3339(b"2021-07-08T11:00:56-03:00").unwrap_or((
            civil(0, 0, 0, 0, 0, 0),
            None,
            0,
        ));
        assert_eq!((offset, used), (Some(-10800), 25));
        assert!(parse_rfc3339(b"2021-07-08 11:00:56").is_none());
    }

    #[test]
    fn bsd_forms() {
        let parsed = parse_bsd(b"Feb  5 10:31:04 host").map(|(time, used)| (time.day, used));
        assert_eq!(parsed, Some((5, 15)));
        let parsed = parse_bsd(b"Dec 27 11:15:40 x").map(|(time, used)| (time.day, used));
        assert_eq!(parsed, Some((27, 15)));
        let parsed = parse_bsd(b"Feb 5 10:31:04").map(|(time, used)| (time.day, used));
        assert_eq!(parsed, Some((5, 14)));
        assert!(parse_bsd(b"Foo 12 10:31:04").is_none());
    }

    /// Header times in the forms the length checks decide themselves and in the forms they
    /// leave to the parsers, valid and not.
    const HEADER_TIMES: [&[u8]; 26] = [
        b"2024-05-13T00:00:00.004841+00:00 10.2.2.1",
        b"2024-05-13T08:42:17Z",
        b"2024-05-13T08:42:1\xb9Z",
        b"May 13 00:00:\xb90 fac01",
        b"2024-05-13t08:42:17,5z host",
        b"2024-05-13T08:42:17+18:59",
        b"2024-05-13T08:42:17+19:00",
        b"2024-05-13T08:42:17-03:00x",
        b"2024-05-13T08:42:17+0200 host",
        b"2024-05-13T08:42:17+02",
        b"2024-05-13T08:42:17UTC",
        b"2024-05-13T08:42:17. host",
        b"2024-99-13T99:42:17 host",
        b"2024-05-13 08:42:17",
        b"2024-05-13T08:42",
        b"May 13 00:00:00 fac01",
        b"May  3 00:00:00 fac01",
        b"May 3 00:00:00 fac01",
        b"May  13 00:00:00 fac01",
        b"May 13 00:00:00.123 fac01",
        b"May 13 00:00:00, fac01",
        b"May 13 00:00:0",
        b"May 1x 00:00:00",
        b"Mai 13 00:00:00",
        b"Feb 30 99:99:99",
        b"",
    ];

    #[test]
    fn rfc3339_len_matches_parser() {
        for text in HEADER_TIMES {
            let expected = parse_rfc3339(text).map(|(_, _, used)| used);
            assert_eq!(
                rfc3339_len(text),
                expected,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn bsd_len_matches_parser() {
        for text in HEADER_TIMES {
            let expected = parse_bsd(text).map(|(_, used)| used);
            assert_eq!(bsd_len(text), expected, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn bsd_common_form_matches_general_parse() {
        let extra: [&[u8]; 6] = [
            b"May 03 00:00:00 fac01",
            b"May  3 23:59:60",
            b"Jan 1x 00:00:00",
            b"Jan  x 00:00:00",
            b"Feb 29 99:99:99 x",
            b"Dec 31 12:00:00.5",
        ];
        let mut common_count = 0;
        for text in HEADER_TIMES.iter().copied().chain(extra) {
            let general = parse_bsd_any(text);
            let name = String::from_utf8_lossy(text);
            assert_eq!(parse_bsd(text), general, "{name}");
            if let Some(common) = parse_bsd_common(text) {
                common_count += 1;
                assert_eq!(Some((common, 15)), general, "{name}");
            }
        }
        assert!(
            common_count >= 4,
            "only {common_count} texts took the common form"
        );
    }

    #[test]
    fn byte_pattern_checks_every_byte() {
        let form = b"00:00-0t";
        let pattern = BytePattern::new(form);
        for position in 0..8 {
            for value in 0..=255u8 {
                let mut bytes = *b"12:34-5t";
                bytes[position] = value;
                let expected = if form[position] == b'0' {
                    value.is_ascii_digit()
                } else {
                    value == form[position]
                };
                let word = u64::from_le_bytes(bytes);
                assert_eq!(pattern.matches(word, 0), expected, "{position} {value:#x}");
            }
        }
        let upper_t = u64::from_le_bytes(*b"12:34-5T");
        assert!(pattern.matches(upper_t, 0x20 << 56));
        assert!(!pattern.matches(upper_t, 0));
    }

    #[test]
    fn leading_digits_counts_digit_run() {
        let texts: [&[u8]; 8] = [
            b"",
            b"1",
            b"123456+00:00",
            b"1234567",
            b"12345678",
            b"123456789012+",
            b"12\xff45678",
            b"x1234567890",
        ];
        for text in texts {
            let expected = text.iter().take_while(|byte| byte.is_ascii_digit()).count();
            assert_eq!(leading_digits(text), expected, "{text:?}");
        }
    }

    #[test]
    fn length_checks_decide_common_forms() {
        assert_eq!(
            rfc3339_len_common(b"2024-05-13T00:00:00.004841+00:00 10.2.2.1"),
            Some(32)
        );
        assert_eq!(rfc3339_len_common(b"2024-05-13T00:00:00Z"), Some(20));
        assert_eq!(bsd_len_common(b"May 13 00:00:00 fac01"), Some(15));
        assert_eq!(bsd_len_common(b"May  3 00:00:00 fac01"), Some(15));
    }

    /// Tries all three years around the receive time, as year inference is specified.
    fn nearest_of_three(time: BsdTime, receive_nanos: i64) -> Option<i64> {
        let receive_year = year_of(receive_nanos);
        let mut best: Option<i64> = None;
        for year in receive_year - 1..=receive_year + 1 {
            let civil = time.in_year(year);
            if let Some(candidate) = civil.to_unix_nanos(0) {
                if best.is_none_or(|current| {
                    candidate.abs_diff(receive_nanos) < current.abs_diff(receive_nanos)
                }) {
                    best = Some(candidate);
                }
            }
        }
        best
    }

    #[test]
    fn year_inference_matches_three_candidates() {
        let receives = [
            utc(civil(2024, 1, 1, 0, 5, 0)),
            utc(civil(2024, 2, 29, 0, 0, 0)),
            // Halfway between 2023-12-31 and 2024-12-31, and between 2024-01-01 and
            // 2025-01-01, so those dates tie.
            utc(civil(2024, 7, 1, 0, 0, 0)),
            utc(civil(2024, 7, 2, 0, 0, 0)),
            utc(civil(2024, 7, 1, 12, 0, 0)),
            utc(civil(2024, 7, 2, 12, 0, 0)),
            utc(civil(2025, 1, 1, 0, 10, 0)),
            utc(civil(2025, 12, 31, 23, 59, 59)),
        ];
        for receive in receives {
            for month in 1..=12 {
                for day in [1, 2, 15, 28, 29, 30, 31] {
                    for hour in [0, 11, 12, 23] {
                        let time = BsdTime {
                            month,
                            day,
                            hour,
                            minute: 0,
                            second: 0,
                            nanos: 0,
                        };
                        assert_eq!(
                            infer_year(time, 0, receive),
                            nearest_of_three(time, receive),
                            "{month}-{day} {hour}h, receive {receive}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn year_inference_picks_nearest() {
        let receive = utc(civil(2025, 1, 1, 0, 10, 0));
        let december = BsdTime {
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 0,
            nanos: 0,
        };
        assert_eq!(
            infer_year(december, 0, receive),
            Some(utc(civil(2024, 12, 31, 23, 59, 0)))
        );
        let leap_day = BsdTime {
            month: 2,
            day: 29,
            ..december
        };
        assert_eq!(
            infer_year(leap_day, 0, receive),
            Some(utc(civil(2024, 2, 29, 23, 59, 0)))
        );
        let receive_2022 = utc(civil(2022, 6, 1, 0, 0, 0));
        assert_eq!(infer_year(leap_day, 0, receive_2022), None);
    }
}
