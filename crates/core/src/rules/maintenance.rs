//! The maintenance window: day names kured and the Plan CRD accept, `HH:MM` times, a window
//! that is not empty, and an IANA time zone name.

use super::Rules;
use super::pointers::{
    MAINTENANCE_DAY, MAINTENANCE_DAYS, MAINTENANCE_END, MAINTENANCE_START, MAINTENANCE_TIME_ZONE,
    at, field,
};
use crate::model::weekday;
use crate::suggest;

/// The day names offered in messages and suggestions (kured also takes two letters and numbers;
/// railyard takes the letters, which read unambiguously in review).
const DAY_NAMES: [&str; 14] = [
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The areas of the IANA time zone database (tzdata's `zone1970.tab` and `backward` names,
/// `Etc` for fixed offsets): a zone name is `Area/Location`, or `UTC`.
const TIME_ZONE_AREAS: [&str; 11] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

impl Rules<'_> {
    pub(super) fn maintenance(&mut self) {
        self.maintenance_days();
        let start = self.window_time(MAINTENANCE_START);
        let end = self.window_time(MAINTENANCE_END);
        if let (Some(start), Some(end)) = (start, end) {
            if start == end {
                let end = self.str(MAINTENANCE_END).unwrap_or_default().to_owned();
                self.error(
                    MAINTENANCE_END,
                    format!("the maintenance window ends when it starts (`{end}`)"),
                    "an end time different from `start`",
                    "an end before the start runs past midnight, e.g. `start: \"22:00\"`, `end: \"04:00\"`",
                );
            }
        }
        if let Some(zone) = self.str(MAINTENANCE_TIME_ZONE) {
            if !is_time_zone_name(zone) {
                let zone = zone.to_owned();
                self.error(
                    MAINTENANCE_TIME_ZONE,
                    format!("`{zone}` is not an IANA time zone name"),
                    "`UTC` or `Area/Location` such as `Europe/Berlin` or `America/New_York`",
                    "use the name from the tz database (`timedatectl list-timezones`), not an abbreviation",
                );
            }
        }
    }

    fn maintenance_days(&mut self) {
        let Some(days) = self
            .value(MAINTENANCE_DAYS)
            .and_then(|d| d.as_array())
            .cloned()
        else {
            return;
        };
        if days.is_empty() {
            self.error(
                MAINTENANCE_DAYS,
                "the maintenance window has no day",
                "at least one day, e.g. `[sat, sun]`",
                "leave `days` out for every day",
            );
        }
        let names: Vec<Option<String>> =
            days.iter().map(|d| d.as_str().map(str::to_owned)).collect();
        for (index, name) in names.into_iter().enumerate() {
            let Some(name) = name else { continue };
            if weekday(&name).is_none() {
                let hint = suggest::hint(&name, &DAY_NAMES, || {
                    "write days as `mon` or `monday`".to_owned()
                });
                self.error(
                    &at(MAINTENANCE_DAY, index),
                    format!("`{name}` is not a day of the week"),
                    "one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun` (or the full name)",
                    hint,
                );
            }
        }
    }

    /// The time at `pointer` as minutes after midnight, when present and `HH:MM`.
    fn window_time(&mut self, pointer: &str) -> Option<u32> {
        let text = self.str(pointer)?.to_owned();
        let minutes = clock_minutes(&text);
        if minutes.is_none() {
            self.error(
                pointer,
                format!("`{text}` is not a time of day for `{}`", field(pointer)),
                "`HH:MM` on a 24-hour clock, e.g. `\"02:30\"`",
                "two digits for the hours and two for the minutes, `00:00` to `23:59`",
            );
        }
        minutes
    }
}

/// `HH:MM`, 00:00 to 23:59, as minutes after midnight.
fn clock_minutes(text: &str) -> Option<u32> {
    let (hours, minutes) = text.split_once(':')?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hours) || !two_digits(minutes) {
        return None;
    }
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// `UTC`, or `Area/Location[/More]` with a tz database area and name-like segments.
fn is_time_zone_name(zone: &str) -> bool {
    if zone == "UTC" {
        return true;
    }
    let mut segments = zone.split('/');
    let area = segments.next().unwrap_or_default();
    let rest: Vec<&str> = segments.collect();
    TIME_ZONE_AREAS.contains(&area)
        && !rest.is_empty()
        && rest.iter().all(|segment| {
            segment.starts_with(|c: char| c.is_ascii_alphabetic())
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times() {
        assert_eq!(clock_minutes("00:00"), Some(0));
        assert_eq!(clock_minutes("23:59"), Some(23 * 60 + 59));
        for bad in ["24:00", "1:00", "01:60", "0100", "01:00:00", "ab:cd", ""] {
            assert_eq!(clock_minutes(bad), None, "{bad}");
        }
    }

    #[test]
    fn time_zone_names() {
        for good in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+2",
        ] {
            assert!(is_time_zone_name(good), "{good}");
        }
        for bad in [
            "CET",
            "utc",
            "Europe",
            "Mars/Olympus",
            "Europe/",
            "Europe/Ber lin",
            "+02:00",
        ] {
            assert!(!is_time_zone_name(bad), "{bad}");
        }
    }

    #[test]
    fn day_names_follow_kured() {
        assert_eq!(weekday("Monday"), Some("mon"));
        assert_eq!(weekday("tu"), Some("tue"));
        assert_eq!(weekday("thu"), Some("thu"));
        assert_eq!(weekday("sunday"), Some("sun"));
        assert_eq!(weekday("mond"), None);
        assert_eq!(weekday("t"), None);
    }
}
