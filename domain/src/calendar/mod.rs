//! The maintenance calendar's pure logic: recurring windows, blackouts and the staging-production
//! skew. Nothing here touches storage or the UI, so it compiles for the server and for wasm.
//!
//! * A [`Plan`] is a [`Recurrence`] (stored as an RFC 5545 RRULE value), a local start time in an
//!   IANA time zone and a duration of 4 to 24 hours ([`Timing`]).
//! * [`expand`] turns a plan into concrete [`Occurrence`]s between two instants. Windows keep their
//!   local start time across daylight-saving changes.
//! * [`apply_blackouts`] skips or moves occurrences that touch a [`Blackout`];
//!   [`schedule_between`] does both for a period, including windows moved into it from before.
//! * [`skew`] derives production windows from staging ones (staging date + a soak period in
//!   working days) and explains, by date, every production window that comes too early.
//!
//! # Time rules
//!
//! * A start time that does not exist on a day (it falls into the spring-forward gap) moves
//!   forward to the first instant that exists: 02:30 in Amsterdam on the last Sunday of March
//!   starts at 03:00 CEST.
//! * A start time that occurs twice (the fall-back hour) takes the earlier of the two instants.
//! * The end is the start plus the duration in elapsed hours, as RFC 5545 counts `DURATION:PT8H`.
//!   An overnight window ends the next day; on the night of a clock change its local end time is
//!   one hour later (spring) or earlier (autumn) than on other nights.
//! * Blackout days are whole local days in the plan's time zone.

pub mod eol;
pub mod holidays;
pub mod ics;
pub mod model;
pub mod recurrence;
pub mod rules;
pub mod skew;

#[cfg(feature = "server")]
pub mod drills;
#[cfg(feature = "server")]
pub mod events;
#[cfg(feature = "server")]
pub mod export;
#[cfg(feature = "server")]
pub mod maintenances;
#[cfg(feature = "server")]
pub mod notices;
#[cfg(feature = "server")]
pub mod plans;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::validate::Problems;

pub use recurrence::{
    Ordinal, Recurrence, Schedule, Skipped, apply_blackouts, expand, from_rrule, schedule_between,
    to_rrule,
};
pub use skew::{
    ProductionPlan, ProductionPlanInput, SkewViolation, WorkingDays, add_working_days, check_skew,
    derive_production, schedules, validate_skew, working_days_after,
};

/// Shortest window a plan may have, in hours.
pub const MIN_DURATION_HOURS: u8 = 4;
/// Longest window a plan may have, in hours.
pub const MAX_DURATION_HOURS: u8 = 24;
/// Longest blackout, in days (a blackout is meant for holidays and freezes, not for a year off).
pub const MAX_BLACKOUT_DAYS: i64 = 366;
/// Longest range [`expand`] covers, in days (about 20 years); a longer range is cut short.
pub const MAX_EXPAND_DAYS: i64 = 20 * 366;

/// When a window starts and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Local start time in `time_zone`.
    pub start_time: NaiveTime,
    /// The IANA zone the start time is in (never a fixed offset, so DST is followed).
    pub time_zone: Tz,
    /// Length of the window in elapsed hours (4 to 24).
    pub duration_hours: u8,
}

impl Timing {
    /// The window that starts on the local day `date`.
    pub fn occurrence_on(&self, date: NaiveDate) -> Occurrence {
        let start_utc = resolve_local(self.time_zone, date.and_time(self.start_time));
        Occurrence {
            start_utc,
            end_utc: start_utc
                .checked_add_signed(Duration::hours(i64::from(self.duration_hours)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            local_date: date,
            nominal_date: date,
            series_date: date,
            moved_by: None,
            follows: None,
        }
    }
}

/// What to do with an occurrence that touches a blackout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlackoutPolicy {
    /// Drop the occurrence.
    #[default]
    Skip,
    /// Hold it on the next day that no blackout touches, at the same local time.
    MoveToNextAllowedDay,
}

/// A validated maintenance plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Which days have a window.
    pub recurrence: Recurrence,
    /// When the window starts and how long it lasts.
    pub timing: Timing,
    /// What blackouts do to this plan's occurrences.
    pub blackout_policy: BlackoutPolicy,
}

/// A plan as a form or an API client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    /// Which days have a window.
    pub recurrence: Recurrence,
    /// Local start time, `HH:MM` (24-hour clock).
    pub start_time: String,
    /// IANA time zone name, e.g. `Europe/Amsterdam`.
    pub time_zone: String,
    /// Window length in hours, 4 to 24.
    pub duration_hours: i64,
    /// What blackouts do to the plan's occurrences.
    #[serde(default)]
    pub blackout_policy: BlackoutPolicy,
}

impl PlanInput {
    /// Checks every field and returns the plan, or one message per wrong field.
    pub fn validate(&self) -> Result<Plan> {
        let mut p = Problems::default();
        self.recurrence.check(&mut p);
        let timing = timing(
            &mut p,
            &self.start_time,
            &self.time_zone,
            self.duration_hours,
        );
        p.finish()?;
        // `timing` is Some whenever no problem was recorded.
        let Some(timing) = timing else {
            return Err(crate::Error::invalid("start_time", "is not valid"));
        };
        Ok(Plan {
            recurrence: self.recurrence.canonical(),
            timing,
            blackout_policy: self.blackout_policy,
        })
    }
}

/// Checks the three timing fields; `None` when any of them is wrong.
pub(crate) fn timing(
    p: &mut Problems,
    start_time: &str,
    time_zone: &str,
    duration_hours: i64,
) -> Option<Timing> {
    let start = parse_start_time(start_time);
    if start.is_none() {
        p.add("start_time", "must be a time of day such as 22:00");
    }
    let zone = parse_time_zone(time_zone);
    if zone.is_none() {
        if time_zone.trim().is_empty() {
            p.add("time_zone", "is required");
        } else {
            p.add(
                "time_zone",
                "must be an IANA time zone name such as Europe/Amsterdam (not an offset like +02:00)",
            );
        }
    }
    let duration = u8::try_from(duration_hours)
        .ok()
        .filter(|h| (MIN_DURATION_HOURS..=MAX_DURATION_HOURS).contains(h));
    if duration.is_none() {
        p.add(
            "duration_hours",
            format!("must be between {MIN_DURATION_HOURS} and {MAX_DURATION_HOURS} hours"),
        );
    }
    Some(Timing {
        start_time: start?,
        time_zone: zone?,
        duration_hours: duration?,
    })
}

/// `HH:MM` on a 24-hour clock.
fn parse_start_time(value: &str) -> Option<NaiveTime> {
    let value = value.trim();
    if value.len() > 5 {
        return None;
    }
    NaiveTime::parse_from_str(value, "%H:%M").ok()
}

/// An IANA zone name, exactly as the tz database spells it.
fn parse_time_zone(value: &str) -> Option<Tz> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return None;
    }
    value.parse::<Tz>().ok()
}

/// A period without maintenance (a holiday, a release freeze), in whole local days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blackout {
    /// First blacked-out day.
    pub first_day: NaiveDate,
    /// Last blacked-out day (inclusive).
    pub last_day: NaiveDate,
    /// Why: shown next to every occurrence it skips or moves.
    pub reason: String,
}

impl Blackout {
    /// Trims the reason and checks the fields.
    pub fn validate(&mut self) -> Result<()> {
        self.reason = self.reason.trim().to_owned();
        let mut p = Problems::default();
        crate::validate::date(&mut p, "first_day", self.first_day);
        crate::validate::date(&mut p, "last_day", self.last_day);
        if self.reason.is_empty() {
            p.add("reason", "is required");
        } else if self.reason.chars().count() > 200 {
            p.add("reason", "must be at most 200 characters");
        }
        let days = (self.last_day - self.first_day).num_days() + 1;
        if days < 1 {
            p.add("last_day", "must be on or after the first day");
        } else if days > MAX_BLACKOUT_DAYS {
            p.add(
                "last_day",
                format!("a blackout may last at most {MAX_BLACKOUT_DAYS} days"),
            );
        }
        p.finish()
    }

    /// True when the window `[start, end)` touches this blackout's days in `zone`.
    pub fn touches(&self, zone: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        let (from, until) = self.utc_range(zone);
        start < until && from < end
    }

    /// The instants the blackout's days cover in `zone`: from the first day's midnight to the
    /// midnight after the last day.
    pub fn utc_range(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = resolve_local(zone, self.first_day.and_time(NaiveTime::MIN));
        let until = match self.last_day.succ_opt() {
            Some(after_last) => resolve_local(zone, after_last.and_time(NaiveTime::MIN)),
            None => DateTime::<Utc>::MAX_UTC,
        };
        (from, until)
    }
}

/// One concrete maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// When it starts.
    pub start_utc: DateTime<Utc>,
    /// When it ends (the next day for an overnight window).
    pub end_utc: DateTime<Utc>,
    /// The local day it starts on, in the plan's zone.
    pub local_date: NaiveDate,
    /// The day the recurrence gave; differs from `local_date` when a blackout moved it.
    pub nominal_date: NaiveDate,
    /// The day that names the window in feeds (its UID), so that moving it, or moving the window
    /// it follows, keeps its name: the recurrence's day for a plan of its own; for a window that
    /// follows another environment's, that window's series day plus the soak period.
    pub series_date: NaiveDate,
    /// The reason of the blackout that moved it, if one did.
    pub moved_by: Option<String>,
    /// For a production window: the local day of the staging window it follows, where that
    /// window takes place (after a blackout moved it).
    pub follows: Option<NaiveDate>,
}

/// The instant a local wall-clock time means in `zone`: the earlier one when the time occurs
/// twice, the first existing instant after it when the time falls into a gap.
pub fn resolve_local(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = zone.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // In a gap: the first local minute after it is where the clock jumped to. Gaps are an hour in
    // practice; Samoa skipped a whole day in 2011, so look up to two days ahead.
    let mut probe = local;
    for _ in 0..(2 * 24 * 60) {
        let Some(next) = probe.checked_add_signed(Duration::minutes(1)) else {
            break;
        };
        probe = next;
        if let Some(t) = zone.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&local)
}

/// A day as people read it: "Tue 14 Apr 2026".
pub fn human_date(date: NaiveDate) -> String {
    date.format("%a %-d %b %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn input() -> PlanInput {
        PlanInput {
            recurrence: Recurrence::Daily {},
            start_time: "22:00".into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: 8,
            blackout_policy: BlackoutPolicy::Skip,
        }
    }

    fn fields(r: Result<Plan>) -> Vec<String> {
        match r {
            Err(Error::Invalid { fields }) => fields.into_keys().collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn valid_input_becomes_a_plan() {
        let plan = input().validate().unwrap();
        assert_eq!(plan.timing.time_zone, chrono_tz::Europe::Amsterdam);
        assert_eq!(
            plan.timing.start_time,
            NaiveTime::from_hms_opt(22, 0, 0).unwrap()
        );
        assert_eq!(plan.timing.duration_hours, 8);
    }

    #[test]
    fn every_wrong_field_gets_its_own_message() {
        let mut i = input();
        i.start_time = "25:00".into();
        i.time_zone = "+02:00".into();
        i.duration_hours = 3;
        i.recurrence = Recurrence::Weekly { weekdays: vec![] };
        assert_eq!(
            fields(i.validate()),
            ["duration_hours", "start_time", "time_zone", "weekdays"]
        );
    }

    #[test]
    fn duration_bounds_and_odd_input() {
        for (hours, ok) in [
            (4, true),
            (24, true),
            (3, false),
            (25, false),
            (-1, false),
            (i64::MAX, false),
        ] {
            let mut i = input();
            i.duration_hours = hours;
            assert_eq!(i.validate().is_ok(), ok, "{hours} hours");
        }
        for bad in [
            "",
            "22",
            "7:5pm",
            "22:00:00:00",
            "22:60",
            "ü:ö",
            "99999999999:00",
        ] {
            let mut i = input();
            i.start_time = bad.into();
            assert_eq!(fields(i.validate()), ["start_time"], "{bad:?}");
        }
        for bad in [
            "",
            "europe/nowhere",
            "CET+1",
            "Europe/Amsterdam/x",
            &"A".repeat(500),
        ] {
            let mut i = input();
            i.time_zone = bad.into();
            assert_eq!(fields(i.validate()), ["time_zone"], "{bad:?}");
        }
        let mut i = input();
        i.time_zone = " America/New_York ".into();
        i.start_time = "07:30".into();
        assert!(i.validate().is_ok());
    }

    #[test]
    fn blackout_rules() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let mut ok = Blackout {
            first_day: d(12, 24),
            last_day: d(12, 26),
            reason: "  Christmas ".into(),
        };
        ok.validate().unwrap();
        assert_eq!(ok.reason, "Christmas");
        let mut backwards = Blackout {
            first_day: d(12, 26),
            last_day: d(12, 24),
            reason: " ".into(),
        };
        let Err(Error::Invalid { fields }) = backwards.validate() else {
            panic!("expected invalid")
        };
        assert_eq!(
            fields.into_keys().collect::<Vec<_>>(),
            ["last_day", "reason"]
        );
        let mut far = Blackout {
            first_day: NaiveDate::MAX - Duration::days(2),
            last_day: NaiveDate::MAX,
            reason: "Forever".into(),
        };
        let Err(Error::Invalid { fields }) = far.validate() else {
            panic!("expected invalid")
        };
        assert_eq!(
            fields.into_keys().collect::<Vec<_>>(),
            ["first_day", "last_day"]
        );
    }
}
