//! How long a cluster's Kubernetes minor release keeps receiving upstream patches.
//!
//! The release table ships with Demarc (`domain/data/kubernetes-releases.json`, embedded at
//! build time): each minor release's first day and its end of life, the last day of upstream
//! patch support. Dates the Kubernetes project has not announced yet are marked `projected`
//! and say so in every message. A version newer than the table is reported as unknown, with a
//! hint that the table needs updating (domain/data/README.md says how).
//!
//! [`status`] turns the version a cluster reports (`gitVersion` such as `v1.31.4-eks-2d98532`,
//! or the `/version` minor form `1.31+`) into a level for the dashboard and a sentence for
//! people.

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::human_date;

/// One Kubernetes minor release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Major and minor number: `(1, 31)`.
    pub minor: (u32, u32),
    /// The day `x.y.0` was released.
    pub released: NaiveDate,
    /// The end of upstream patch support.
    pub end_of_life: NaiveDate,
    /// True when the dates follow the usual cadence but are not announced yet.
    pub projected: bool,
}

/// How urgent an upgrade is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EolLevel {
    /// More than 90 days of support left.
    Supported,
    /// 61 to 90 days left.
    #[serde(rename = "within_90")]
    Within90,
    /// 31 to 60 days left.
    #[serde(rename = "within_60")]
    Within60,
    /// 1 to 30 days left.
    #[serde(rename = "within_30")]
    Within30,
    /// Support has ended (or ends today).
    Expired,
    /// The version could not be read or is not in the release table.
    Unknown,
}

/// A cluster version's support status on a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EolStatus {
    /// The minor release read from the version, if it could be read.
    pub minor: Option<(u32, u32)>,
    /// Its end of life, when the table has it.
    pub end_of_life: Option<NaiveDate>,
    /// Days from today until the end of life (negative once it has passed).
    pub days_left: Option<i64>,
    /// How urgent an upgrade is.
    pub level: EolLevel,
    /// The status in plain words.
    pub message: String,
}

/// Every known minor release, oldest first.
pub fn releases() -> &'static [Release] {
    static TABLE: LazyLock<Vec<Release>> = LazyLock::new(|| {
        let data: DataFile =
            serde_json::from_str(include_str!("../../data/kubernetes-releases.json"))
                .expect("domain/data/kubernetes-releases.json is valid (see its unit test)");
        let mut out: Vec<Release> = data
            .releases
            .into_iter()
            .map(|r| Release {
                minor: parse_minor(&r.version)
                    .expect("every version in kubernetes-releases.json reads as x.y"),
                released: r.released,
                end_of_life: r.end_of_life,
                projected: r.projected,
            })
            .collect();
        out.sort_by_key(|r| r.minor);
        out
    });
    &TABLE
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    /// What the file holds, for whoever opens it.
    #[allow(dead_code)]
    about: String,
    releases: Vec<ReleaseRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseRow {
    version: String,
    released: NaiveDate,
    end_of_life: NaiveDate,
    projected: bool,
}

/// The `(major, minor)` of a Kubernetes version as clusters report it: `v1.31.4-eks-2d98532`,
/// `v1.29.10-gke.1227000`, `1.31`, or the `/version` minor form `1.31+`. `None` for anything
/// else.
pub fn parse_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.trim();
    if v.len() > 128 {
        return None;
    }
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let (major, rest) = leading_number(v)?;
    let (minor, rest) = leading_number(rest.strip_prefix('.')?)?;
    match rest.chars().next() {
        None | Some('.' | '+' | '-') => Some((major, minor)),
        _ => None,
    }
}

/// The `(major, minor, patch)` of a Kubernetes version, in the forms [`parse_minor`] reads:
/// `1.31.4`, `v1.31.4-eks-2d98532`, `v1.30.6+k3s1`; without a patch (`1.31`, `1.31+`) the patch
/// is 0. Pre-release and vendor suffixes are not part of the version: `v1.32` and `1.32.0` are
/// the same. Compares upgrades, patch upgrades included (1.31.4 to 1.31.6 is newer).
pub fn parse_version(version: &str) -> Option<(u32, u32, u32)> {
    let v = version.trim();
    if v.len() > 128 {
        return None;
    }
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let (major, rest) = leading_number(v)?;
    let (minor, rest) = leading_number(rest.strip_prefix('.')?)?;
    let (patch, rest) = match rest.strip_prefix('.') {
        Some(after) => leading_number(after)?,
        None => (0, rest),
    };
    match rest.chars().next() {
        None | Some('+' | '-') => Some((major, minor, patch)),
        _ => None,
    }
}

/// The number at the start of `s` and what follows it.
fn leading_number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, rest) = s.split_at(end);
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    Some((digits.parse().ok()?, rest))
}

/// The end of upstream patch support of a minor release, when the table has it.
pub fn end_of_life(minor: (u32, u32)) -> Option<NaiveDate> {
    release(minor).map(|r| r.end_of_life)
}

fn release(minor: (u32, u32)) -> Option<&'static Release> {
    releases().iter().find(|r| r.minor == minor)
}

/// The support status of the version a cluster reports, on `today`.
///
/// Levels: end of life today or earlier is [`EolLevel::Expired`]; within 30, 60 or 90 days
/// [`EolLevel::Within30`], [`EolLevel::Within60`], [`EolLevel::Within90`]; later
/// [`EolLevel::Supported`]. A release older than the whole table has certainly expired (every
/// older release ended before the oldest one listed); a newer one, or a version that cannot be
/// read, is [`EolLevel::Unknown`].
pub fn status(server_version: &str, today: NaiveDate) -> EolStatus {
    let Some(minor) = parse_minor(server_version) else {
        return EolStatus {
            minor: None,
            end_of_life: None,
            days_left: None,
            level: EolLevel::Unknown,
            message: format!(
                "“{}” is not a Kubernetes version Demarc can read (expected something like v1.31.4).",
                shown(server_version)
            ),
        };
    };
    let name = format!("Kubernetes {}.{}", minor.0, minor.1);
    let Some(r) = release(minor) else {
        return beyond_the_table(minor, &name, today);
    };
    let days = (r.end_of_life - today).num_days();
    let date = if r.projected {
        format!("{} (projected)", human_date(r.end_of_life))
    } else {
        human_date(r.end_of_life)
    };
    let (level, message) = match days {
        ..0 => (
            EolLevel::Expired,
            format!(
                "{name} reached end of life on {date} ({} ago)",
                days_word(-days)
            ),
        ),
        0 => (
            EolLevel::Expired,
            format!("{name} reaches end of life today, {date}: upgrade now"),
        ),
        1..=90 => (
            match days {
                1..=30 => EolLevel::Within30,
                31..=60 => EolLevel::Within60,
                _ => EolLevel::Within90,
            },
            format!(
                "{name} reaches end of life on {date} in {}: plan the upgrade",
                days_word(days)
            ),
        ),
        _ => (
            EolLevel::Supported,
            format!(
                "{name} is supported until {date} ({} left)",
                days_word(days)
            ),
        ),
    };
    EolStatus {
        minor: Some(minor),
        end_of_life: Some(r.end_of_life),
        days_left: Some(days),
        level,
        message,
    }
}

/// A readable minor release the table does not list.
fn beyond_the_table(minor: (u32, u32), name: &str, today: NaiveDate) -> EolStatus {
    let oldest = releases().first();
    let (level, message) = match oldest {
        Some(o) if minor.0 == o.minor.0 && minor < o.minor && o.end_of_life < today => (
            EolLevel::Expired,
            format!(
                "{name} is older than Kubernetes {}.{}, which reached end of life on {}: it no \
                 longer receives patches",
                o.minor.0,
                o.minor.1,
                human_date(o.end_of_life)
            ),
        ),
        _ => (
            EolLevel::Unknown,
            format!(
                "Demarc does not know when {name} reaches end of life: its Kubernetes release \
                 table may need updating"
            ),
        ),
    };
    EolStatus {
        minor: Some(minor),
        end_of_life: None,
        days_left: None,
        level,
        message,
    }
}

fn days_word(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// At most 40 characters of unreadable input, without control characters, for a message.
fn shown(value: &str) -> String {
    let value = value.trim();
    let mut out: String = value.chars().filter(|c| !c.is_control()).take(40).collect();
    if value.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_release_table_covers_1_25_to_1_38_in_order() {
        let table = releases();
        let minors: Vec<u32> = table.iter().map(|r| r.minor.1).collect();
        assert_eq!(minors, (25..=38).collect::<Vec<_>>());
        assert!(table.iter().all(|r| r.minor.0 == 1));
        for w in table.windows(2) {
            assert!(w[0].released < w[1].released);
            assert!(w[0].end_of_life < w[1].end_of_life);
            // Once a date is projected, every later one is too.
            assert!(!w[0].projected || w[1].projected);
        }
        for r in table {
            // Upstream supports a minor release for about 14 months.
            let months = (r.end_of_life - r.released).num_days() / 30;
            assert!(
                (12..=16).contains(&months),
                "{:?}: {months} months",
                r.minor
            );
        }
        for (minor, eol) in [
            (29, d(2025, 2, 28)),
            (30, d(2025, 6, 28)),
            (31, d(2025, 10, 28)),
            (32, d(2026, 2, 28)),
            (33, d(2026, 6, 28)),
            (34, d(2026, 10, 27)),
            (35, d(2027, 2, 28)),
        ] {
            assert_eq!(end_of_life((1, minor)), Some(eol), "1.{minor}");
            assert!(!release((1, minor)).unwrap().projected);
        }
        assert!(release((1, 36)).unwrap().projected);
        assert_eq!(end_of_life((1, 24)), None);
        assert_eq!(end_of_life((1, 39)), None);
    }

    #[test]
    fn versions_read_in_every_form_clusters_report() {
        for (version, minor) in [
            ("v1.31.4-eks-2d98532", (1, 31)),
            ("1.31", (1, 31)),
            ("v1.29.10-gke.1227000", (1, 29)),
            ("1.31+", (1, 31)),
            (" V1.30.2+k3s1 ", (1, 30)),
            ("v1.28.0", (1, 28)),
            ("1.33-alpha.1", (1, 33)),
        ] {
            assert_eq!(parse_minor(version), Some(minor), "{version:?}");
        }
        for junk in [
            "",
            "v",
            "1",
            "1.",
            ".31",
            "1.x",
            "1.31abc",
            "latest",
            "1..31",
            "v 1.31",
            "99999999999.1",
            "1.99999999999",
            "१.३१",
            &"1.31.".repeat(100),
        ] {
            assert_eq!(parse_minor(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn full_versions_keep_the_patch_and_agree_with_the_minor() {
        for (version, full) in [
            ("1.31.4", (1, 31, 4)),
            ("v1.31.6", (1, 31, 6)),
            ("v1.31.4-eks-2d98532", (1, 31, 4)),
            ("v1.29.10-gke.1227000", (1, 29, 10)),
            (" V1.30.2+k3s1 ", (1, 30, 2)),
            ("1.31", (1, 31, 0)),
            ("v1.32", (1, 32, 0)),
            ("1.31+", (1, 31, 0)),
            ("1.33-alpha.1", (1, 33, 0)),
        ] {
            assert_eq!(parse_version(version), Some(full), "{version:?}");
            assert_eq!(
                parse_minor(version),
                Some((full.0, full.1)),
                "the same minor: {version:?}"
            );
        }
        for junk in [
            "",
            "1",
            "1.",
            "1.31.",
            "1.31.x",
            "1.31.4.5",
            "1.31.4abc",
            "latest",
        ] {
            assert_eq!(parse_version(junk), None, "{junk:?}");
        }
        // A patch upgrade is newer; the prefix does not make another version.
        assert!(parse_version("1.31.6") > parse_version("1.31.4"));
        assert!(parse_version("1.31.10") > parse_version("1.31.9"));
        assert!(parse_version("1.32") > parse_version("1.31.14"));
        assert_eq!(parse_version("1.32"), parse_version("v1.32.0"));
    }

    #[test]
    fn an_expired_release_says_how_long_ago() {
        let s = status("v1.31.4-eks-2d98532", d(2025, 11, 26));
        assert_eq!(s.level, EolLevel::Expired);
        assert_eq!(s.minor, Some((1, 31)));
        assert_eq!(s.end_of_life, Some(d(2025, 10, 28)));
        assert_eq!(s.days_left, Some(-29));
        assert_eq!(
            s.message,
            "Kubernetes 1.31 reached end of life on Tue 28 Oct 2025 (29 days ago)"
        );
        let s = status("1.31", d(2025, 10, 29));
        assert_eq!(
            s.message,
            "Kubernetes 1.31 reached end of life on Tue 28 Oct 2025 (1 day ago)"
        );
        let s = status("1.31", d(2025, 10, 28));
        assert_eq!(s.level, EolLevel::Expired);
        assert_eq!(s.days_left, Some(0));
        assert_eq!(
            s.message,
            "Kubernetes 1.31 reaches end of life today, Tue 28 Oct 2025: upgrade now"
        );
    }

    #[test]
    fn levels_change_at_90_60_and_30_days() {
        let eol = d(2026, 6, 28); // 1.33
        for (days, level) in [
            (365, EolLevel::Supported),
            (91, EolLevel::Supported),
            (90, EolLevel::Within90),
            (61, EolLevel::Within90),
            (60, EolLevel::Within60),
            (31, EolLevel::Within60),
            (30, EolLevel::Within30),
            (1, EolLevel::Within30),
            (0, EolLevel::Expired),
            (-400, EolLevel::Expired),
        ] {
            let today = eol - chrono::Duration::days(days);
            let s = status("1.33+", today);
            assert_eq!(s.level, level, "{days} days before");
            assert_eq!(s.days_left, Some(days));
        }
        let s = status("v1.33.1", eol - chrono::Duration::days(45));
        assert_eq!(
            s.message,
            "Kubernetes 1.33 reaches end of life on Sun 28 Jun 2026 in 45 days: plan the upgrade"
        );
        let s = status("v1.34.2", d(2025, 11, 26));
        assert_eq!(
            s.message,
            "Kubernetes 1.34 is supported until Tue 27 Oct 2026 (335 days left)"
        );
    }

    #[test]
    fn projected_dates_say_so() {
        let s = status("v1.36.0", d(2027, 5, 1));
        assert_eq!(s.level, EolLevel::Within60);
        assert_eq!(
            s.message,
            "Kubernetes 1.36 reaches end of life on Mon 28 Jun 2027 (projected) in 58 days: \
             plan the upgrade"
        );
    }

    #[test]
    fn unknown_and_unreadable_versions() {
        let s = status("v1.39.0", d(2027, 1, 1));
        assert_eq!(s.level, EolLevel::Unknown);
        assert_eq!(s.minor, Some((1, 39)));
        assert_eq!(s.end_of_life, None);
        assert!(
            s.message.contains("release table may need updating"),
            "{}",
            s.message
        );
        assert_eq!(status("2.0", d(2027, 1, 1)).level, EolLevel::Unknown);

        let s = status("v1.22.17", d(2026, 1, 1));
        assert_eq!(s.level, EolLevel::Expired);
        assert_eq!(s.days_left, None);
        assert_eq!(
            s.message,
            "Kubernetes 1.22 is older than Kubernetes 1.25, which reached end of life on Sat 28 \
             Oct 2023: it no longer receives patches"
        );
        // Before 1.25's end of life, an older release is not known to have ended.
        assert_eq!(status("1.22", d(2023, 1, 1)).level, EolLevel::Unknown);

        let s = status("garbage\n\u{1b}[31m", d(2026, 1, 1));
        assert_eq!(s.level, EolLevel::Unknown);
        assert_eq!(s.minor, None);
        assert!(!s.message.contains(['\n', '\u{1b}']));
        let long = status(&"x".repeat(10_000), d(2026, 1, 1));
        assert!(long.message.len() < 200);
    }

    #[test]
    fn the_level_serializes_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&EolLevel::Within30).unwrap(),
            "\"within_30\""
        );
        assert_eq!(
            serde_json::to_string(&EolLevel::Expired).unwrap(),
            "\"expired\""
        );
    }
}
