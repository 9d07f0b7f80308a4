//! Recurrences, their RRULE form, expansion into occurrences and blackouts.
//!
//! The recurrence is stored as the value of an RFC 5545 `RRULE` property (without the `RRULE:`
//! name), in one canonical spelling per recurrence:
//!
//! | Recurrence                | RRULE                        |
//! |---------------------------|------------------------------|
//! | every day                 | `FREQ=DAILY`                 |
//! | Mondays and Thursdays     | `FREQ=WEEKLY;BYDAY=MO,TH`    |
//! | the 15th of every month   | `FREQ=MONTHLY;BYMONTHDAY=15` |
//! | second Tuesday            | `FREQ=MONTHLY;BYDAY=2TU`     |
//! | last Monday               | `FREQ=MONTHLY;BYDAY=-1MO`    |
//!
//! Day 29, 30 or 31 of the month is skipped in the months that do not have it (RFC 5545 ignores
//! invalid dates rather than moving them), so "day 31" gives seven windows a year. Use "last
//! Monday" or an earlier day when every month needs a window.
//!
//! The calendar days come from the `rrule` crate evaluated on the plan's local wall clock; each
//! day is then turned into an instant in the plan's zone by [`super::resolve_local`], which applies
//! the daylight-saving rules described in the module above.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc, Weekday};
use rrule::{Frequency, NWeekday, RRule, Unvalidated};
use serde::{Deserialize, Serialize};

use super::{Blackout, BlackoutPolicy, Occurrence, Plan, Timing};
use crate::error::{Error, Result};
use crate::validate::Problems;

/// Which week of the month a relative monthly recurrence means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordinal {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl Ordinal {
    /// The number RFC 5545 writes before the weekday (`2TU`, `-1MO`).
    pub fn number(self) -> i16 {
        match self {
            Ordinal::First => 1,
            Ordinal::Second => 2,
            Ordinal::Third => 3,
            Ordinal::Fourth => 4,
            Ordinal::Last => -1,
        }
    }

    fn from_number(n: i64) -> Option<Self> {
        Some(match n {
            1 => Ordinal::First,
            2 => Ordinal::Second,
            3 => Ordinal::Third,
            4 => Ordinal::Fourth,
            -1 => Ordinal::Last,
            _ => return None,
        })
    }
}

/// Which days a plan has a window on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// deny_unknown_fields: serde reads a tagged enum from a buffer, where the API's unknown-field
// check cannot see a misspelt `weekday`; refused here instead, naming `recurrence`.
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Recurrence {
    /// Every day. (Braces, not a unit variant, so that serde refuses fields it does not take.)
    Daily {},
    /// Every week on these days.
    Weekly { weekdays: Vec<Weekday> },
    /// Every month on this day (1-31; skipped in months without it).
    MonthlyDay { day: u8 },
    /// Every month on, for example, the second Tuesday or the last Monday.
    MonthlyWeekday { ordinal: Ordinal, weekday: Weekday },
}

impl Recurrence {
    /// Records what is wrong with the recurrence (fields `weekdays`, `month_day`).
    pub fn check(&self, p: &mut Problems) {
        match self {
            Recurrence::Weekly { weekdays } if weekdays.is_empty() => {
                p.add("weekdays", "pick at least one day of the week");
            }
            Recurrence::MonthlyDay { day } if !(1..=31).contains(day) => {
                p.add("month_day", "must be a day of the month from 1 to 31");
            }
            _ => {}
        }
    }

    /// The same recurrence with weekdays sorted Monday first and without repeats.
    pub fn canonical(&self) -> Recurrence {
        match self {
            Recurrence::Weekly { weekdays } => {
                let set: BTreeSet<u32> =
                    weekdays.iter().map(|d| d.num_days_from_monday()).collect();
                Recurrence::Weekly {
                    weekdays: set.into_iter().filter_map(weekday_from_monday).collect(),
                }
            }
            other => other.clone(),
        }
    }

    /// The RFC 5545 RRULE value (see the module table).
    pub fn to_rrule(&self) -> String {
        to_rrule(self)
    }

    /// The `rrule` crate's rule, or `None` when the recurrence is not valid.
    fn rule(&self) -> Option<RRule<Unvalidated>> {
        let mut p = Problems::default();
        self.check(&mut p);
        if !p.is_empty() {
            return None;
        }
        Some(match self.canonical() {
            Recurrence::Daily {} => RRule::new(Frequency::Daily),
            Recurrence::Weekly { weekdays } => RRule::new(Frequency::Weekly)
                .by_weekday(weekdays.into_iter().map(NWeekday::Every).collect()),
            Recurrence::MonthlyDay { day } => {
                RRule::new(Frequency::Monthly).by_month_day(vec![i8::try_from(day).ok()?])
            }
            Recurrence::MonthlyWeekday { ordinal, weekday } => RRule::new(Frequency::Monthly)
                .by_weekday(vec![NWeekday::Nth(ordinal.number(), weekday)]),
        })
    }
}

fn weekday_from_monday(n: u32) -> Option<Weekday> {
    u8::try_from(n).ok().and_then(|n| Weekday::try_from(n).ok())
}

fn day_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// The canonical RFC 5545 RRULE value of a recurrence (without the `RRULE:` name).
pub fn to_rrule(recurrence: &Recurrence) -> String {
    match recurrence.canonical() {
        Recurrence::Daily {} => "FREQ=DAILY".to_owned(),
        Recurrence::Weekly { weekdays } => {
            let days: Vec<&str> = weekdays.into_iter().map(day_code).collect();
            format!("FREQ=WEEKLY;BYDAY={}", days.join(","))
        }
        Recurrence::MonthlyDay { day } => format!("FREQ=MONTHLY;BYMONTHDAY={day}"),
        Recurrence::MonthlyWeekday { ordinal, weekday } => {
            format!(
                "FREQ=MONTHLY;BYDAY={}{}",
                ordinal.number(),
                day_code(weekday)
            )
        }
    }
}

/// Reads an RRULE (with or without the `RRULE:` name) back into a recurrence. Besides the
/// canonical spelling it accepts the `BYDAY=TU;BYSETPOS=2` form of a relative monthly rule.
/// Rules a maintenance plan cannot express (yearly, intervals, counts, end dates, hours...) are
/// rejected with a message on the `recurrence` field.
pub fn from_rrule(value: &str) -> Result<Recurrence> {
    let bad = |message: &str| Error::invalid("recurrence", message);
    let value = value.trim();
    if value.is_empty() {
        return Err(bad("is required"));
    }
    if value.len() > 200 || !value.is_ascii() || value.contains(['\n', '\r']) {
        return Err(bad("is not a recurrence rule Demarc understands"));
    }
    let rule: RRule<Unvalidated> = value
        .parse()
        .map_err(|_| bad("is not a valid RFC 5545 recurrence rule"))?;
    if rule.get_interval() > 1 {
        return Err(bad(
            "must repeat every day, week or month (an interval is not supported)",
        ));
    }
    if rule.get_count().is_some() || rule.get_until().is_some() {
        return Err(bad(
            "must not end by itself (COUNT and UNTIL are not supported)",
        ));
    }
    if !rule.get_by_hour().is_empty()
        || !rule.get_by_minute().is_empty()
        || !rule.get_by_second().is_empty()
        || !rule.get_by_month().is_empty()
        || !rule.get_by_year_day().is_empty()
        || !rule.get_by_week_no().is_empty()
    {
        return Err(bad(
            "may only use FREQ, BYDAY, BYMONTHDAY and BYSETPOS (the start time is a separate field)",
        ));
    }
    let weekdays = rule.get_by_weekday();
    let month_days = rule.get_by_month_day();
    let set_pos = rule.get_by_set_pos();
    let unsupported = || bad("is not a daily, weekly or monthly rule Demarc supports");
    let recurrence = match rule.get_freq() {
        Frequency::Daily if weekdays.is_empty() && month_days.is_empty() && set_pos.is_empty() => {
            Recurrence::Daily {}
        }
        Frequency::Weekly if month_days.is_empty() && set_pos.is_empty() => {
            let mut days = Vec::new();
            for w in weekdays {
                match w {
                    NWeekday::Every(d) => days.push(*d),
                    NWeekday::Nth(..) => return Err(unsupported()),
                }
            }
            if days.is_empty() {
                return Err(bad("a weekly rule must name its days (BYDAY)"));
            }
            Recurrence::Weekly { weekdays: days }
        }
        Frequency::Monthly => match (weekdays, month_days, set_pos) {
            ([], [day], []) => Recurrence::MonthlyDay {
                day: u8::try_from(*day)
                    .ok()
                    .filter(|d| (1..=31).contains(d))
                    .ok_or_else(|| bad("the day of the month must be from 1 to 31"))?,
            },
            ([NWeekday::Nth(n, weekday)], [], []) => Recurrence::MonthlyWeekday {
                ordinal: Ordinal::from_number(i64::from(*n)).ok_or_else(|| {
                    bad("the week of the month must be the first to fourth or the last")
                })?,
                weekday: *weekday,
            },
            ([NWeekday::Every(weekday)], [], [n]) => Recurrence::MonthlyWeekday {
                ordinal: Ordinal::from_number(i64::from(*n)).ok_or_else(|| {
                    bad("the week of the month must be the first to fourth or the last")
                })?,
                weekday: *weekday,
            },
            _ => return Err(unsupported()),
        },
        _ => return Err(unsupported()),
    };
    Ok(recurrence.canonical())
}

/// The plan's occurrences that start in `[from, to)`, in order, before any blackout.
///
/// An invalid recurrence (only possible when a [`Plan`] was built by hand, not through
/// validation) or an empty range gives no occurrences. A range longer than
/// [`super::MAX_EXPAND_DAYS`] is cut short there, so a careless caller cannot ask for millions.
pub fn expand(plan: &Plan, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
    expand_timing(&plan.recurrence, &plan.timing, from, to)
}

pub(crate) fn expand_timing(
    recurrence: &Recurrence,
    timing: &Timing,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    let to = from
        .checked_add_signed(Duration::days(super::MAX_EXPAND_DAYS))
        .map_or(to, |limit| to.min(limit));
    let Some(rule) = recurrence.rule() else {
        return out;
    };
    let zone = timing.time_zone;
    // A day earlier: a start pushed forward by a DST gap can cross midnight.
    let Some(first_day) = local_day(from, zone).and_then(|d| d.pred_opt()) else {
        return out;
    };
    let last_day = local_day(to, zone).unwrap_or(NaiveDate::MAX);
    // The rule runs on the local wall clock ("floating" time): UTC has no DST, so every day the
    // rule produces is a local calendar day, and resolve_local applies the zone's rules.
    let dt_start = rrule::Tz::UTC.from_utc_datetime(&first_day.and_time(timing.start_time));
    let Ok(set) = rule.build(dt_start) else {
        return out;
    };
    for local in &set {
        let day = local.naive_utc().date();
        if day > last_day {
            break;
        }
        let occurrence = timing.occurrence_on(day);
        if occurrence.start_utc >= from && occurrence.start_utc < to {
            out.push(occurrence);
        }
    }
    out
}

/// The local day of `t` in `zone`; None at the edges of time, where the local clock would fall
/// outside the dates chrono can hold (`with_timezone` panics there).
fn local_day(t: DateTime<Utc>, zone: chrono_tz::Tz) -> Option<NaiveDate> {
    let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc().checked_add_offset(offset).map(|l| l.date())
}

/// An occurrence a blackout removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The day the recurrence gave.
    pub nominal_date: NaiveDate,
    /// The blackout's reason.
    pub reason: String,
    /// With the move policy: the day it would have moved to, which already had a window.
    pub merged_into: Option<NaiveDate>,
}

/// Occurrences after blackouts, and what the blackouts removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The windows that take place, in order.
    pub occurrences: Vec<Occurrence>,
    /// The windows that do not, in order.
    pub skipped: Vec<Skipped>,
}

/// How far a moved occurrence may travel before it is given up.
const MAX_MOVE_DAYS: i64 = super::MAX_BLACKOUT_DAYS + 31;

/// How long before `from` a window may start and still be moved into `[from, to)` by
/// `blackouts`. A window moves past every later day whose window touches a blackout; a blackout
/// of `n` days blocks at most `n + 2` such days (the window that starts the day before it and
/// ends in it, and on a spring-forward night the one two days before), so the blackouts near the
/// period, plus two days each and one for the difference between UTC and the local day, bound
/// the move. Zero with the skip policy: nothing moves.
pub(crate) fn move_margin(
    policy: BlackoutPolicy,
    blackouts: &[Blackout],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Duration {
    if policy == BlackoutPolicy::Skip || blackouts.is_empty() {
        return Duration::zero();
    }
    let reach = Duration::days(MAX_MOVE_DAYS + 3);
    let earliest = from
        .checked_sub_signed(reach)
        .map_or(NaiveDate::MIN, |t| t.date_naive());
    let latest = from
        .checked_add_signed(reach)
        .map_or(NaiveDate::MAX, |t| t.date_naive())
        .min(to.date_naive().succ_opt().unwrap_or(NaiveDate::MAX));
    let days: i64 = blackouts
        .iter()
        .filter(|b| b.last_day >= earliest && b.first_day <= latest)
        .map(|b| (b.last_day - b.first_day).num_days().max(0) + 3)
        .fold(1, i64::saturating_add);
    Duration::days(days.min(MAX_MOVE_DAYS + 3))
}

/// Keeps the windows that start in `[from, to)` where blackouts put them, and the skipped ones
/// whose own day's window would have started there.
pub(crate) fn within(
    timing: &Timing,
    mut schedule: Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Schedule {
    let inside = |t: DateTime<Utc>| t >= from && t < to;
    schedule.occurrences.retain(|o| inside(o.start_utc));
    schedule
        .skipped
        .retain(|k| inside(timing.occurrence_on(k.nominal_date).start_utc));
    schedule
}

/// The plan's windows that start in `[from, to)` after `blackouts`, and the windows the blackouts
/// removed from that period.
///
/// With [`BlackoutPolicy::MoveToNextAllowedDay`] a window whose own day lies before `from` can be
/// moved into the period, so the recurrence is expanded from far enough back (the blacked-out
/// days that could push a window, see `move_margin`) and each window is kept by where it ends
/// up, not by the day the recurrence gave it.
pub fn schedule_between(
    plan: &Plan,
    blackouts: &[Blackout],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Schedule {
    let margin = move_margin(plan.blackout_policy, blackouts, from, to);
    let expand_from = from.checked_sub_signed(margin).unwrap_or(from);
    let nominal = expand(plan, expand_from, to);
    let schedule = apply_blackouts(&plan.timing, plan.blackout_policy, nominal, blackouts);
    within(&plan.timing, schedule, from, to)
}

/// Applies blackouts to occurrences of a window with `timing`. An occurrence is blacked out when
/// any part of it falls on a blacked-out local day (an overnight window that ends in a blackout
/// counts). With [`BlackoutPolicy::MoveToNextAllowedDay`] it moves to the first later day whose
/// window touches no blackout, at the same local time; when that day already has a window the
/// two are merged (the moved one is listed as skipped with `merged_into`).
pub fn apply_blackouts(
    timing: &Timing,
    policy: BlackoutPolicy,
    occurrences: Vec<Occurrence>,
    blackouts: &[Blackout],
) -> Schedule {
    // Each blackout's instants, worked out once rather than per occurrence.
    let ranges: Vec<(DateTime<Utc>, DateTime<Utc>, &Blackout)> = blackouts
        .iter()
        .map(|b| {
            let (from, until) = b.utc_range(timing.time_zone);
            (from, until, b)
        })
        .collect();
    let blocking = |o: &Occurrence| {
        ranges
            .iter()
            .find(|(from, until, _)| o.start_utc < *until && *from < o.end_utc)
            .map(|(_, _, b)| *b)
    };
    let mut kept = Vec::new();
    let mut moved = Vec::new();
    let mut skipped = Vec::new();
    for o in occurrences {
        let Some(blackout) = blocking(&o) else {
            kept.push(o);
            continue;
        };
        let reason = blackout.reason.clone();
        if policy == BlackoutPolicy::Skip {
            skipped.push(Skipped {
                nominal_date: o.nominal_date,
                reason,
                merged_into: None,
            });
            continue;
        }
        let target = (1..=MAX_MOVE_DAYS)
            .filter_map(|k| o.local_date.checked_add_signed(Duration::days(k)))
            .map(|day| timing.occurrence_on(day))
            .find(|c| blocking(c).is_none());
        match target {
            Some(mut c) => {
                c.nominal_date = o.nominal_date;
                c.series_date = o.series_date;
                c.follows = o.follows;
                c.moved_by = Some(reason);
                moved.push(c);
            }
            None => skipped.push(Skipped {
                nominal_date: o.nominal_date,
                reason,
                merged_into: None,
            }),
        }
    }
    let mut taken: BTreeSet<NaiveDate> = kept.iter().map(|o| o.local_date).collect();
    for m in moved {
        if taken.insert(m.local_date) {
            kept.push(m);
        } else {
            skipped.push(Skipped {
                nominal_date: m.nominal_date,
                reason: m.moved_by.unwrap_or_default(),
                merged_into: Some(m.local_date),
            });
        }
    }
    kept.sort_by_key(|o| (o.start_utc, o.nominal_date));
    skipped.sort_by_key(|s| s.nominal_date);
    Schedule {
        occurrences: kept,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{PlanInput, human_date};
    use chrono::{Datelike, Timelike};
    use chrono_tz::Tz;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
    }

    fn plan(recurrence: Recurrence, start: &str, zone: &str, hours: i64) -> Plan {
        PlanInput {
            recurrence,
            start_time: start.into(),
            time_zone: zone.into(),
            duration_hours: hours,
            blackout_policy: BlackoutPolicy::Skip,
        }
        .validate()
        .unwrap()
    }

    fn year(p: &Plan, y: i32) -> Vec<Occurrence> {
        expand(p, utc(y, 1, 1, 0, 0), utc(y + 1, 1, 1, 0, 0))
    }

    fn on(occ: &[Occurrence], date: NaiveDate) -> &Occurrence {
        occ.iter().find(|o| o.local_date == date).unwrap()
    }

    fn local(o: &Occurrence, zone: Tz) -> (NaiveDate, u32, u32) {
        let t = o.start_utc.with_timezone(&zone);
        (t.date_naive(), t.hour(), t.minute())
    }

    #[test]
    fn rrule_round_trip() {
        let all = [
            Recurrence::Daily {},
            Recurrence::Weekly {
                weekdays: vec![Weekday::Mon, Weekday::Thu],
            },
            Recurrence::MonthlyDay { day: 31 },
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: Weekday::Tue,
            },
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Last,
                weekday: Weekday::Mon,
            },
        ];
        let texts = [
            "FREQ=DAILY",
            "FREQ=WEEKLY;BYDAY=MO,TH",
            "FREQ=MONTHLY;BYMONTHDAY=31",
            "FREQ=MONTHLY;BYDAY=2TU",
            "FREQ=MONTHLY;BYDAY=-1MO",
        ];
        for (r, text) in all.iter().zip(texts) {
            assert_eq!(r.to_rrule(), text);
            assert_eq!(&from_rrule(text).unwrap(), r);
            assert_eq!(&from_rrule(&format!("RRULE:{text}")).unwrap(), r);
        }
        let messy = Recurrence::Weekly {
            weekdays: vec![Weekday::Fri, Weekday::Mon, Weekday::Fri],
        };
        assert_eq!(messy.to_rrule(), "FREQ=WEEKLY;BYDAY=MO,FR");
        assert_eq!(
            from_rrule("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2").unwrap(),
            all[3]
        );
    }

    #[test]
    fn unsupported_or_broken_rules_are_rejected_without_panicking() {
        for bad in [
            "",
            "garbage",
            "FREQ=YEARLY",
            "FREQ=DAILY;INTERVAL=2",
            "FREQ=DAILY;COUNT=3",
            "FREQ=DAILY;BYHOUR=3",
            "FREQ=WEEKLY",
            "FREQ=MONTHLY",
            "FREQ=MONTHLY;BYDAY=5TU",
            "FREQ=MONTHLY;BYDAY=2TU,3TU",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "FREQ=WEEKLY;BYDAY=1MO",
            "RRULE;:",
            "RRULE;X=:FREQ=DAILY",
            "DTSTART:20260101T000000Z",
            "FREQ=DAILY\nFREQ=DAILY",
            "FREQ=DÄILY",
            ";;;;==",
            "FREQ=MONTHLY;BYDAY=-99999999999MO",
        ] {
            match from_rrule(bad) {
                Err(Error::Invalid { fields }) => assert!(fields.contains_key("recurrence")),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn amsterdam_spring_forward_keeps_local_hour_and_moves_out_of_the_gap() {
        let zone = chrono_tz::Europe::Amsterdam;
        let evening = plan(Recurrence::Daily {}, "22:00", "Europe/Amsterdam", 4);
        let occ = expand(&evening, utc(2026, 3, 27, 0, 0), utc(2026, 4, 1, 0, 0));
        assert_eq!(on(&occ, d(2026, 3, 28)).start_utc, utc(2026, 3, 28, 21, 0));
        assert_eq!(on(&occ, d(2026, 3, 29)).start_utc, utc(2026, 3, 29, 20, 0));
        assert!(occ.iter().all(|o| local(o, zone).1 == 22));

        // 02:30 does not exist on 29 March 2026: the window starts at 03:00 CEST.
        let gap = plan(Recurrence::Daily {}, "02:30", "Europe/Amsterdam", 4);
        let occ = expand(&gap, utc(2026, 3, 27, 0, 0), utc(2026, 4, 1, 0, 0));
        assert_eq!(on(&occ, d(2026, 3, 28)).start_utc, utc(2026, 3, 28, 1, 30));
        let jumped = on(&occ, d(2026, 3, 29));
        assert_eq!(jumped.start_utc, utc(2026, 3, 29, 1, 0));
        assert_eq!(local(jumped, zone), (d(2026, 3, 29), 3, 0));
        assert_eq!(jumped.end_utc - jumped.start_utc, Duration::hours(4));
        assert_eq!(on(&occ, d(2026, 3, 30)).start_utc, utc(2026, 3, 30, 0, 30));
    }

    #[test]
    fn amsterdam_fall_back_takes_the_earlier_instant() {
        let zone = chrono_tz::Europe::Amsterdam;
        let p = plan(Recurrence::Daily {}, "02:30", "Europe/Amsterdam", 4);
        let occ = expand(&p, utc(2026, 10, 24, 0, 0), utc(2026, 10, 27, 0, 0));
        assert_eq!(
            on(&occ, d(2026, 10, 24)).start_utc,
            utc(2026, 10, 24, 0, 30)
        );
        // 02:30 happens twice on 25 October 2026: first in CEST (00:30 UTC), then in CET.
        assert_eq!(
            on(&occ, d(2026, 10, 25)).start_utc,
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            on(&occ, d(2026, 10, 26)).start_utc,
            utc(2026, 10, 26, 1, 30)
        );
        assert!(occ.iter().all(|o| local(o, zone).1 == 2));
        assert_eq!(occ.len(), 3);
    }

    #[test]
    fn new_york_second_tuesday_and_both_transitions() {
        let zone = chrono_tz::America::New_York;
        let p = plan(
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: Weekday::Tue,
            },
            "22:00",
            "America/New_York",
            6,
        );
        let occ = year(&p, 2026);
        assert_eq!(occ.len(), 12);
        assert_eq!(on(&occ, d(2026, 2, 10)).start_utc, utc(2026, 2, 11, 3, 0)); // EST
        assert_eq!(on(&occ, d(2026, 3, 10)).start_utc, utc(2026, 3, 11, 2, 0)); // EDT
        assert_eq!(on(&occ, d(2026, 11, 10)).start_utc, utc(2026, 11, 11, 3, 0)); // EST
        for o in &occ {
            let (date, h, m) = local(o, zone);
            assert_eq!((h, m), (22, 0));
            assert_eq!(date.weekday(), Weekday::Tue);
            assert!((8..=14).contains(&date.day()), "{date}");
        }
        // DST starts 8 March 2026 (02:00 -> 03:00) and ends 1 November 2026 (01:00-02:00 twice).
        let daily = plan(Recurrence::Daily {}, "02:00", "America/New_York", 4);
        let occ = expand(&daily, utc(2026, 3, 7, 0, 0), utc(2026, 3, 10, 0, 0));
        assert_eq!(on(&occ, d(2026, 3, 8)).start_utc, utc(2026, 3, 8, 7, 0));
        let daily = plan(Recurrence::Daily {}, "01:30", "America/New_York", 4);
        let occ = expand(&daily, utc(2026, 10, 31, 0, 0), utc(2026, 11, 3, 0, 0));
        assert_eq!(on(&occ, d(2026, 11, 1)).start_utc, utc(2026, 11, 1, 5, 30));
        assert_eq!(on(&occ, d(2026, 11, 2)).start_utc, utc(2026, 11, 2, 6, 30));
    }

    #[test]
    fn last_monday_of_every_month() {
        let p = plan(
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Last,
                weekday: Weekday::Mon,
            },
            "20:00",
            "Europe/Amsterdam",
            4,
        );
        let occ = year(&p, 2026);
        let days: Vec<_> = occ.iter().map(|o| o.local_date).collect();
        assert_eq!(days.len(), 12);
        assert_eq!(
            &days[..4],
            [
                d(2026, 1, 26),
                d(2026, 2, 23),
                d(2026, 3, 30),
                d(2026, 4, 27)
            ]
        );
        for day in days {
            assert_eq!(day.weekday(), Weekday::Mon);
            assert_ne!((day + Duration::days(7)).month(), day.month(), "{day}");
        }
    }

    #[test]
    fn day_31_is_skipped_in_short_months() {
        let p = plan(
            Recurrence::MonthlyDay { day: 31 },
            "21:00",
            "Europe/Amsterdam",
            4,
        );
        let months: Vec<u32> = year(&p, 2026)
            .iter()
            .map(|o| o.local_date.month())
            .collect();
        assert_eq!(months, [1, 3, 5, 7, 8, 10, 12]);
        let p29 = plan(
            Recurrence::MonthlyDay { day: 29 },
            "21:00",
            "Europe/Amsterdam",
            4,
        );
        assert_eq!(year(&p29, 2026).len(), 11); // no 29 February in 2026
        assert_eq!(year(&p29, 2028).len(), 12); // leap year
    }

    #[test]
    fn weekly_on_chosen_days() {
        let p = plan(
            Recurrence::Weekly {
                weekdays: vec![Weekday::Thu, Weekday::Mon],
            },
            "06:00",
            "Europe/Amsterdam",
            4,
        );
        let occ = expand(&p, utc(2026, 1, 1, 0, 0), utc(2026, 1, 15, 0, 0));
        let days: Vec<_> = occ.iter().map(|o| o.local_date).collect();
        assert_eq!(
            days,
            [d(2026, 1, 1), d(2026, 1, 5), d(2026, 1, 8), d(2026, 1, 12)]
        );
    }

    #[test]
    fn overnight_windows_end_the_next_day() {
        let zone = chrono_tz::Europe::Amsterdam;
        let p = plan(Recurrence::Daily {}, "22:00", "Europe/Amsterdam", 8);
        let occ = expand(&p, utc(2026, 1, 5, 0, 0), utc(2026, 1, 6, 0, 0));
        assert_eq!(occ.len(), 1);
        let end = occ[0].end_utc.with_timezone(&zone);
        assert_eq!((end.date_naive(), end.hour()), (d(2026, 1, 6), 6));
        // On a DST night the window keeps its length: 8 real hours.
        let occ = expand(&p, utc(2026, 3, 28, 0, 0), utc(2026, 3, 29, 0, 0));
        let end = occ[0].end_utc.with_timezone(&zone);
        assert_eq!((end.date_naive(), end.hour()), (d(2026, 3, 29), 7));
        let full_day = plan(Recurrence::Daily {}, "00:00", "Europe/Amsterdam", 24);
        let occ = expand(&full_day, utc(2026, 1, 5, 12, 0), utc(2026, 1, 6, 12, 0));
        assert_eq!(
            occ[0].end_utc.with_timezone(&zone).date_naive(),
            d(2026, 1, 7)
        );
    }

    #[test]
    fn range_edges_and_hand_built_bad_plans() {
        let p = plan(Recurrence::Daily {}, "22:00", "UTC", 4);
        // Start inclusive, end exclusive.
        let occ = expand(&p, utc(2026, 1, 1, 22, 0), utc(2026, 1, 2, 22, 0));
        assert_eq!(occ.len(), 1);
        assert!(expand(&p, utc(2026, 1, 2, 0, 0), utc(2026, 1, 1, 0, 0)).is_empty());
        let mut broken = p.clone();
        broken.recurrence = Recurrence::MonthlyDay { day: 40 };
        assert!(year(&broken, 2026).is_empty());
        broken.recurrence = Recurrence::Weekly { weekdays: vec![] };
        assert!(year(&broken, 2026).is_empty());
        // Extreme ranges do not panic.
        let _ = expand(
            &p,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MIN_UTC + Duration::days(3),
        );
        let _ = expand(
            &p,
            DateTime::<Utc>::MAX_UTC - Duration::days(3),
            DateTime::<Utc>::MAX_UTC,
        );
        let huge = expand(&p, utc(2026, 1, 1, 0, 0), DateTime::<Utc>::MAX_UTC);
        assert_eq!(huge.len(), crate::calendar::MAX_EXPAND_DAYS as usize);
        // Five years of daily windows.
        let five = expand(&p, utc(2026, 1, 1, 0, 0), utc(2031, 1, 1, 0, 0));
        assert_eq!(five.len(), 1826);
    }

    fn blackout(first: NaiveDate, last: NaiveDate, reason: &str) -> Blackout {
        Blackout {
            first_day: first,
            last_day: last,
            reason: reason.into(),
        }
    }

    #[test]
    fn blackouts_skip_or_move() {
        let p = plan(
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: Weekday::Tue,
            },
            "20:00",
            "Europe/Amsterdam",
            4,
        );
        let occ = expand(&p, utc(2026, 11, 1, 0, 0), utc(2027, 1, 1, 0, 0));
        assert_eq!(occ.len(), 2); // 10 November, 8 December
        let freeze = [blackout(d(2026, 12, 7), d(2026, 12, 9), "Year-end freeze")];

        let s = apply_blackouts(&p.timing, BlackoutPolicy::Skip, occ.clone(), &freeze);
        assert_eq!(s.occurrences.len(), 1);
        assert_eq!(
            s.skipped,
            [Skipped {
                nominal_date: d(2026, 12, 8),
                reason: "Year-end freeze".into(),
                merged_into: None,
            }]
        );

        let s = apply_blackouts(
            &p.timing,
            BlackoutPolicy::MoveToNextAllowedDay,
            occ,
            &freeze,
        );
        assert!(s.skipped.is_empty());
        let moved = &s.occurrences[1];
        assert_eq!(moved.local_date, d(2026, 12, 10));
        assert_eq!(moved.nominal_date, d(2026, 12, 8));
        assert_eq!(moved.moved_by.as_deref(), Some("Year-end freeze"));
        assert_eq!(moved.start_utc, utc(2026, 12, 10, 19, 0));
    }

    fn second_tuesday_moved() -> Plan {
        let mut p = plan(
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: Weekday::Tue,
            },
            "20:00",
            "Europe/Amsterdam",
            4,
        );
        p.blackout_policy = BlackoutPolicy::MoveToNextAllowedDay;
        p
    }

    #[test]
    fn a_moved_window_is_found_by_a_range_that_starts_after_its_own_day() {
        let p = second_tuesday_moved();
        let freeze = [blackout(d(2026, 12, 7), d(2026, 12, 11), "Year-end freeze")];
        // Tue 8 December moves past the freeze to Sat 12 December.
        let from_12th =
            schedule_between(&p, &freeze, utc(2026, 12, 12, 0, 0), utc(2027, 1, 1, 0, 0));
        let days: Vec<_> = from_12th.occurrences.iter().map(|o| o.local_date).collect();
        assert_eq!(days, [d(2026, 12, 12)]);
        let moved = &from_12th.occurrences[0];
        assert_eq!(moved.nominal_date, d(2026, 12, 8));
        assert_eq!(moved.moved_by.as_deref(), Some("Year-end freeze"));
        assert_eq!(moved.start_utc, utc(2026, 12, 12, 19, 0));
        assert!(from_12th.skipped.is_empty());
        // The planning lookup's few days around the chosen day find it too.
        let around = schedule_between(
            &p,
            &freeze,
            utc(2026, 12, 10, 0, 0),
            utc(2026, 12, 15, 0, 0),
        );
        assert_eq!(around.occurrences.len(), 1);
        assert_eq!(around.occurrences[0].local_date, d(2026, 12, 12));
        // A range that ends before the day it moved to holds neither the window nor a skip.
        let before = schedule_between(&p, &freeze, utc(2026, 12, 1, 0, 0), utc(2026, 12, 12, 0, 0));
        assert!(before.occurrences.is_empty(), "{before:?}");
        assert!(before.skipped.is_empty(), "{before:?}");
        // With the skip policy nothing moves, and the skip belongs to the range of its own day.
        let mut skip = p.clone();
        skip.blackout_policy = BlackoutPolicy::Skip;
        assert!(
            schedule_between(
                &skip,
                &freeze,
                utc(2026, 12, 12, 0, 0),
                utc(2027, 1, 1, 0, 0)
            )
            .occurrences
            .is_empty()
        );
        let dec = schedule_between(
            &skip,
            &freeze,
            utc(2026, 12, 1, 0, 0),
            utc(2027, 1, 1, 0, 0),
        );
        assert_eq!(dec.skipped.len(), 1);
        assert_eq!(dec.skipped[0].nominal_date, d(2026, 12, 8));
    }

    #[test]
    fn a_window_moved_into_the_next_month_shows_in_that_month() {
        let mut p = plan(
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Last,
                weekday: Weekday::Mon,
            },
            "22:00",
            "Europe/Amsterdam",
            8,
        );
        p.blackout_policy = BlackoutPolicy::MoveToNextAllowedDay;
        // Mon 30 November 2026 is the last Monday; the blackout (and the overnight window's end
        // in it) pushes it to Thu 3 December.
        let freeze = [blackout(d(2026, 11, 30), d(2026, 12, 2), "Migration")];
        let november =
            schedule_between(&p, &freeze, utc(2026, 11, 1, 0, 0), utc(2026, 12, 1, 0, 0));
        assert!(november.occurrences.is_empty(), "{november:?}");
        assert!(november.skipped.is_empty());
        let december = schedule_between(&p, &freeze, utc(2026, 12, 1, 0, 0), utc(2027, 1, 1, 0, 0));
        let days: Vec<_> = december
            .occurrences
            .iter()
            .map(|o| (o.nominal_date, o.local_date))
            .collect();
        assert_eq!(
            days,
            [
                (d(2026, 11, 30), d(2026, 12, 3)),
                (d(2026, 12, 28), d(2026, 12, 28))
            ]
        );
    }

    #[test]
    fn the_move_margin_comes_from_the_blackouts_near_the_range() {
        let p = second_tuesday_moved();
        let (from, to) = (utc(2026, 12, 12, 0, 0), utc(2027, 1, 1, 0, 0));
        assert_eq!(
            move_margin(p.blackout_policy, &[], from, to),
            Duration::zero()
        );
        let month = [blackout(d(2026, 11, 10), d(2026, 12, 9), "Freeze")];
        assert_eq!(
            move_margin(BlackoutPolicy::Skip, &month, from, to),
            Duration::zero()
        );
        assert_eq!(
            move_margin(p.blackout_policy, &month, from, to),
            Duration::days(30 + 2 + 1)
        );
        // A blackout years away does not widen the expansion.
        let far = [blackout(d(2020, 1, 1), d(2020, 12, 31), "Long ago")];
        assert_eq!(
            move_margin(p.blackout_policy, &far, from, to),
            Duration::days(1)
        );
        // A 30-day freeze moves November's window (10 November) to 10 December.
        let s = schedule_between(&p, &month, utc(2026, 12, 10, 0, 0), to);
        assert_eq!(s.occurrences[0].local_date, d(2026, 12, 10));
        assert_eq!(s.occurrences[0].nominal_date, d(2026, 11, 10));
        // Extreme ranges do not panic.
        let _ = schedule_between(&p, &month, DateTime::<Utc>::MIN_UTC, utc(1970, 1, 1, 0, 0));
        let _ = schedule_between(
            &p,
            &month,
            DateTime::<Utc>::MAX_UTC - Duration::days(3),
            DateTime::<Utc>::MAX_UTC,
        );
    }

    #[test]
    fn overnight_window_ending_in_a_blackout_is_blacked_out_and_moves_merge() {
        let mut p = plan(Recurrence::Daily {}, "22:00", "Europe/Amsterdam", 8);
        p.blackout_policy = BlackoutPolicy::MoveToNextAllowedDay;
        let occ = expand(&p, utc(2026, 12, 22, 12, 0), utc(2026, 12, 28, 12, 0));
        assert_eq!(occ.len(), 6); // 22..27 December
        let xmas = [blackout(d(2026, 12, 24), d(2026, 12, 26), "Christmas")];
        let s = apply_blackouts(&p.timing, p.blackout_policy, occ, &xmas);
        // The 23rd (ends on the 24th) to the 26th are blocked; all would move to the 27th, which
        // has its own window, so they merge into it.
        let days: Vec<_> = s.occurrences.iter().map(|o| o.local_date).collect();
        assert_eq!(days, [d(2026, 12, 22), d(2026, 12, 27)]);
        assert_eq!(s.occurrences[1].moved_by, None);
        assert_eq!(s.skipped.len(), 4);
        assert!(
            s.skipped
                .iter()
                .all(|k| k.merged_into == Some(d(2026, 12, 27)))
        );
        assert_eq!(s.skipped[0].nominal_date, d(2026, 12, 23));
        assert_eq!(human_date(d(2026, 12, 26)), "Sat 26 Dec 2026");
    }
}
