//! Input rules shared by the UI (inline validation) and the server (the authority).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::model::{ApiTokenInput, ApplicationInput, EnvironmentInput, PlatformInput, TeamInput};

/// Collects per-field messages and turns them into one [`Error::Invalid`].
#[derive(Debug, Default)]
pub struct Problems(BTreeMap<String, String>);

impl Problems {
    /// Records a problem with a field (the first one per field wins).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages by field.
    pub fn into_fields(self) -> BTreeMap<String, String> {
        self.0
    }

    /// Ok when nothing was recorded.
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid { fields: self.0 })
        }
    }
}

/// The first year a calendar date may be in: nothing Demarc schedules or records is older.
pub const FIRST_YEAR: i32 = 1970;
/// The last year a calendar date may be in: far enough for any plan, near enough that adding a
/// year or a long blackout to it stays well inside what dates and the database can hold.
pub const LAST_YEAR: i32 = 2200;

fn year_message() -> String {
    format!("must be a date in the years {FIRST_YEAR} to {LAST_YEAR}")
}

/// A calendar day someone typed or sent (a range's ends, a blackout, a window, a due date):
/// in the years [`FIRST_YEAR`] to [`LAST_YEAR`].
pub fn date(problems: &mut Problems, field: &str, value: NaiveDate) {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&value.year()) {
        problems.add(field, year_message());
    }
}

/// An instant someone typed or sent (a drill's or an emergency's start and end): its UTC day in
/// the years [`FIRST_YEAR`] to [`LAST_YEAR`].
pub fn instant(problems: &mut Problems, field: &str, value: DateTime<Utc>) {
    date(problems, field, value.date_naive());
}

/// [`date`] for one field on its own: the day, or an [`Error::Invalid`] naming the field.
pub fn day(field: &str, value: NaiveDate) -> Result<NaiveDate> {
    let mut p = Problems::default();
    date(&mut p, field, value);
    p.finish().map(|()| value)
}

/// A DNS-label-like identifier: what Kubernetes accepts for a namespace.
pub fn slug(problems: &mut Problems, field: &str, value: &str) {
    if value.is_empty() {
        problems.add(field, "is required");
    } else if value.len() > 63 {
        problems.add(field, "must be at most 63 characters");
    } else if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || value.starts_with('-')
        || value.ends_with('-')
    {
        problems.add(
            field,
            "must use lowercase letters, digits and dashes, and start and end with a letter or digit",
        );
    }
}

/// A display name.
pub fn name(problems: &mut Problems, field: &str, value: &str) {
    if value.trim().is_empty() {
        problems.add(field, "is required");
    } else if value.chars().count() > 120 {
        problems.add(field, "must be at most 120 characters");
    }
}

fn text(problems: &mut Problems, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        problems.add(field, format!("must be at most {max} characters"));
    }
}

/// Trims a team's fields and checks them.
pub fn team(input: &mut TeamInput) -> Result<()> {
    input.slug = input.slug.trim().to_owned();
    input.name = input.name.trim().to_owned();
    let mut p = Problems::default();
    slug(&mut p, "slug", &input.slug);
    name(&mut p, "name", &input.name);
    text(&mut p, "description", &input.description, 2000);
    text(&mut p, "contact", &input.contact, 200);
    p.finish()
}

/// Trims a platform's fields and checks them.
pub fn platform(input: &mut PlatformInput) -> Result<()> {
    input.slug = input.slug.trim().to_owned();
    input.name = input.name.trim().to_owned();
    let mut p = Problems::default();
    slug(&mut p, "slug", &input.slug);
    name(&mut p, "name", &input.name);
    text(&mut p, "description", &input.description, 2000);
    p.finish()
}

/// Trims an environment's fields and checks them.
pub fn environment(input: &mut EnvironmentInput) -> Result<()> {
    input.slug = input.slug.trim().to_owned();
    input.name = input.name.trim().to_owned();
    let mut p = Problems::default();
    slug(&mut p, "slug", &input.slug);
    name(&mut p, "name", &input.name);
    if !(0..=1000).contains(&input.position) {
        p.add("position", "must be between 0 and 1000");
    }
    p.finish()
}

/// Trims an application's fields and checks them (existence of team and environments is checked
/// by the store).
pub fn application(input: &mut ApplicationInput) -> Result<()> {
    input.slug = input.slug.trim().to_owned();
    input.name = input.name.trim().to_owned();
    let mut p = Problems::default();
    slug(&mut p, "slug", &input.slug);
    name(&mut p, "name", &input.name);
    text(&mut p, "description", &input.description, 2000);
    if input.team_id.is_nil() {
        p.add("team_id", "is required");
    }
    for placement in &mut input.placements {
        placement.namespace = placement.namespace.trim().to_owned();
        slug(&mut p, "placements", &placement.namespace);
    }
    input.placements.sort();
    input.placements.dedup();
    if input.placements.len() > 100 {
        p.add("placements", "must list at most 100 namespaces");
    }
    p.finish()
}

/// Checks a token request.
pub fn api_token(input: &mut ApiTokenInput) -> Result<()> {
    input.name = input.name.trim().to_owned();
    let mut p = Problems::default();
    name(&mut p, "name", &input.name);
    if input.scope != "read" && input.scope != "write" {
        p.add("scope", "must be read or write");
    }
    if !(1..=365).contains(&input.expires_in_days) {
        p.add("expires_in_days", "must be between 1 and 365 days");
    }
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_with_capitals_names_the_field() {
        let mut input = TeamInput {
            slug: "Payments".into(),
            name: "Payments".into(),
            ..Default::default()
        };
        let err = team(&mut input).unwrap_err();
        assert!(err.field_errors()["slug"].contains("lowercase"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut input = TeamInput {
            slug: "".into(),
            name: "  ".into(),
            ..Default::default()
        };
        let fields = team(&mut input).unwrap_err().field_errors();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields["name"], "is required");
    }

    #[test]
    fn input_is_trimmed_before_it_is_checked() {
        let mut input = PlatformInput {
            slug: " core ".into(),
            name: " Core ".into(),
            ..Default::default()
        };
        platform(&mut input).unwrap();
        assert_eq!(input.slug, "core");
        assert_eq!(input.name, "Core");
    }

    #[test]
    fn dates_outside_the_supported_years_name_their_field() {
        use chrono::TimeZone;
        let ok = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        assert_eq!(day("from", ok).unwrap(), ok);
        for y in [FIRST_YEAR, LAST_YEAR] {
            assert!(day("from", NaiveDate::from_ymd_opt(y, 6, 1).unwrap()).is_ok());
        }
        for bad in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(FIRST_YEAR - 1, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(LAST_YEAR + 1, 1, 1).unwrap(),
        ] {
            let fields = day("first_day", bad).unwrap_err().field_errors();
            assert!(fields["first_day"].contains("1970 to 2200"), "{bad}");
        }
        let mut p = Problems::default();
        instant(&mut p, "starts_at", DateTime::<Utc>::MAX_UTC);
        instant(
            &mut p,
            "ends_at",
            Utc.with_ymd_and_hms(2027, 3, 9, 20, 0, 0).unwrap(),
        );
        assert_eq!(
            p.into_fields().into_keys().collect::<Vec<_>>(),
            ["starts_at"]
        );
    }

    #[test]
    fn token_lifetime_is_bounded() {
        let mut input = ApiTokenInput {
            name: "ci".into(),
            scope: "admin".into(),
            expires_in_days: 0,
        };
        let fields = api_token(&mut input).unwrap_err().field_errors();
        assert!(fields.contains_key("scope"));
        assert!(fields.contains_key("expires_in_days"));
    }
}
