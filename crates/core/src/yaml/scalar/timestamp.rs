//! yaml.v3's timestamps: Go's `time.Parse` with the four layouts yaml.v3 tries, calendar checks
//! included (`2024-02-31` is no date, so it stays a string).

/// The layouts yaml.v3 tries, in its order; the first three take a time after the date.
const LAYOUTS: [Layout; 4] = [
    Layout::Zoned(b'T'),
    Layout::Zoned(b't'),
    Layout::Spaced,
    Layout::DateOnly,
];

#[derive(Clone, Copy)]
enum Layout {
    /// `2006-1-2T15:4:5.999999999Z07:00`, with this separator.
    Zoned(u8),
    /// `2006-1-2 15:4:5.999999999`, in UTC.
    Spaced,
    /// `2006-1-2`.
    DateOnly,
}

/// The time `text` names, formatted as Go's `time.RFC3339Nano`, when it is one.
pub(super) fn parse(text: &str) -> Option<String> {
    // yaml.v3's quick check: exactly four digits, then `-`
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits != 4 || text.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    LAYOUTS.iter().find_map(|layout| parse_as(text, *layout))
}

/// A time's fields as `time.Parse` reads them.
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    clock: (u32, u32, u32),
    nanos: u32,
    /// Seconds east of UTC.
    offset: i32,
}

fn parse_as(text: &str, layout: Layout) -> Option<String> {
    let mut at = Cursor(text.as_bytes());
    let year = at.fixed(4)?;
    at.literal(b'-')?;
    let month = at.number()?;
    at.literal(b'-')?;
    let day = at.number()?;
    let mut fields = Fields {
        year,
        month,
        day,
        clock: (0, 0, 0),
        nanos: 0,
        offset: 0,
    };
    match layout {
        Layout::DateOnly => {}
        Layout::Zoned(separator) => {
            at.literal(separator)?;
            (fields.clock, fields.nanos) = at.clock()?;
            fields.offset = at.zone()?;
        }
        Layout::Spaced => {
            at.spaces()?;
            (fields.clock, fields.nanos) = at.clock()?;
        }
    }
    (at.0.is_empty() && fields.valid()).then(|| fields.rfc3339_nano())
}

impl Fields {
    fn valid(&self) -> bool {
        let (hour, minute, second) = self.clock;
        (1..=12).contains(&self.month)
            && (1..=days_in(self.month, self.year)).contains(&self.day)
            && hour < 24
            && minute < 60
            && second < 60
    }

    fn rfc3339_nano(&self) -> String {
        let (hour, minute, second) = self.clock;
        let mut out = format!(
            "{:04}-{:02}-{:02}T{hour:02}:{minute:02}:{second:02}",
            self.year, self.month, self.day
        );
        if self.nanos > 0 {
            let fraction = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        if self.offset == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let minutes = self.offset.unsigned_abs() / 60;
            out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
        }
        out
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// What is left of the text, read front to back as `time.Parse` reads it.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn digit(&self, i: usize) -> Option<u32> {
        self.0
            .get(i)
            .filter(|b| b.is_ascii_digit())
            .map(|b| u32::from(b - b'0'))
    }

    /// Exactly `n` digits.
    fn fixed(&mut self, n: usize) -> Option<u32> {
        let value = (0..n).try_fold(0, |acc, i| Some(acc * 10 + self.digit(i)?))?;
        self.0 = &self.0[n..];
        Some(value)
    }

    /// One or two digits, as many as there are (Go's `getnum(s, false)`).
    fn number(&mut self) -> Option<u32> {
        let first = self.digit(0)?;
        match self.digit(1) {
            Some(second) => {
                self.0 = &self.0[2..];
                Some(first * 10 + second)
            }
            None => {
                self.0 = &self.0[1..];
                Some(first)
            }
        }
    }

    fn literal(&mut self, byte: u8) -> Option<()> {
        let rest = self.0.strip_prefix(&[byte])?;
        self.0 = rest;
        Some(())
    }

    /// A space in a Go layout matches one or more spaces.
    fn spaces(&mut self) -> Option<()> {
        if self.0.first() != Some(&b' ') {
            return None;
        }
        while let Some(rest) = self.0.strip_prefix(b" ") {
            self.0 = rest;
        }
        Some(())
    }

    /// `15:4:5`, then an optional fraction of any length (`.` or `,`), cut to nanoseconds.
    fn clock(&mut self) -> Option<((u32, u32, u32), u32)> {
        let hour = self.number()?;
        self.literal(b':')?;
        let minute = self.number()?;
        self.literal(b':')?;
        let second = self.number()?;
        let mut nanos = 0;
        if matches!(self.0.first(), Some(b'.' | b',')) && self.digit(1).is_some() {
            let digits = self.0[1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let kept = &self.0[1..=digits.min(9)];
            let value = kept
                .iter()
                .fold(0_u32, |acc, b| acc * 10 + u32::from(b - b'0'));
            nanos = value * 10_u32.pow(9 - u32::try_from(kept.len()).ok()?);
            self.0 = &self.0[1 + digits..];
        }
        Some(((hour, minute, second), nanos))
    }

    /// `Z`, or `±hh:mm` (Go allows up to 24 hours and 60 minutes).
    fn zone(&mut self) -> Option<i32> {
        if self.literal(b'Z').is_some() {
            return Some(0);
        }
        let z = self.0.get(..6)?;
        let sign = match z[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        if z[3] != b':' {
            return None;
        }
        let two = |i: usize| {
            (z[i].is_ascii_digit() && z[i + 1].is_ascii_digit())
                .then(|| i32::from(z[i] - b'0') * 10 + i32::from(z[i + 1] - b'0'))
        };
        let (hours, minutes) = (two(1)?, two(4)?);
        if hours > 24 || minutes > 60 {
            return None;
        }
        self.0 = &self.0[6..];
        Some(sign * (hours * 3600 + minutes * 60))
    }
}
