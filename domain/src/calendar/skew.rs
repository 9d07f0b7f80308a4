//! Staging first, production after a soak period.
//!
//! A production plan has no recurrence of its own: each staging window, where it takes place
//! (after staging's blackouts moved or skipped it), produces one production occurrence
//! `soak_working_days` working days later, at production's own local time and zone. A staging
//! window a blackout moved takes its production window along, so the soak always counts from the
//! day staging really changed; a staging window a blackout skipped gives no production window
//! (nothing was tried on staging, so there is nothing for production to repeat), and production's
//! schedule lists that window as skipped, with the blackout's reason. [`check_skew`] then compares
//! the real schedules, after production's own blackouts, and explains every production window
//! that comes too early.
//!
//! Working days ([`WorkingDays`]) are Monday to Friday except the days of the blackouts that apply
//! to the environment that waits (its own and its platform's): that is where public holidays and
//! freezes are entered, and nobody checks their application on staging on those days.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::recurrence::{
    Schedule, Skipped, apply_blackouts, move_margin, schedule_between, within,
};
use super::{Blackout, BlackoutPolicy, Occurrence, Plan, Timing, human_date};
use crate::error::{Error, Result};
use crate::validate::Problems;

/// Fewest working days production may follow staging by.
pub const MIN_SOAK_WORKING_DAYS: u8 = 1;
/// Most working days production may follow staging by (about three months).
pub const MAX_SOAK_WORKING_DAYS: u8 = 60;

/// A validated production plan, relative to a staging plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionPlan {
    /// When production's window starts and how long it lasts.
    pub timing: Timing,
    /// Working days (Monday to Friday, without production's blackouts) between a staging window
    /// and its production window.
    pub soak_working_days: u8,
    /// What blackouts do to production's occurrences.
    pub blackout_policy: BlackoutPolicy,
}

/// A production plan as a form or an API client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionPlanInput {
    /// Local start time, `HH:MM`.
    pub start_time: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// Window length in hours, 4 to 24.
    pub duration_hours: i64,
    /// Working days after the staging window.
    pub soak_working_days: i64,
    /// What blackouts do to production's occurrences.
    #[serde(default)]
    pub blackout_policy: BlackoutPolicy,
}

impl ProductionPlanInput {
    /// Checks every field and returns the plan, or one message per wrong field.
    pub fn validate(&self) -> Result<ProductionPlan> {
        let mut p = Problems::default();
        let timing = super::timing(
            &mut p,
            &self.start_time,
            &self.time_zone,
            self.duration_hours,
        );
        let soak = u8::try_from(self.soak_working_days)
            .ok()
            .filter(|d| (MIN_SOAK_WORKING_DAYS..=MAX_SOAK_WORKING_DAYS).contains(d));
        if soak.is_none() {
            p.add(
                "soak_working_days",
                format!(
                    "must be between {MIN_SOAK_WORKING_DAYS} and {MAX_SOAK_WORKING_DAYS} working days"
                ),
            );
        }
        p.finish()?;
        match (timing, soak) {
            (Some(timing), Some(soak_working_days)) => Ok(ProductionPlan {
                timing,
                soak_working_days,
                blackout_policy: self.blackout_policy,
            }),
            _ => Err(Error::invalid("soak_working_days", "is not valid")),
        }
    }
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The day `n` weekdays after `date` (Friday + 1 is Monday; Saturday + 1 is Monday too).
fn weekdays_add(date: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        return date;
    }
    // From a weekend day, counting works as from the Friday before it.
    let back = match date.weekday() {
        Weekday::Sat => 1,
        Weekday::Sun => 2,
        _ => 0,
    };
    let mut day = date
        .checked_sub_signed(Duration::days(back))
        .unwrap_or(date);
    let weeks = i64::from(n / 5);
    day = match day.checked_add_signed(Duration::days(weeks * 7)) {
        Some(d) => d,
        None => return NaiveDate::MAX,
    };
    for _ in 0..(n % 5) {
        loop {
            day = match day.succ_opt() {
                Some(d) => d,
                None => return NaiveDate::MAX,
            };
            if is_weekday(day) {
                break;
            }
        }
    }
    day
}

/// How many weekdays lie after `from`, up to and including `to`.
fn weekdays_after(from: NaiveDate, to: NaiveDate) -> i64 {
    let days = (to - from).num_days();
    if days <= 0 {
        return 0;
    }
    let mut count = days / 7 * 5;
    let mut day = from + Duration::days(days / 7 * 7);
    while day < to {
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
        if is_weekday(day) {
            count += 1;
        }
    }
    count
}

/// The days a soak period counts: Monday to Friday, except blacked-out days. Built from the
/// blackouts of the environment that waits (its own and its platform's), which is where public
/// holidays are entered; without blackouts it is plain Monday to Friday.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingDays {
    /// Blacked-out days: sorted, inclusive ranges that neither overlap nor touch.
    closed: Vec<(NaiveDate, NaiveDate)>,
}

impl WorkingDays {
    /// Monday to Friday except the days of `blackouts`.
    pub fn new(blackouts: &[Blackout]) -> Self {
        let mut ranges: Vec<(NaiveDate, NaiveDate)> = blackouts
            .iter()
            .filter(|b| b.first_day <= b.last_day)
            .map(|b| (b.first_day, b.last_day))
            .collect();
        ranges.sort();
        let mut closed: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(ranges.len());
        for (first, last) in ranges {
            match closed.last_mut() {
                Some((_, end)) if end.succ_opt().is_none_or(|after| first <= after) => {
                    *end = (*end).max(last);
                }
                _ => closed.push((first, last)),
            }
        }
        WorkingDays { closed }
    }

    /// True for a weekday that no blackout covers.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        is_weekday(d) && !self.closed.iter().any(|(f, l)| *f <= d && d <= *l)
    }

    /// The day `n` working days after `date`: the `n`th working day after it. `n = 0` gives
    /// `date` itself. Saturates at the last representable date.
    pub fn add(&self, date: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return date;
        }
        let mut day = date;
        let mut left = n;
        for &(first, last) in &self.closed {
            if last <= day {
                continue;
            }
            // The weekdays between `day` and the blackout come first.
            let before = first.pred_opt().map_or(0, |p| weekdays_after(day, p));
            if before >= i64::from(left) {
                break;
            }
            // `before < left`, so it fits in a u32.
            left -= u32::try_from(before).unwrap_or(left);
            day = last;
        }
        weekdays_add(day, left)
    }

    /// How many working days lie after `from`, up to and including `to` (0 when `to` is not
    /// later).
    pub fn after(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let Some(first_counted) = from.succ_opt() else {
            return 0;
        };
        let mut count = weekdays_after(from, to);
        for &(first, last) in &self.closed {
            let (lo, hi) = (first.max(first_counted), last.min(to));
            if let Some(before_lo) = lo.pred_opt()
                && lo <= hi
            {
                count -= weekdays_after(before_lo, hi);
            }
        }
        count
    }

    /// How far before `day` a staging window may lie whose production window, `soak` working
    /// days later, falls on or after `day`: two calendar days per working day and two weeks
    /// (weekends and a margin), plus the blacked-out days in between.
    fn lookback(&self, day: NaiveDate, soak: u8) -> Duration {
        let base = i64::from(soak) * 2 + 14;
        let mut days = base;
        // Each round adds the blackouts the longer reach uncovers; a few rounds settle it.
        for _ in 0..8 {
            let start = day
                .checked_sub_signed(Duration::days(days))
                .unwrap_or(NaiveDate::MIN);
            let closed: i64 = self
                .closed
                .iter()
                .filter(|(f, l)| *l >= start && *f <= day)
                .map(|(f, l)| ((*l).min(day) - (*f).max(start)).num_days() + 1)
                .sum();
            if base + closed <= days {
                break;
            }
            days = base + closed;
        }
        Duration::days(days)
    }
}

/// The day `n` working days (Monday to Friday) after `date` (Friday + 1 is Monday; Saturday + 1
/// is Monday too). `n = 0` gives `date` itself. Saturates at the last representable date. With
/// holidays and other blackouts, see [`WorkingDays::add`].
pub fn add_working_days(date: NaiveDate, n: u32) -> NaiveDate {
    weekdays_add(date, n)
}

/// How many working days (Monday to Friday) lie after `from`, up to and including `to` (0 when
/// `to` is not later). With holidays and other blackouts, see [`WorkingDays::after`].
pub fn working_days_after(from: NaiveDate, to: NaiveDate) -> i64 {
    weekdays_after(from, to)
}

/// Production's occurrences before production's own blackouts, from staging's schedule after
/// staging's blackouts: one per staging window, `soak_working_days` working days (counted on
/// `working`, production's working days) after the local day the staging window takes place on,
/// with `follows` set to that day. When several staging windows map to the same day (a daily
/// staging plan over a weekend), the production window follows the last of them.
///
/// A staging window a blackout skipped (not one merged into another window, whose change that
/// window carries) gives no production window; it comes back in `skipped`, on the day its
/// production window would have had, unless another staging window gives a window that day.
pub fn derive_production(
    staging: &Schedule,
    production: &ProductionPlan,
    working: &WorkingDays,
) -> Schedule {
    let soak = u32::from(production.soak_working_days);
    let mut by_day: BTreeMap<NaiveDate, Occurrence> = BTreeMap::new();
    for s in &staging.occurrences {
        let day = working.add(s.local_date, soak);
        let mut o = production.timing.occurrence_on(day);
        o.follows = Some(s.local_date);
        // Named after the day staging's window was planned on, not where a blackout put it:
        // moving the staging window moves this one, but feeds keep knowing it by its name.
        o.series_date = working.add(s.series_date, soak);
        by_day.insert(day, o);
    }
    // Names stay unique: when staging's windows of two days (a Friday, and a Saturday a blackout
    // moved to Tuesday) would give the same name, the later window is named by its own day.
    let mut names = BTreeSet::new();
    for o in by_day.values_mut() {
        while names.contains(&o.series_date) {
            let next = if o.series_date < o.local_date {
                Some(o.local_date)
            } else {
                o.series_date.succ_opt()
            };
            let Some(next) = next else { break };
            o.series_date = next;
        }
        names.insert(o.series_date);
    }
    let mut skipped: Vec<Skipped> = Vec::new();
    for k in staging.skipped.iter().filter(|k| k.merged_into.is_none()) {
        let day = working.add(k.nominal_date, soak);
        if !by_day.contains_key(&day) && !skipped.iter().any(|s| s.nominal_date == day) {
            skipped.push(Skipped {
                nominal_date: day,
                reason: k.reason.clone(),
                merged_into: None,
            });
        }
    }
    Schedule {
        occurrences: by_day.into_values().collect(),
        skipped,
    }
}

/// A production window that does not respect the soak period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkewViolation {
    /// The local day of the production window.
    pub production_date: NaiveDate,
    /// The local day of the staging window it was compared with, if there is one.
    pub staging_date: Option<NaiveDate>,
    /// What is wrong, in plain words.
    pub message: String,
}

/// "1 working day", "5 working days".
pub(crate) fn days_word(n: i64) -> String {
    if n == 1 {
        "1 working day".to_owned()
    } else {
        format!("{n} working days")
    }
}

/// "Tue 14 Apr 2026", plus "(moved from ... by the blackout “...”)" when a blackout moved it.
fn describe(o: &Occurrence) -> String {
    match &o.moved_by {
        Some(reason) if o.local_date != o.nominal_date => format!(
            "{} (moved from {} by the blackout “{reason}”)",
            human_date(o.local_date),
            human_date(o.nominal_date)
        ),
        _ => human_date(o.local_date),
    }
}

/// Checks that every production occurrence comes at least `soak_working_days` working days
/// (counted on `working`, production's working days) after its staging occurrence and starts
/// after that staging window has ended.
///
/// A production occurrence that names the staging window it follows (`follows`, the local day that
/// window takes place on, as [`derive_production`] and [`pair_with_latest`] set it) is compared
/// with that window; any other production occurrence is compared with the latest staging window
/// that starts before it.
pub fn check_skew(
    staging: &Schedule,
    production: &Schedule,
    soak_working_days: u8,
    working: &WorkingDays,
) -> Vec<SkewViolation> {
    let soak = u32::from(soak_working_days);
    let mut violations = Vec::new();
    for p in &production.occurrences {
        let paired = match p.follows {
            Some(nominal) => follows(staging, nominal),
            None => staging
                .occurrences
                .iter()
                .rev()
                .find(|s| s.start_utc < p.start_utc),
        };
        let Some(s) = paired else {
            violations.push(unpaired(staging, p));
            continue;
        };
        let required = working.add(s.local_date, soak);
        let message = if p.start_utc < s.end_utc {
            format!(
                "Production on {} starts before the staging window on {} has ended; \
                 production must come at least {} after staging.",
                describe(p),
                describe(s),
                days_word(i64::from(soak))
            )
        } else if p.local_date < required {
            format!(
                "Production on {} comes only {} after staging on {}; the soak period needs at \
                 least {}, so production should be on {} or later.",
                describe(p),
                days_word(working.after(s.local_date, p.local_date)),
                describe(s),
                days_word(i64::from(soak)),
                human_date(required)
            )
        } else {
            continue;
        };
        violations.push(SkewViolation {
            production_date: p.local_date,
            staging_date: Some(s.local_date),
            message,
        });
    }
    violations
}

/// Pairs each window of a production plan with a rhythm of its own with the latest staging
/// window that starts before it (its `follows`, the local day that staging window takes place on),
/// as [`check_skew`] compares them.
pub fn pair_with_latest(staging: &Schedule, production: &mut Schedule) {
    for p in &mut production.occurrences {
        p.follows = staging
            .occurrences
            .iter()
            .rev()
            .find(|s| s.start_utc < p.start_utc)
            .map(|s| s.local_date);
    }
}

/// The staging window that takes place on the local day `day`; when staging's window of that day
/// was moved into another window, that window.
fn follows(staging: &Schedule, day: NaiveDate) -> Option<&Occurrence> {
    if let Some(s) = staging.occurrences.iter().find(|s| s.local_date == day) {
        return Some(s);
    }
    let day = staging
        .skipped
        .iter()
        .find(|k| k.nominal_date == day)?
        .merged_into?;
    staging.occurrences.iter().find(|s| s.local_date == day)
}

/// The violation for a production window without a staging window to follow.
fn unpaired(staging: &Schedule, p: &Occurrence) -> SkewViolation {
    let skipped = p
        .follows
        .and_then(|nominal| staging.skipped.iter().find(|k| k.nominal_date == nominal));
    let message = match skipped {
        Some(k) => format!(
            "Staging on {} is skipped because of the blackout “{}”, so production on {} would \
             receive changes that were never tried on staging.",
            human_date(k.nominal_date),
            k.reason,
            describe(p)
        ),
        None => format!(
            "Production on {} has no staging window before it.",
            describe(p)
        ),
    };
    SkewViolation {
        production_date: p.local_date,
        staging_date: None,
        message,
    }
}

/// Expands both plans over `[from, to)`, applies each side's blackouts and checks the skew of
/// every production occurrence that falls in the horizon (typically the next 12 months).
pub fn validate_skew(
    staging: &Plan,
    staging_blackouts: &[Blackout],
    production: &ProductionPlan,
    production_blackouts: &[Blackout],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SkewViolation> {
    let Some((staging_sched, production_sched)) = schedules(
        staging,
        staging_blackouts,
        production,
        production_blackouts,
        from,
        to,
    ) else {
        return Vec::new();
    };
    check_skew(
        &staging_sched,
        &production_sched,
        production.soak_working_days,
        &WorkingDays::new(production_blackouts),
    )
}

/// Staging's and production's schedules over the horizon, after blackouts; production is limited
/// to windows that start in `[from, to)` where blackouts put them (a window a blackout moved into
/// the horizon from before it counts, one it moved out does not). The soak counts production's
/// working days: Monday to Friday except `production_blackouts`.
pub fn schedules(
    staging: &Plan,
    staging_blackouts: &[Blackout],
    production: &ProductionPlan,
    production_blackouts: &[Blackout],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<(Schedule, Schedule)> {
    let working = WorkingDays::new(production_blackouts);
    // Production windows a blackout can move into the horizon start this much earlier.
    let margin = move_margin(production.blackout_policy, production_blackouts, from, to);
    let production_from = from.checked_sub_signed(margin)?;
    // Staging windows up to a soak period (plus weekends, blackouts and a margin) before that
    // still have their production windows inside it.
    let lookback = working.lookback(production_from.date_naive(), production.soak_working_days);
    let staging_from = production_from.checked_sub_signed(lookback)?;
    // Staging's windows where its blackouts put them: production follows what really happens
    // on staging.
    let staging_sched = schedule_between(staging, staging_blackouts, staging_from, to);
    let mut derived = derive_production(&staging_sched, production, &working);
    derived
        .occurrences
        .retain(|o| o.start_utc >= production_from && o.start_utc < to);
    let mut production_sched = apply_blackouts(
        &production.timing,
        production.blackout_policy,
        derived.occurrences,
        production_blackouts,
    );
    production_sched.skipped.append(&mut derived.skipped);
    production_sched.skipped.sort_by_key(|k| k.nominal_date);
    Some((
        staging_sched,
        within(&production.timing, production_sched, from, to),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Ordinal, PlanInput, Recurrence, expand};
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, 0, 0, 0).unwrap()
    }

    fn staging(recurrence: Recurrence, policy: BlackoutPolicy) -> Plan {
        PlanInput {
            recurrence,
            start_time: "20:00".into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: 4,
            blackout_policy: policy,
        }
        .validate()
        .unwrap()
    }

    fn second_tuesday(policy: BlackoutPolicy) -> Plan {
        staging(
            Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: Weekday::Tue,
            },
            policy,
        )
    }

    fn production(soak: i64) -> ProductionPlan {
        ProductionPlanInput {
            start_time: "22:00".into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: 6,
            soak_working_days: soak,
            blackout_policy: BlackoutPolicy::MoveToNextAllowedDay,
        }
        .validate()
        .unwrap()
    }

    fn blackout(first: NaiveDate, last: NaiveDate, reason: &str) -> Blackout {
        Blackout {
            first_day: first,
            last_day: last,
            reason: reason.into(),
        }
    }

    #[test]
    fn working_day_arithmetic() {
        // 2026-01-02 is a Friday.
        assert_eq!(add_working_days(d(2026, 1, 2), 1), d(2026, 1, 5));
        assert_eq!(add_working_days(d(2026, 1, 3), 1), d(2026, 1, 5)); // Saturday
        assert_eq!(add_working_days(d(2026, 1, 4), 5), d(2026, 1, 9)); // Sunday
        assert_eq!(add_working_days(d(2026, 1, 6), 5), d(2026, 1, 13)); // Tue -> Tue
        assert_eq!(add_working_days(d(2026, 1, 6), 0), d(2026, 1, 6));
        assert_eq!(add_working_days(NaiveDate::MAX, 3), NaiveDate::MAX);
        assert!(add_working_days(NaiveDate::MIN, 7) > NaiveDate::MIN);
        assert_eq!(add_working_days(d(2026, 1, 1), u32::MAX), NaiveDate::MAX);
        assert_eq!(working_days_after(d(2026, 1, 9), d(2026, 1, 12)), 1);
        assert_eq!(working_days_after(d(2026, 1, 12), d(2026, 1, 9)), 0);
        let mut start = d(2026, 1, 1);
        for _ in 0..14 {
            for n in 1..=23u32 {
                let end = add_working_days(start, n);
                assert!(is_weekday(end), "{start} + {n}");
                assert_eq!(
                    working_days_after(start, end),
                    i64::from(n),
                    "{start} + {n}"
                );
                assert_eq!(
                    working_days_after(start, end - Duration::days(1)),
                    i64::from(n) - 1
                );
            }
            start = start.succ_opt().unwrap();
        }
    }

    #[test]
    fn holidays_and_other_blackouts_are_not_working_days() {
        let xmas = [
            blackout(d(2026, 12, 24), d(2026, 12, 26), "Christmas"),
            blackout(d(2026, 12, 25), d(2026, 12, 25), "Christmas Day"),
            blackout(d(2027, 1, 1), d(2027, 1, 1), "New Year"),
        ];
        let w = WorkingDays::new(&xmas);
        assert!(w.is_working_day(d(2026, 12, 23)));
        assert!(!w.is_working_day(d(2026, 12, 24)));
        assert!(!w.is_working_day(d(2026, 12, 26)));
        assert!(!w.is_working_day(d(2026, 12, 27))); // Sunday
        assert!(w.is_working_day(d(2026, 12, 28)));
        // Tue 22 December + 5: Wed 23, Mon 28, Tue 29, Wed 30, Thu 31 (not Tue 29).
        assert_eq!(add_working_days(d(2026, 12, 22), 5), d(2026, 12, 29));
        assert_eq!(w.add(d(2026, 12, 22), 5), d(2026, 12, 31));
        assert_eq!(w.add(d(2026, 12, 22), 6), d(2027, 1, 4)); // New Year's Day is off too
        assert_eq!(w.add(d(2026, 12, 24), 1), d(2026, 12, 28)); // from inside a blackout
        assert_eq!(w.after(d(2026, 12, 22), d(2026, 12, 29)), 3);
        assert_eq!(w.after(d(2026, 12, 22), d(2026, 12, 31)), 5);
        // Adding and counting agree day by day across the holidays.
        let mut start = d(2026, 12, 10);
        for _ in 0..30 {
            for n in 1..=15u32 {
                let end = w.add(start, n);
                assert!(w.is_working_day(end), "{start} + {n}");
                assert_eq!(w.after(start, end), i64::from(n), "{start} + {n}");
                assert_eq!(w.after(start, end.pred_opt().unwrap()), i64::from(n) - 1);
            }
            start = start.succ_opt().unwrap();
        }
        assert_eq!(w.add(NaiveDate::MAX, 3), NaiveDate::MAX);
        assert_eq!(w.after(NaiveDate::MAX, NaiveDate::MAX), 0);
    }

    #[test]
    fn a_five_working_day_soak_over_christmas_skips_the_holidays() {
        // Staging on the 22nd of every month: Tue 22 December 2026.
        let s = staging(Recurrence::MonthlyDay { day: 22 }, BlackoutPolicy::Skip);
        let p = production(5);
        let xmas = [blackout(d(2026, 12, 24), d(2026, 12, 25), "Christmas")];
        let (from, to) = (utc(2026, 12, 1), utc(2027, 1, 15));
        let (_, prod) = schedules(&s, &xmas, &p, &xmas, from, to).unwrap();
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        // Mon-Fri alone would give Tue 29 December; the two holidays push it to Thu 31.
        assert_eq!(days, [d(2026, 12, 31)]);
        assert_eq!(prod.occurrences[0].follows, Some(d(2026, 12, 22)));
        assert!(validate_skew(&s, &xmas, &p, &xmas, from, to).is_empty());
        // A production window on Tue 29 December has had only 3 working days of soak.
        let staging_sched = Schedule {
            occurrences: expand(&s, from, to),
            skipped: vec![],
        };
        let mut early = p.timing.occurrence_on(d(2026, 12, 29));
        early.follows = Some(d(2026, 12, 22));
        let production_sched = Schedule {
            occurrences: vec![early],
            skipped: vec![],
        };
        let v = check_skew(
            &staging_sched,
            &production_sched,
            5,
            &WorkingDays::new(&xmas),
        );
        assert_eq!(v.len(), 1, "{v:#?}");
        assert!(
            v[0].message
                .contains("comes only 3 working days after staging on Tue 22 Dec 2026"),
            "{}",
            v[0].message
        );
        assert!(
            v[0].message.contains("Thu 31 Dec 2026 or later"),
            "{}",
            v[0].message
        );
        assert!(
            check_skew(
                &staging_sched,
                &production_sched,
                5,
                &WorkingDays::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn a_production_window_moved_into_the_horizon_from_before_it_is_kept() {
        let s = second_tuesday(BlackoutPolicy::Skip);
        let p = production(5);
        // Production of Tue 15 December runs overnight into a freeze and moves past it to
        // Sat 19 December.
        let freeze = [blackout(d(2026, 12, 16), d(2026, 12, 18), "Freeze")];
        let (_, prod) =
            schedules(&s, &[], &p, &freeze, utc(2026, 12, 17), utc(2027, 1, 1)).unwrap();
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        assert_eq!(days, [d(2026, 12, 19)]);
        assert_eq!(prod.occurrences[0].nominal_date, d(2026, 12, 15));
        assert_eq!(prod.occurrences[0].follows, Some(d(2026, 12, 8)));
        // And it has left the period it was derived in.
        let (_, before) =
            schedules(&s, &[], &p, &freeze, utc(2026, 12, 1), utc(2026, 12, 19)).unwrap();
        assert!(before.occurrences.is_empty(), "{before:?}");
    }

    #[test]
    fn soak_is_validated() {
        for (soak, ok) in [
            (0, false),
            (1, true),
            (5, true),
            (60, true),
            (61, false),
            (-5, false),
        ] {
            let input = ProductionPlanInput {
                start_time: "22:00".into(),
                time_zone: "Europe/Amsterdam".into(),
                duration_hours: 6,
                soak_working_days: soak,
                blackout_policy: BlackoutPolicy::Skip,
            };
            match input.validate() {
                Ok(_) => assert!(ok, "{soak}"),
                Err(Error::Invalid { fields }) => {
                    assert!(!ok, "{soak}");
                    assert!(fields.contains_key("soak_working_days"));
                }
                Err(other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn derived_production_follows_staging_by_the_soak_for_a_year() {
        let s = second_tuesday(BlackoutPolicy::Skip);
        let p = production(5);
        let (staging_sched, prod) =
            schedules(&s, &[], &p, &[], utc(2026, 1, 1), utc(2027, 1, 1)).unwrap();
        assert_eq!(prod.occurrences.len(), 12);
        for o in &prod.occurrences {
            let follows = o.follows.unwrap();
            assert_eq!(o.local_date, follows + Duration::days(7));
            assert!(
                staging_sched
                    .occurrences
                    .iter()
                    .any(|s| s.nominal_date == follows)
            );
        }
        assert!(validate_skew(&s, &[], &p, &[], utc(2026, 1, 1), utc(2027, 1, 1)).is_empty());
    }

    #[test]
    fn a_staging_window_moved_by_a_blackout_takes_its_production_window_along() {
        // Second Tuesday of April 2026 is the 14th; a freeze on staging moves it to Fri 17 April,
        // and production follows five working days after that: Fri 24 April, not Tue 21 April.
        let s = second_tuesday(BlackoutPolicy::MoveToNextAllowedDay);
        let p = production(5);
        let freeze = [blackout(d(2026, 4, 14), d(2026, 4, 16), "Release freeze")];
        let (from, to) = (utc(2026, 4, 1), utc(2026, 5, 1));
        let (staging_sched, prod) = schedules(&s, &freeze, &p, &[], from, to).unwrap();
        let april = staging_sched
            .occurrences
            .iter()
            .find(|o| o.nominal_date == d(2026, 4, 14))
            .unwrap();
        assert_eq!(april.local_date, d(2026, 4, 17));
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        assert_eq!(days, [d(2026, 4, 24)]);
        assert_eq!(prod.occurrences[0].follows, Some(d(2026, 4, 17)));
        // Feeds keep knowing it by the day it had before the freeze: staging's planned day plus
        // the soak.
        assert_eq!(prod.occurrences[0].series_date, d(2026, 4, 21));
        assert!(validate_skew(&s, &freeze, &p, &[], from, to).is_empty());
        // A production freeze a week later is no working days either: the soak reaches Wed 29.
        let prod_freeze = [blackout(d(2026, 4, 21), d(2026, 4, 23), "Release freeze")];
        let (_, prod) = schedules(&s, &freeze, &p, &prod_freeze, from, to).unwrap();
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        assert_eq!(days, [d(2026, 4, 29)]);
        assert!(validate_skew(&s, &freeze, &p, &prod_freeze, from, to).is_empty());
        // A production window that keeps its old day (as one of a rhythm of its own would) is
        // explained against the day staging really took.
        let mut early = p.timing.occurrence_on(d(2026, 4, 21));
        early.follows = Some(d(2026, 4, 17));
        let v = check_skew(
            &staging_sched,
            &Schedule {
                occurrences: vec![early],
                skipped: vec![],
            },
            5,
            &WorkingDays::default(),
        );
        assert_eq!(v.len(), 1, "{v:#?}");
        assert_eq!(v[0].staging_date, Some(d(2026, 4, 17)));
        assert_eq!(
            v[0].message,
            "Production on Tue 21 Apr 2026 comes only 2 working days after staging on \
             Fri 17 Apr 2026 (moved from Tue 14 Apr 2026 by the blackout “Release freeze”); the \
             soak period needs at least 5 working days, so production should be on \
             Fri 24 Apr 2026 or later."
        );
    }

    #[test]
    fn production_windows_keep_distinct_feed_names_when_a_moved_staging_window_would_share_one() {
        // Staging on Fridays and Saturdays. A freeze from Sat 18 to Mon 20 April 2026 moves
        // Saturday's window to Tue 21; production follows on Fri 24 (after Friday) and Tue 28
        // (after Tuesday). Friday's and Saturday's planned days both give Fri 24 as a name: the
        // later window takes its own day instead.
        let s = staging(
            Recurrence::Weekly {
                weekdays: vec![Weekday::Fri, Weekday::Sat],
            },
            BlackoutPolicy::MoveToNextAllowedDay,
        );
        let p = production(5);
        let freeze = [blackout(d(2026, 4, 18), d(2026, 4, 20), "Release freeze")];
        let (_, prod) =
            schedules(&s, &freeze, &p, &[], utc(2026, 4, 20), utc(2026, 4, 30)).unwrap();
        let named: Vec<_> = prod
            .occurrences
            .iter()
            .map(|o| (o.local_date, o.series_date))
            .collect();
        assert_eq!(
            named,
            [
                (d(2026, 4, 24), d(2026, 4, 24)),
                (d(2026, 4, 28), d(2026, 4, 28))
            ]
        );
    }

    #[test]
    fn a_skipped_staging_window_skips_its_production_window_too() {
        let s = second_tuesday(BlackoutPolicy::Skip);
        let p = production(5);
        let freeze = [blackout(d(2026, 12, 7), d(2026, 12, 11), "Year-end freeze")];
        let (from, to) = (utc(2026, 11, 1), utc(2027, 1, 1));
        let (staging_sched, prod) = schedules(&s, &freeze, &p, &[], from, to).unwrap();
        // November's pair stays; December's staging window is skipped, and so is production's.
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        assert_eq!(days, [d(2026, 11, 17)]);
        assert_eq!(prod.skipped.len(), 1, "{prod:#?}");
        assert_eq!(prod.skipped[0].nominal_date, d(2026, 12, 15));
        assert_eq!(prod.skipped[0].reason, "Year-end freeze");
        assert!(validate_skew(&s, &freeze, &p, &[], from, to).is_empty());
        // A production window on that day anyway (built by hand) would be explained.
        let mut lonely = p.timing.occurrence_on(d(2026, 12, 15));
        lonely.follows = Some(d(2026, 12, 8));
        let v = check_skew(
            &staging_sched,
            &Schedule {
                occurrences: vec![lonely],
                skipped: vec![],
            },
            5,
            &WorkingDays::default(),
        );
        assert_eq!(v.len(), 1, "{v:#?}");
        assert_eq!(v[0].staging_date, None);
        assert!(
            v[0].message
                .contains("Staging on Tue 8 Dec 2026 is skipped")
        );
        assert!(v[0].message.contains("“Year-end freeze”"));
        assert!(v[0].message.contains("production on Tue 15 Dec 2026"));
    }

    /// Staging every Monday at 20:00, production following it by 3 working days; Easter Monday,
    /// 29 March 2027, is a platform-wide holiday, so it is no working day for production either.
    fn easter(policy: BlackoutPolicy) -> (Schedule, Schedule, Vec<SkewViolation>) {
        let s = staging(
            Recurrence::Weekly {
                weekdays: vec![Weekday::Mon],
            },
            policy,
        );
        let p = production(3);
        let holiday = [blackout(d(2027, 3, 29), d(2027, 3, 29), "Easter Monday")];
        let (from, to) = (utc(2027, 3, 15), utc(2027, 4, 15));
        let (staging_sched, prod) = schedules(&s, &holiday, &p, &holiday, from, to).unwrap();
        let v = validate_skew(&s, &holiday, &p, &holiday, from, to);
        (staging_sched, prod, v)
    }

    #[test]
    fn a_platform_holiday_that_skips_staging_skips_the_production_window_that_followed_it() {
        let (staging_sched, prod, v) = easter(BlackoutPolicy::Skip);
        let staging_days: Vec<_> = staging_sched
            .occurrences
            .iter()
            .map(|o| o.local_date)
            .filter(|day| *day >= d(2027, 3, 15))
            .collect();
        assert_eq!(
            staging_days,
            [
                d(2027, 3, 15),
                d(2027, 3, 22),
                d(2027, 4, 5),
                d(2027, 4, 12)
            ]
        );
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        // Thu 18 and 25 March, Thu 8 April: no Thu 1 April, whose staging window never happened.
        assert_eq!(days, [d(2027, 3, 18), d(2027, 3, 25), d(2027, 4, 8)]);
        assert_eq!(prod.skipped.len(), 1, "{prod:#?}");
        assert_eq!(prod.skipped[0].nominal_date, d(2027, 4, 1));
        assert_eq!(prod.skipped[0].reason, "Easter Monday");
        assert!(v.is_empty(), "{v:#?}");
    }

    #[test]
    fn a_platform_holiday_that_moves_staging_moves_the_production_window_that_follows_it() {
        let (staging_sched, prod, v) = easter(BlackoutPolicy::MoveToNextAllowedDay);
        let moved = staging_sched
            .occurrences
            .iter()
            .find(|o| o.nominal_date == d(2027, 3, 29))
            .unwrap();
        assert_eq!(moved.local_date, d(2027, 3, 30));
        let days: Vec<_> = prod.occurrences.iter().map(|o| o.local_date).collect();
        // Staging on Tue 30 March: three working days later is Fri 2 April, not Thu 1 April.
        assert_eq!(
            days,
            [d(2027, 3, 18), d(2027, 3, 25), d(2027, 4, 2), d(2027, 4, 8)]
        );
        let april = &prod.occurrences[2];
        assert_eq!(april.follows, Some(d(2027, 3, 30)));
        assert_eq!(april.start_utc, utc(2027, 4, 2) + Duration::hours(20));
        assert!(prod.skipped.is_empty(), "{prod:#?}");
        assert!(v.is_empty(), "{v:#?}");
    }

    #[test]
    fn a_production_window_moved_later_is_fine() {
        let s = second_tuesday(BlackoutPolicy::Skip);
        let p = production(5);
        // Production of Tue 16 June runs overnight into the sales week and moves to Sat 20 June.
        let prod_freeze = [blackout(d(2026, 6, 17), d(2026, 6, 19), "Sales week")];
        let (_, prod) =
            schedules(&s, &[], &p, &prod_freeze, utc(2026, 1, 1), utc(2027, 1, 1)).unwrap();
        assert!(
            prod.occurrences
                .iter()
                .any(|o| o.local_date == d(2026, 6, 20))
        );
        assert!(
            validate_skew(&s, &[], &p, &prod_freeze, utc(2026, 1, 1), utc(2027, 1, 1)).is_empty()
        );
    }

    #[test]
    fn independent_production_schedules_are_checked_against_the_latest_staging_window() {
        let weekly = |day| {
            staging(
                Recurrence::Weekly {
                    weekdays: vec![day],
                },
                BlackoutPolicy::Skip,
            )
        };
        let mon = weekly(Weekday::Mon);
        let wed = weekly(Weekday::Wed);
        let (from, to) = (utc(2026, 1, 1), utc(2026, 2, 1));
        let expand_sched = |p: &Plan, from| Schedule {
            occurrences: expand(p, from, to),
            skipped: vec![],
        };
        let staging_sched = expand_sched(&mon, utc(2025, 12, 20));
        let production_sched = expand_sched(&wed, from);
        let mon_fri = WorkingDays::default();
        let v = check_skew(&staging_sched, &production_sched, 5, &mon_fri);
        assert_eq!(v.len(), 4); // every Wednesday of January 2026 is 2 working days after Monday
        assert_eq!(v[0].production_date, d(2026, 1, 7));
        assert_eq!(v[0].staging_date, Some(d(2026, 1, 5)));
        assert!(
            v[0].message
                .contains("only 2 working days after staging on Mon 5 Jan 2026")
        );
        assert!(check_skew(&staging_sched, &production_sched, 2, &mon_fri).is_empty());
        // Same day, overlapping: production starts before staging ends.
        let mut mon_later = mon.clone();
        mon_later.timing.start_time = chrono::NaiveTime::from_hms_opt(21, 0, 0).unwrap();
        let overlap = check_skew(&staging_sched, &expand_sched(&mon_later, from), 1, &mon_fri);
        assert_eq!(overlap.len(), 4);
        assert!(overlap[0].message.contains("before the staging window on"));
        // Nothing on staging before production.
        let lonely = check_skew(&Schedule::default(), &production_sched, 5, &mon_fri);
        assert_eq!(lonely.len(), 4);
        assert!(
            lonely[0]
                .message
                .contains("has no staging window before it")
        );
    }

    #[test]
    fn staging_windows_merged_by_a_move_give_no_production_window_of_their_own() {
        let s = staging(Recurrence::Daily {}, BlackoutPolicy::MoveToNextAllowedDay);
        let p = production(1);
        // Saturday 3 and Sunday 4 January move to Monday 5, which has its own window: their
        // change goes with Monday's. Production on Monday 5 follows Friday 2, on Tuesday 6
        // Monday 5, each a working day later; nothing is skipped.
        let weekend = [blackout(d(2026, 1, 3), d(2026, 1, 4), "Office move")];
        let (from, to) = (utc(2026, 1, 1), utc(2026, 1, 12));
        let (_, prod) = schedules(&s, &weekend, &p, &[], from, to).unwrap();
        let monday = prod
            .occurrences
            .iter()
            .find(|o| o.local_date == d(2026, 1, 5))
            .unwrap();
        assert_eq!(monday.follows, Some(d(2026, 1, 2)));
        let tuesday = prod
            .occurrences
            .iter()
            .find(|o| o.local_date == d(2026, 1, 6))
            .unwrap();
        assert_eq!(tuesday.follows, Some(d(2026, 1, 5)));
        assert!(prod.skipped.is_empty(), "{prod:#?}");
        assert!(validate_skew(&s, &weekend, &p, &[], from, to).is_empty());
    }

    #[test]
    fn daily_staging_over_a_weekend_gives_one_production_window() {
        let s = staging(Recurrence::Daily {}, BlackoutPolicy::Skip);
        let p = production(1);
        let nominal = Schedule {
            occurrences: expand(&s, utc(2026, 1, 1), utc(2026, 1, 12)),
            skipped: vec![],
        };
        let prod = derive_production(&nominal, &p, &WorkingDays::default());
        // Fri 2, Sat 3 and Sun 4 January all map to Monday 5 January: one window following Sunday.
        let monday: Vec<_> = prod
            .occurrences
            .iter()
            .filter(|o| o.local_date == d(2026, 1, 5))
            .collect();
        assert_eq!(monday.len(), 1);
        assert_eq!(monday[0].follows, Some(d(2026, 1, 4)));
        assert!(validate_skew(&s, &[], &p, &[], utc(2026, 1, 1), utc(2026, 3, 1)).is_empty());
    }
}
