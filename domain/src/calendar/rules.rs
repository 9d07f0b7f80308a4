//! The maintenance rules that need no storage: notice for a major update, the Kubernetes
//! end-of-life deadline of an upgrade and when a maintenance may start. The store feeds them the
//! schedule it computed; they answer with the sentence a person reads.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use super::model::{Category, MaintenancePlan, PlanRhythm};
use super::{Occurrence, eol, human_date, resolve_local};
use crate::model::Environment;

/// The environment whose changes `env` may only receive after it: the one its plan follows, or
/// for a production environment without such a plan the nearest earlier active environment of
/// its platform (`platform` holds the platform's environments). None for a leading environment.
pub fn upstream<'a>(
    env: &Environment,
    plan: Option<&MaintenancePlan>,
    platform: &'a [Environment],
) -> Option<&'a Environment> {
    if let Some(MaintenancePlan {
        rhythm: PlanRhythm::Follows { environment_id, .. },
        ..
    }) = plan
    {
        return platform.iter().find(|e| e.id == *environment_id);
    }
    if !env.is_production {
        return None;
    }
    platform
        .iter()
        .filter(|e| e.position < env.position && e.archived_at.is_none())
        .max_by_key(|e| e.position)
}

/// Notice below which a major update is warned about, in days (about two months).
pub const COMFORTABLE_NOTICE_DAYS: i64 = 60;

/// What the notice rule says about a major update that starts at `starts_at`, announced `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Enough notice.
    Fine,
    /// Allowed, but teams get little time: a warning.
    Short(String),
    /// Too late to announce for this window: the error, naming the earliest window that works.
    TooLate(String),
}

/// Checks the notice of a major update. `windows` are the environment's upcoming windows (after
/// blackouts) from which the earliest one that still allows the notice is suggested.
pub fn major_notice(
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    notice_days: i32,
    windows: &[Occurrence],
) -> Notice {
    let need = Duration::days(i64::from(notice_days));
    let lead = starts_at - now;
    if lead < need {
        let earliest = windows.iter().find(|o| o.start_utc - now >= need);
        return Notice::TooLate(match earliest {
            Some(o) => format!(
                "a major update must be announced at least {notice_days} days ahead; the earliest window that still allows it is {}",
                human_date(o.local_date)
            ),
            None => format!("a major update must be announced at least {notice_days} days ahead"),
        });
    }
    if lead < Duration::days(COMFORTABLE_NOTICE_DAYS) {
        return Notice::Short(format!(
            "Application teams get {} days' notice; two months gives them time to test on staging.",
            lead.num_days()
        ));
    }
    Notice::Fine
}

/// The instant a minor's end of life has passed: the end of its last supported day (UTC).
pub fn end_of_life_deadline(minor: (u32, u32)) -> Option<(NaiveDate, DateTime<Utc>)> {
    let end = eol::end_of_life(minor)?;
    let deadline = resolve_local(chrono_tz::UTC, end.and_time(NaiveTime::MIN)) + Duration::days(1);
    Some((end, deadline))
}

/// An upgrade away from `running` that ends at `ends_at` must be done before the running
/// minor's end of life. `windows` are the environment's windows from now on; the last one still
/// in time is suggested. None when the upgrade is in time (or the minor is unknown).
pub fn upgrade_too_late(
    running: (u32, u32),
    ends_at: DateTime<Utc>,
    windows: &[Occurrence],
) -> Option<String> {
    let (end, deadline) = end_of_life_deadline(running)?;
    if ends_at <= deadline {
        return None;
    }
    let (major, minor) = running;
    let last = windows.iter().rev().find(|o| o.end_utc <= deadline);
    Some(match last {
        Some(o) => format!(
            "Kubernetes {major}.{minor} reaches end of life on {}, before this window ends; the last window still in time is {}",
            human_date(end),
            human_date(o.local_date)
        ),
        None => format!(
            "Kubernetes {major}.{minor} reaches end of life on {}, before this window ends, and no window before it is left: declare an emergency",
            human_date(end)
        ),
    })
}

/// How long before its window a maintenance may be started: time for the team to get going,
/// not a way to run the change outside the window the teams were told of.
pub const START_GRACE_MINUTES: i64 = 15;

/// Why a maintenance of `category` whose window runs from `starts_at` to `ends_at` cannot be
/// started at `now`: it is more than [`START_GRACE_MINUTES`] before the window, or the window is
/// over (the teams were told of that window, not of whenever it suits). None when it may start.
/// An emergency starts whenever it must.
pub fn cannot_start_now(
    category: Category,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<String> {
    if category == Category::Emergency {
        return None;
    }
    let earliest = starts_at - Duration::minutes(START_GRACE_MINUTES);
    if now < earliest {
        return Some(format!(
            "Its window starts {}; a maintenance can be started at the earliest {START_GRACE_MINUTES} minutes before its window, from {}. Only an emergency starts at any time.",
            starts_at.format("%a %-d %b %Y at %H:%M UTC"),
            earliest.format("%H:%M UTC")
        ));
    }
    if now >= ends_at {
        return Some(format!(
            "Its window ended {}; the teams were told of that window, so move the maintenance to a later one. Only an emergency starts at any time.",
            ends_at.format("%a %-d %b %Y at %H:%M UTC"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Ordinal, PlanInput, Recurrence, expand};
    use chrono::{TimeZone, Weekday};

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    /// Second Tuesdays at 20:00 in Amsterdam, 6 hours.
    fn windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        let plan = PlanInput {
            recurrence: Recurrence::MonthlyWeekday {
                ordinal: Ordinal::Second,
                weekday: Weekday::Tue,
            },
            start_time: "20:00".into(),
            time_zone: "Europe/Amsterdam".into(),
            duration_hours: 6,
            blackout_policy: Default::default(),
        }
        .validate()
        .unwrap();
        expand(&plan, from, to)
    }

    #[test]
    fn a_major_update_needs_its_notice_and_is_warned_below_two_months() {
        let now = utc(2027, 1, 4, 9);
        let ahead = windows(now, utc(2028, 1, 1, 0));
        // Tue 12 Jan: 8 days away, too late; the earliest window with 30 days is Tue 9 Feb.
        match major_notice(ahead[0].start_utc, now, 30, &ahead) {
            Notice::TooLate(m) => assert!(m.contains("Tue 9 Feb 2027"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Tue 9 Feb: 36 days, allowed with a warning.
        match major_notice(ahead[1].start_utc, now, 30, &ahead) {
            Notice::Short(m) => assert!(m.contains("36 days"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Tue 9 Mar: 64 days, fine.
        assert_eq!(
            major_notice(ahead[2].start_utc, now, 30, &ahead),
            Notice::Fine
        );
        // A platform that asks 60 days: February is too late, March is the earliest.
        match major_notice(ahead[1].start_utc, now, 60, &ahead) {
            Notice::TooLate(m) => assert!(m.contains("Tue 9 Mar 2027"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Exactly the notice is enough.
        assert_ne!(
            major_notice(now + Duration::days(30), now, 30, &[]),
            Notice::TooLate("a major update must be announced at least 30 days ahead".into())
        );
        // No window far enough ahead: the rule alone.
        assert_eq!(
            major_notice(ahead[0].start_utc, now, 30, &ahead[..1]),
            Notice::TooLate("a major update must be announced at least 30 days ahead".into())
        );
    }

    #[test]
    fn a_maintenance_starts_within_its_window_or_shortly_before_an_emergency_at_any_time() {
        let starts_at = utc(2027, 1, 12, 19);
        let ends_at = starts_at + Duration::hours(6);
        let m = cannot_start_now(Category::Minor, starts_at, ends_at, utc(2027, 1, 4, 9)).unwrap();
        assert!(
            m.contains("Tue 12 Jan 2027 at 19:00 UTC") && m.contains("from 18:45 UTC"),
            "{m}"
        );
        let grace = Duration::minutes(START_GRACE_MINUTES);
        let early = starts_at - grace - Duration::seconds(1);
        assert!(cannot_start_now(Category::Major, starts_at, ends_at, early).is_some());
        assert_eq!(
            cannot_start_now(Category::Major, starts_at, ends_at, starts_at - grace),
            None
        );
        // Late within the window is fine: a window that overran its start still gets its change.
        assert_eq!(
            cannot_start_now(
                Category::SecurityPatch,
                starts_at,
                ends_at,
                starts_at + grace
            ),
            None
        );
        // Once the window is over, the change waits for another one.
        let over = cannot_start_now(Category::SecurityPatch, starts_at, ends_at, ends_at).unwrap();
        assert!(
            over.contains("ended Wed 13 Jan 2027 at 01:00 UTC") && over.contains("later one"),
            "{over}"
        );
        for now in [utc(2027, 1, 4, 9), ends_at + Duration::days(30)] {
            assert_eq!(
                cannot_start_now(Category::Emergency, starts_at, ends_at, now),
                None
            );
        }
    }

    #[test]
    fn an_upgrade_after_end_of_life_is_refused_with_the_last_window_in_time() {
        let now = utc(2027, 1, 4, 9);
        let ahead = windows(now, utc(2027, 12, 31, 0));
        let eol_135 = eol::end_of_life((1, 35)).unwrap();
        assert_eq!(eol_135, NaiveDate::from_ymd_opt(2027, 2, 28).unwrap());
        // February's window ends on 10 Feb: in time.
        assert_eq!(upgrade_too_late((1, 35), ahead[1].end_utc, &ahead), None);
        // March's is after 28 Feb: refused, February named.
        let m = upgrade_too_late((1, 35), ahead[2].end_utc, &ahead).unwrap();
        assert!(
            m.contains("Sun 28 Feb 2027") && m.contains("Tue 9 Feb 2027"),
            "{m}"
        );
        // A minor already past its end: no window is left.
        let m = upgrade_too_late((1, 34), ahead[0].end_utc, &ahead).unwrap();
        assert!(m.contains("declare an emergency"), "{m}");
        // The last supported day itself still counts.
        let (_, deadline) = end_of_life_deadline((1, 35)).unwrap();
        assert_eq!(deadline, utc(2027, 3, 1, 0));
        assert_eq!(upgrade_too_late((1, 35), deadline, &ahead), None);
        // An unknown minor is not refused here (the release table may be out of date).
        assert_eq!(upgrade_too_late((1, 99), ahead[5].end_utc, &ahead), None);
    }
}
