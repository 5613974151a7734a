//! Time zones: pages show times in the reader's zone — the user's own, else the seller's, else
//! UTC. Zones are IANA names (`America/Chicago`) from the zone database built into the binary, so
//! a server without tzdata shows the same times.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The zone of a user or seller who chose none.
pub const DEFAULT: &str = "UTC";

/// A zone known by its IANA name.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone { name: DEFAULT.to_string(), tz: TimeZone::UTC }
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Zone {
    /// A zone by its IANA name, in any letter case (`america/chicago`); its name is kept as the
    /// database spells it.
    pub fn parse(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("Choose a time zone.".into());
        }
        if name.len() > 64 || name.chars().any(|c| c.is_control()) {
            return Err("That is not a time zone name; choose one from the list.".into());
        }
        let tz = TimeZone::get(name).map_err(|_| {
            format!("\"{name}\" is not a time zone we know; choose one from the list (e.g. America/Chicago).")
        })?;
        let canonical = tz.iana_name().unwrap_or(name).to_string();
        Ok(Zone { name: canonical, tz })
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Unix seconds as a date and time in this zone, with the zone's abbreviation:
    /// `06 Dec 2026 08:05 CST`.
    pub fn datetime(&self, ts: i64) -> String {
        self.format(ts, "%d %b %Y %H:%M %Z")
    }

    /// Unix seconds as the date in this zone: `06 Dec 2026`.
    pub fn date(&self, ts: i64) -> String {
        self.format(ts, "%d %b %Y")
    }

    fn format(&self, ts: i64, pattern: &str) -> String {
        Timestamp::from_second(ts)
            .map(|t| t.to_zoned(self.tz.clone()).strftime(pattern).to_string())
            .unwrap_or_default()
    }
}

/// Every zone a user may choose, by name (canonical IANA names, sorted; `UTC` first).
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.to_string())
        // Region/City names, plus UTC; the database's legacy aliases (EST5EDT, US/Central, Etc/GMT+6)
        // would only make the list longer and confuse (Etc/GMT+6 is six hours *behind*).
        .filter(|n| n.contains('/') && !n.starts_with("Etc/") && !n.starts_with("US/") && !n.starts_with("SystemV/"))
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect();
    names.sort();
    names.dedup();
    names.insert(0, DEFAULT.to_string());
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_zone_with_its_abbreviation_across_daylight_saving() {
        let chicago = Zone::parse("america/chicago").unwrap();
        assert_eq!(chicago.name(), "America/Chicago");
        // 2026-12-06 14:05 UTC is 08:05 in Chicago (CST, UTC−6)…
        assert_eq!(chicago.datetime(1_796_565_900), "06 Dec 2026 08:05 CST");
        // …and 2026-07-01 12:00 UTC is 07:00 (CDT, UTC−5).
        assert_eq!(chicago.datetime(1_782_907_200), "01 Jul 2026 07:00 CDT");
        assert_eq!(Zone::default().datetime(1_796_565_900), "06 Dec 2026 14:05 UTC");
        // A date is the reader's date: 03:00 UTC on the 7th is still the 6th in Chicago.
        assert_eq!(chicago.date(1_796_612_400), "06 Dec 2026");
        assert_eq!(Zone::default().date(1_796_612_400), "07 Dec 2026");
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.datetime(1_796_565_900), "06 Dec 2026 15:05 CET");
    }

    #[test]
    fn unknown_or_malformed_names_are_refused_with_a_reason() {
        for bad in ["", "  ", "Mars/Olympus_Mons", "America/Chicago\0", &"A".repeat(100), "../../etc/passwd"] {
            let why = Zone::parse(bad).unwrap_err();
            assert!(why.contains("time zone"), "{bad:?}: {why}");
        }
    }

    #[test]
    fn the_list_holds_region_city_names_and_utc_first() {
        let names = names();
        assert_eq!(names[0], "UTC");
        for n in ["America/Chicago", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"] {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
        assert!(!names.iter().any(|n| n.starts_with("Etc/") || n == "EST5EDT"));
        for n in &names {
            assert!(Zone::parse(n).is_ok(), "{n} is listed but cannot be chosen");
        }
    }
}
