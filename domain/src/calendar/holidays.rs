//! National public holidays, offered as blackout suggestions for a chosen country.
//!
//! The data ships with Demarc (`domain/data/public-holidays.json`, embedded at build time; no
//! network at run time) and holds rules, not dates, so every year from [`MIN_YEAR`] to
//! [`MAX_YEAR`] works:
//!
//! * a fixed day (`fixed`), optionally shifted when it falls on a given weekday (the Dutch King's
//!   Day, 27 April, is held on the 26th when the 27th is a Sunday);
//! * a number of days from Western Easter Sunday (`easter`: Good Friday is -2, Whit Monday 50);
//! * the first to fourth or the last weekday of a month (`nth_weekday`);
//! * the first given weekday on or after a day (`weekday_on_or_after`: Canada's Victoria Day is
//!   the Monday on or after 18 May);
//! * a fixed day when it falls on given weekdays, else another rule (`fixed_if`: Ireland's
//!   St Brigid's Day is 1 February when that is a Friday, else the first Monday of February);
//! * a single date (`date`), for one-off holidays such as a coronation.
//!
//! A rule may hold only from or until a year, and may be moved in a given year. Countries that
//! move a holiday falling on a weekend say how: to the next weekday that is not already a
//! holiday (United Kingdom, Ireland, Canada) or to the nearest weekday (United States). The
//! substitute day is listed next to the holiday itself, since both are days people are off.
//! domain/data/README.md explains how to update the file.
//!
//! National holidays only: regional ones (German states, Swiss cantons, Scotland) are left out.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::validate::Problems;

/// First year holidays are computed for.
pub const MIN_YEAR: i32 = 1970;
/// Last year holidays are computed for.
pub const MAX_YEAR: i32 = 2200;

/// A country holidays are known for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code (`GB` for the United Kingdom).
    pub code: String,
    /// The country's English name (with the region covered, where it is not the whole country).
    pub name: String,
}

/// A public holiday on a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The day.
    pub date: NaiveDate,
    /// Its English name; a substitute day says so ("Christmas Day (substitute day)").
    pub name: String,
}

/// The countries holidays are known for, sorted by name.
pub fn countries() -> Vec<Country> {
    let mut out: Vec<Country> = table()
        .iter()
        .map(|c| Country {
            code: c.code.clone(),
            name: c.name.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The national public holidays of `country` (an ISO code, any case) in `year`, sorted by date.
/// Substitute and observed days are included next to the holidays they stand in for.
pub fn holidays(country: &str, year: i32) -> Result<Vec<Holiday>> {
    let code = country.trim();
    let rules = table().iter().find(|c| c.code.eq_ignore_ascii_case(code));
    let mut p = Problems::default();
    if rules.is_none() {
        let mut codes: Vec<&str> = table().iter().map(|c| c.code.as_str()).collect();
        codes.sort_unstable();
        p.add(
            "country",
            format!(
                "must be one of the country codes Demarc has holidays for: {}",
                codes.join(", ")
            ),
        );
    }
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        p.add("year", format!("must be between {MIN_YEAR} and {MAX_YEAR}"));
    }
    p.finish()?;
    let Some(rules) = rules else {
        return Err(Error::invalid("country", "is not known"));
    };
    Ok(rules.holidays_in(year))
}

/// Western (Gregorian) Easter Sunday, by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
/// `None` only for years chrono cannot represent.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

// ------------------------------------------------------------------------------------------------
// The data file
// ------------------------------------------------------------------------------------------------

/// The embedded rules; a unit test proves the file parses, so the `expect` cannot fire in a build
/// whose tests passed.
fn table() -> &'static [CountryRules] {
    static TABLE: LazyLock<Vec<CountryRules>> = LazyLock::new(|| {
        let data: DataFile = serde_json::from_str(include_str!("../../data/public-holidays.json"))
            .expect("domain/data/public-holidays.json is valid (see its unit test)");
        data.countries
    });
    &TABLE
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    /// A pointer to the README, for whoever opens the file.
    #[allow(dead_code)]
    about: String,
    countries: Vec<CountryRules>,
}

/// How a country moves a holiday that falls on a Saturday or Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Substitutes {
    /// It is not moved.
    None,
    /// To the next weekday that is not already a holiday (United Kingdom, Ireland, Canada):
    /// Christmas on a Saturday and Boxing Day on a Sunday become Monday 27 and Tuesday 28.
    NextFreeWeekday,
    /// Saturday to the Friday before, Sunday to the Monday after (United States federal).
    NearestWeekday,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryRules {
    code: String,
    name: String,
    substitutes: Substitutes,
    /// What the list covers and leaves out, for the README's readers.
    #[allow(dead_code)]
    #[serde(default)]
    note: Option<String>,
    holidays: Vec<HolidayRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayRule {
    name: String,
    rule: Rule,
    /// First year the rule holds.
    #[serde(default)]
    from: Option<i32>,
    /// Last year the rule holds.
    #[serde(default)]
    until: Option<i32>,
    /// Years in which the holiday was held on another day.
    #[serde(default)]
    moved: Vec<Moved>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Moved {
    year: i32,
    date: NaiveDate,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Rule {
    /// The same day every year, shifted by `if_weekday[weekday]` days when it falls on that day.
    Fixed {
        month: u32,
        day: u32,
        #[serde(default)]
        if_weekday: HashMap<Weekday, i64>,
    },
    /// Days after (or before, when negative) Western Easter Sunday.
    Easter { offset: i64 },
    /// The `n`th `weekday` of `month`: 1 to 4, or -1 for the last.
    NthWeekday { month: u32, weekday: Weekday, n: i8 },
    /// The first `weekday` on or after `month`/`day`.
    WeekdayOnOrAfter {
        month: u32,
        day: u32,
        weekday: Weekday,
    },
    /// `month`/`day` when it falls on one of `weekdays`, else `otherwise`.
    FixedIf {
        month: u32,
        day: u32,
        weekdays: Vec<Weekday>,
        otherwise: Box<Rule>,
    },
    /// One date only.
    Date { date: NaiveDate },
}

impl Rule {
    /// The day the rule gives in `year`, or `None` (a date that does not exist, or a one-off date
    /// in another year).
    fn date_in(&self, year: i32) -> Option<NaiveDate> {
        match self {
            Rule::Fixed {
                month,
                day,
                if_weekday,
            } => {
                let date = NaiveDate::from_ymd_opt(year, *month, *day)?;
                match if_weekday.get(&date.weekday()) {
                    Some(shift) => date.checked_add_signed(Duration::days(*shift)),
                    None => Some(date),
                }
            }
            Rule::Easter { offset } => {
                easter_sunday(year)?.checked_add_signed(Duration::days(*offset))
            }
            Rule::NthWeekday { month, weekday, n } => nth_weekday(year, *month, *weekday, *n),
            Rule::WeekdayOnOrAfter {
                month,
                day,
                weekday,
            } => {
                let start = NaiveDate::from_ymd_opt(year, *month, *day)?;
                let ahead = (7 + weekday.num_days_from_monday()
                    - start.weekday().num_days_from_monday())
                    % 7;
                start.checked_add_signed(Duration::days(i64::from(ahead)))
            }
            Rule::FixedIf {
                month,
                day,
                weekdays,
                otherwise,
            } => {
                let date = NaiveDate::from_ymd_opt(year, *month, *day)?;
                if weekdays.contains(&date.weekday()) {
                    Some(date)
                } else {
                    otherwise.date_in(year)
                }
            }
            Rule::Date { date } => (date.year() == year).then_some(*date),
        }
    }
}

/// The `n`th `weekday` of a month (1 to 5), or the last one for `n = -1`.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: i8) -> Option<NaiveDate> {
    if n == -1 {
        let first_of_next = if month == 12 {
            NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month.checked_add(1)?, 1)?
        };
        let last = first_of_next.pred_opt()?;
        let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
        return last.checked_sub_signed(Duration::days(i64::from(back)));
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, u8::try_from(n).ok()?)
}

impl HolidayRule {
    fn holds_in(&self, year: i32) -> bool {
        self.from.is_none_or(|from| year >= from) && self.until.is_none_or(|until| year <= until)
    }

    fn date_in(&self, year: i32) -> Option<NaiveDate> {
        if !self.holds_in(year) {
            return None;
        }
        match self.moved.iter().find(|m| m.year == year) {
            Some(m) => Some(m.date),
            None => self.rule.date_in(year),
        }
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl CountryRules {
    fn holidays_in(&self, year: i32) -> Vec<Holiday> {
        // The years around too: a substitute can cross the new year (the United States observe
        // New Year's Day on a Saturday on the Friday before, 31 December).
        let mut days: Vec<Holiday> = (year - 1..=year + 1)
            .flat_map(|y| {
                self.holidays.iter().filter_map(move |h| {
                    Some(Holiday {
                        date: h.date_in(y)?,
                        name: h.name.clone(),
                    })
                })
            })
            .collect();
        days.sort_by_key(|h| h.date);
        let substitutes = self.substitutes_for(&days);
        days.extend(substitutes);
        days.retain(|h| h.date.year() == year);
        days.sort_by_key(|h| h.date);
        days.dedup();
        days
    }

    /// The days that stand in for holidays on a weekend; `days` is sorted by date.
    fn substitutes_for(&self, days: &[Holiday]) -> Vec<Holiday> {
        let mut taken: BTreeSet<NaiveDate> = days.iter().map(|h| h.date).collect();
        let mut out = Vec::new();
        for h in days.iter().filter(|h| is_weekend(h.date)) {
            let date = match self.substitutes {
                Substitutes::None => continue,
                Substitutes::NearestWeekday => {
                    let shift = if h.date.weekday() == Weekday::Sat {
                        -1
                    } else {
                        1
                    };
                    h.date.checked_add_signed(Duration::days(shift))
                }
                Substitutes::NextFreeWeekday => {
                    let mut d = h.date.succ_opt();
                    while let Some(day) = d.filter(|d| is_weekend(*d) || taken.contains(d)) {
                        d = day.succ_opt();
                    }
                    d
                }
            };
            let Some(date) = date else { continue };
            taken.insert(date);
            let label = match self.substitutes {
                Substitutes::NearestWeekday => "observed",
                _ => "substitute day",
            };
            out.push(Holiday {
                date,
                name: format!("{} ({label})", h.name),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn on(country: &str, year: i32) -> Vec<(NaiveDate, String)> {
        holidays(country, year)
            .unwrap()
            .into_iter()
            .map(|h| (h.date, h.name))
            .collect()
    }

    fn named(country: &str, year: i32, name: &str) -> Vec<NaiveDate> {
        on(country, year)
            .into_iter()
            .filter(|(_, n)| n == name)
            .map(|(date, _)| date)
            .collect()
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        for (year, month, day) in [
            (1970, 3, 29),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2100, 3, 28),
            (2200, 4, 6),
        ] {
            assert_eq!(easter_sunday(year), Some(d(year, month, day)), "{year}");
        }
    }

    #[test]
    fn the_data_file_parses_and_every_rule_gives_a_date_in_some_year() {
        assert_eq!(table().len(), 10);
        for country in table() {
            assert_eq!(country.code.len(), 2, "{}", country.code);
            assert_eq!(country.code, country.code.to_ascii_uppercase());
            for h in &country.holidays {
                assert!(!h.name.trim().is_empty());
                if let Rule::NthWeekday { n, .. } = &h.rule {
                    assert!((1..=4).contains(n) || *n == -1, "{}: n = {n}", h.name);
                }
                if let (Some(from), Some(until)) = (h.from, h.until) {
                    assert!(from <= until, "{}", h.name);
                }
                for m in &h.moved {
                    assert_eq!(m.date.year(), m.year, "{}", h.name);
                }
                assert!(
                    (MIN_YEAR..=MAX_YEAR).any(|y| h.date_in(y).is_some()),
                    "{} {} never happens",
                    country.code,
                    h.name
                );
            }
            for year in MIN_YEAR..=MAX_YEAR {
                let list = holidays(&country.code, year).unwrap();
                assert!(list.len() >= 4, "{} {year}", country.code);
                assert!(list.windows(2).all(|w| w[0].date <= w[1].date));
                assert!(list.iter().all(|h| h.date.year() == year));
            }
        }
    }

    #[test]
    fn countries_are_sorted_by_name() {
        let names: Vec<String> = countries().into_iter().map(|c| c.code).collect();
        assert_eq!(
            names,
            ["AT", "BE", "CA", "FR", "DE", "IE", "NL", "CH", "GB", "US"]
        );
    }

    #[test]
    fn unknown_countries_and_years_out_of_range_name_the_field() {
        let Err(Error::Invalid { fields }) = holidays("XX", 2026) else {
            panic!("expected invalid")
        };
        assert!(fields["country"].contains("AT, BE, CA, CH, DE, FR, GB, IE, NL, US"));
        for year in [1969, 2201, i32::MIN, i32::MAX] {
            let Err(Error::Invalid { fields }) = holidays("NL", year) else {
                panic!("expected invalid for {year}")
            };
            assert_eq!(fields["year"], "must be between 1970 and 2200");
        }
        let Err(Error::Invalid { fields }) = holidays("", 0) else {
            panic!("expected invalid")
        };
        assert_eq!(fields.len(), 2);
        assert!(holidays(" nl ", 2026).is_ok());
        assert!(holidays("Gb", 2026).is_ok());
        assert!(holidays("NLD", 2026).is_err());
    }

    #[test]
    fn dutch_kings_day_moves_to_saturday_when_it_falls_on_sunday() {
        assert_eq!(named("NL", 2025, "King's Day"), [d(2025, 4, 26)]);
        assert_eq!(named("NL", 2026, "King's Day"), [d(2026, 4, 27)]);
        assert_eq!(named("NL", 2013, "Queen's Day"), [d(2013, 4, 30)]);
        assert_eq!(named("NL", 2006, "Queen's Day"), [d(2006, 4, 29)]);
        assert!(named("NL", 2014, "Queen's Day").is_empty());
        assert_eq!(
            on("NL", 2026),
            [
                (d(2026, 1, 1), "New Year's Day".into()),
                (d(2026, 4, 5), "Easter Sunday".into()),
                (d(2026, 4, 6), "Easter Monday".into()),
                (d(2026, 4, 27), "King's Day".into()),
                (d(2026, 5, 5), "Liberation Day".into()),
                (d(2026, 5, 14), "Ascension Day".into()),
                (d(2026, 5, 24), "Whit Sunday".into()),
                (d(2026, 5, 25), "Whit Monday".into()),
                (d(2026, 12, 25), "Christmas Day".into()),
                (d(2026, 12, 26), "Second Day of Christmas".into()),
            ]
        );
    }

    #[test]
    fn german_and_austrian_holidays() {
        assert_eq!(named("DE", 2026, "Day of German Unity"), [d(2026, 10, 3)]);
        assert_eq!(named("DE", 1985, "Day of German Unity"), [d(1985, 6, 17)]);
        assert_eq!(
            named("DE", 1990, "Day of German Unity"),
            [d(1990, 6, 17), d(1990, 10, 3)]
        );
        assert_eq!(
            named("DE", 2017, "Reformation Day (500th anniversary)"),
            [d(2017, 10, 31)]
        );
        assert!(named("DE", 2018, "Reformation Day (500th anniversary)").is_empty());
        assert_eq!(
            named("DE", 1994, "Day of Repentance and Prayer"),
            [d(1994, 11, 16)]
        );
        assert_eq!(named("DE", 2026, "Good Friday"), [d(2026, 4, 3)]);
        assert_eq!(on("DE", 2026).len(), 9);
        assert_eq!(named("AT", 2026, "Corpus Christi"), [d(2026, 6, 4)]);
        assert_eq!(on("AT", 2026).len(), 13);
        assert_eq!(on("CH", 2026).len(), 5);
        assert_eq!(named("CH", 2026, "Whit Monday"), [d(2026, 5, 25)]);
        assert_eq!(on("BE", 2026).len(), 10);
        assert_eq!(named("FR", 2026, "Bastille Day"), [d(2026, 7, 14)]);
        assert!(named("FR", 1978, "Victory in Europe Day").is_empty());
    }

    #[test]
    fn british_christmas_on_a_weekend_gets_two_substitute_days() {
        let christmas: Vec<_> = on("GB", 2027)
            .into_iter()
            .filter(|(date, _)| date.month() == 12)
            .collect();
        assert_eq!(
            christmas,
            [
                (d(2027, 12, 25), "Christmas Day".into()),
                (d(2027, 12, 26), "Boxing Day".into()),
                (d(2027, 12, 27), "Christmas Day (substitute day)".into()),
                (d(2027, 12, 28), "Boxing Day (substitute day)".into()),
            ]
        );
        // Christmas on a Sunday: Boxing Day keeps Monday, Christmas moves to Tuesday.
        assert_eq!(
            named("GB", 2022, "Christmas Day (substitute day)"),
            [d(2022, 12, 27)]
        );
        assert!(named("GB", 2022, "Boxing Day (substitute day)").is_empty());
        assert_eq!(
            named("GB", 2022, "New Year's Day (substitute day)"),
            [d(2022, 1, 3)]
        );
        assert_eq!(named("GB", 2026, "Spring bank holiday"), [d(2026, 5, 25)]);
        assert_eq!(named("GB", 2026, "Summer bank holiday"), [d(2026, 8, 31)]);
        assert_eq!(on("GB", 2026).len(), 9);
        assert_eq!(named("GB", 2020, "Early May bank holiday"), [d(2020, 5, 8)]);
        assert_eq!(named("GB", 2022, "Spring bank holiday"), [d(2022, 6, 2)]);
        assert_eq!(on("GB", 2022).len(), 12);
    }

    #[test]
    fn us_federal_holidays_are_observed_on_the_nearest_weekday() {
        let us = on("US", 2026);
        assert!(us.contains(&(d(2026, 7, 3), "Independence Day (observed)".into())));
        assert!(us.contains(&(d(2026, 7, 4), "Independence Day".into())));
        assert_eq!(named("US", 2026, "Thanksgiving Day"), [d(2026, 11, 26)]);
        assert_eq!(named("US", 2026, "Memorial Day"), [d(2026, 5, 25)]);
        assert_eq!(
            named("US", 2026, "Birthday of Martin Luther King, Jr."),
            [d(2026, 1, 19)]
        );
        assert_eq!(us.len(), 12);
        // New Year's Day 2022 was a Saturday: observed on Friday 31 December 2021.
        assert_eq!(
            named("US", 2021, "New Year's Day (observed)"),
            [d(2021, 12, 31)]
        );
        assert!(named("US", 2022, "New Year's Day (observed)").is_empty());
        assert_eq!(
            named(
                "US",
                2021,
                "Juneteenth National Independence Day (observed)"
            ),
            [d(2021, 6, 18)]
        );
        assert!(named("US", 2020, "Juneteenth National Independence Day").is_empty());
        assert_eq!(
            named("US", 2027, "Christmas Day (observed)"),
            [d(2027, 12, 24)]
        );
    }

    #[test]
    fn irish_st_brigids_day_is_the_first_monday_of_february_unless_the_first_is_a_friday() {
        assert_eq!(named("IE", 2023, "St Brigid's Day"), [d(2023, 2, 6)]);
        assert_eq!(named("IE", 2024, "St Brigid's Day"), [d(2024, 2, 5)]);
        assert_eq!(named("IE", 2026, "St Brigid's Day"), [d(2026, 2, 2)]);
        // 1 February 2030 is a Friday.
        assert_eq!(named("IE", 2030, "St Brigid's Day"), [d(2030, 2, 1)]);
        assert!(named("IE", 2022, "St Brigid's Day").is_empty());
        assert_eq!(
            named("IE", 2024, "St Patrick's Day (substitute day)"),
            [d(2024, 3, 18)]
        );
        assert_eq!(named("IE", 2026, "October Bank Holiday"), [d(2026, 10, 26)]);
    }

    #[test]
    fn canadian_holidays() {
        assert_eq!(named("CA", 2026, "Victoria Day"), [d(2026, 5, 18)]);
        assert_eq!(named("CA", 2027, "Victoria Day"), [d(2027, 5, 24)]);
        assert_eq!(named("CA", 2026, "Thanksgiving"), [d(2026, 10, 12)]);
        assert_eq!(
            named("CA", 2029, "Canada Day (substitute day)"),
            [d(2029, 7, 2)]
        );
        assert_eq!(on("CA", 2026).len(), 11);
    }

    #[test]
    fn nth_weekday_edges() {
        assert_eq!(
            nth_weekday(2026, 12, Weekday::Thu, -1),
            Some(d(2026, 12, 31))
        );
        assert_eq!(nth_weekday(2026, 2, Weekday::Sat, -1), Some(d(2026, 2, 28)));
        assert_eq!(nth_weekday(2026, 2, Weekday::Mon, 5), None);
        assert_eq!(nth_weekday(2026, 13, Weekday::Mon, 1), None);
        assert_eq!(nth_weekday(2026, 13, Weekday::Mon, -1), None);
        assert_eq!(nth_weekday(2026, 1, Weekday::Mon, 0), None);
    }
}
