//! The maintenance calendar as an RFC 5545 feed (`text/calendar`) that Outlook, Google Calendar
//! and Apple Calendar subscribe to.
//!
//! The text is written by hand rather than from a template because the format's rules are
//! line-level: TEXT values escape backslash, semicolon, comma and newlines (section 3.3.11), and
//! every content line longer than 75 octets is folded onto continuation lines that start with a
//! space (section 3.1), never inside a UTF-8 character. Lines end in CRLF.
//!
//! Every time is written in UTC (`20261126T220000Z`), so the feed needs no `VTIMEZONE`; calendar
//! apps show it in the reader's own zone. All-day events (blackouts, holidays) use `VALUE=DATE`
//! with an exclusive end, as the RFC requires.
//!
//! The feed is rendered into one `String` sized up front; a reused scratch buffer holds each
//! logical line before it is folded into the output, so rendering allocates a handful of times
//! however many events there are.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// The longest content line RFC 5545 allows, in octets, excluding the CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// Whether an event is going ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Planned but not yet confirmed (a window a plan gives but nobody has confirmed).
    Tentative,
    /// Going ahead.
    Confirmed,
    /// Called off: subscribers keep seeing it, struck through, until it drops out of the feed.
    Cancelled,
}

impl EventStatus {
    fn as_str(self) -> &'static str {
        match self {
            EventStatus::Tentative => "TENTATIVE",
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

/// When an event takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// From `start` to `end` (an end before the start is written as the start).
    Timed {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// Whole days from `first` to `last`, both included (a `last` before `first` means one day).
    AllDay { first: NaiveDate, last: NaiveDate },
}

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Globally unique and stable across renders (for example `window-<uuid>@demarc`), so that
    /// calendar apps update the event instead of adding a copy.
    pub uid: String,
    /// Revision number: raise it whenever the event changes, or apps may ignore the change.
    /// A negative number is written as 0.
    pub sequence: i64,
    /// Whether it is going ahead.
    pub status: EventStatus,
    /// When.
    pub when: When,
    /// The title.
    pub summary: String,
    /// The body text (left out when empty).
    pub description: String,
    /// Where, for example the cluster's name.
    pub location: Option<String>,
    /// A link back to the event's page in Demarc.
    pub url: Option<String>,
    /// Labels such as the environment kind; each is escaped, so one may contain a comma.
    pub categories: Vec<String>,
    /// When the event last changed.
    pub last_modified: DateTime<Utc>,
}

/// The feed: a `VCALENDAR` named `calendar_name` with one `VEVENT` per event, `stamp` as every
/// event's `DTSTAMP` (the time the feed was generated).
pub fn render(calendar_name: &str, events: &[FeedEvent], stamp: DateTime<Utc>) -> String {
    let mut w = Writer::with_capacity(estimate(calendar_name, events));
    w.raw("BEGIN:VCALENDAR");
    w.raw("VERSION:2.0");
    w.raw("PRODID:-//Demarc//Maintenance calendar//EN");
    w.raw("CALSCALE:GREGORIAN");
    w.raw("METHOD:PUBLISH");
    w.text("X-WR-CALNAME", calendar_name);
    // How often subscribers should fetch the feed again (RFC 7986 and Outlook's older name).
    w.raw("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    w.raw("X-PUBLISHED-TTL:PT1H");
    for event in events {
        w.event(event, stamp);
    }
    w.raw("END:VCALENDAR");
    w.out
}

/// A capacity that holds a typical feed without growing: the fixed lines plus each event's text,
/// with room for escapes and folds.
fn estimate(calendar_name: &str, events: &[FeedEvent]) -> usize {
    let per_event: usize = events
        .iter()
        .map(|e| {
            let text = e.uid.len()
                + e.summary.len()
                + e.description.len()
                + e.location.as_ref().map_or(0, String::len)
                + e.url.as_ref().map_or(0, String::len)
                + e.categories.iter().map(|c| c.len() + 1).sum::<usize>();
            // About 330 octets of names, times and line ends; a fold or an escape every 64.
            330 + text + text / 16
        })
        .sum();
    256 + calendar_name.len() + per_event
}

/// Writes content lines into `out`, folding them.
struct Writer {
    out: String,
    /// The logical line being built (reused for every line).
    line: String,
}

impl Writer {
    fn with_capacity(capacity: usize) -> Self {
        Writer {
            out: String::with_capacity(capacity),
            line: String::with_capacity(256),
        }
    }

    /// A line that is already valid (fixed names and values, short): no escaping, no folding.
    fn raw(&mut self, line: &str) {
        self.out.push_str(line);
        self.out.push_str("\r\n");
    }

    /// `NAME:value` with `value` escaped as TEXT.
    fn text(&mut self, name: &str, value: &str) {
        self.line.clear();
        self.line.push_str(name);
        self.line.push(':');
        escape_text(&mut self.line, value);
        self.flush();
    }

    /// `NAME:value` for a URI or another non-TEXT value: control characters are dropped (they
    /// would end the line early), nothing is escaped.
    fn verbatim(&mut self, name: &str, value: &str) {
        self.line.clear();
        self.line.push_str(name);
        self.line.push(':');
        self.line
            .extend(value.chars().filter(|c| !c.is_control() || *c == '\t'));
        self.flush();
    }

    /// `NAME:20261126T220000Z`.
    fn utc(&mut self, name: &str, t: DateTime<Utc>) {
        self.out.push_str(name);
        self.out.push(':');
        push_utc(&mut self.out, t);
        self.out.push_str("\r\n");
    }

    /// `NAME;VALUE=DATE:20261224`.
    fn date(&mut self, name: &str, d: NaiveDate) {
        self.out.push_str(name);
        self.out.push_str(";VALUE=DATE:");
        push_date(&mut self.out, d);
        self.out.push_str("\r\n");
    }

    fn event(&mut self, e: &FeedEvent, stamp: DateTime<Utc>) {
        self.raw("BEGIN:VEVENT");
        self.text("UID", &e.uid);
        self.utc("DTSTAMP", stamp);
        match e.when {
            When::Timed { start, end } => {
                self.utc("DTSTART", start);
                self.utc("DTEND", end.max(start));
            }
            When::AllDay { first, last } => {
                let last = last.max(first);
                self.date("DTSTART", first);
                // DTEND of an all-day event is exclusive: the day after the last one.
                self.date("DTEND", last.succ_opt().unwrap_or(last));
            }
        }
        self.out.push_str("SEQUENCE:");
        push_int(&mut self.out, e.sequence.max(0));
        self.out.push_str("\r\nSTATUS:");
        self.out.push_str(e.status.as_str());
        self.out.push_str("\r\n");
        self.text("SUMMARY", &e.summary);
        if !e.description.is_empty() {
            self.text("DESCRIPTION", &e.description);
        }
        if let Some(location) = e.location.as_deref().filter(|l| !l.is_empty()) {
            self.text("LOCATION", location);
        }
        if let Some(url) = e.url.as_deref().filter(|u| !u.is_empty()) {
            self.verbatim("URL", url);
        }
        if !e.categories.is_empty() {
            self.line.clear();
            self.line.push_str("CATEGORIES:");
            for (i, category) in e.categories.iter().enumerate() {
                if i > 0 {
                    self.line.push(',');
                }
                escape_text(&mut self.line, category);
            }
            self.flush();
        }
        self.utc("LAST-MODIFIED", e.last_modified);
        self.raw("TRANSP:OPAQUE");
        self.raw("END:VEVENT");
    }

    /// Folds the logical line into the output and ends it.
    fn flush(&mut self) {
        fold_into(&mut self.out, &self.line);
        self.out.push_str("\r\n");
    }
}

/// Appends `line` to `out`, breaking it every 75 octets with CRLF + space; a break never falls
/// inside a UTF-8 character (it moves back to the character's start).
fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    // The first line holds 75 octets; a continuation line 74 after its leading space.
    let mut limit = MAX_LINE_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push_str(head);
        out.push_str("\r\n ");
        rest = tail;
        limit = MAX_LINE_OCTETS - 1;
    }
    out.push_str(rest);
}

/// Appends `value` escaped as an RFC 5545 TEXT value. CRLF, CR and LF become `\n`; other control
/// characters (which TEXT does not allow) are dropped; a tab is kept.
fn escape_text(out: &mut String, value: &str) {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// `YYYYMMDDTHHMMSSZ` (seconds kept, fractions dropped).
fn push_utc(out: &mut String, t: DateTime<Utc>) {
    push_date(out, t.date_naive());
    out.push('T');
    push_2(out, t.hour());
    push_2(out, t.minute());
    push_2(out, t.second());
    out.push('Z');
}

/// `YYYYMMDD`. RFC 5545 years have four digits: a year outside 0..=9999 is written as the nearest
/// one in range (no real maintenance event is that far away).
fn push_date(out: &mut String, d: NaiveDate) {
    let year = u32::try_from(d.year().clamp(0, 9999)).unwrap_or(0);
    push_2(out, year / 100);
    push_2(out, year % 100);
    push_2(out, d.month());
    push_2(out, d.day());
}

/// Two digits, zero-padded (`n` is below 100).
fn push_2(out: &mut String, n: u32) {
    const DIGITS: &[u8; 10] = b"0123456789";
    out.push(char::from(DIGITS[(n / 10 % 10) as usize]));
    out.push(char::from(DIGITS[(n % 10) as usize]));
}

/// A non-negative integer in decimal.
fn push_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime, EventLike};

    fn t(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn window(uid: &str) -> FeedEvent {
        FeedEvent {
            uid: uid.into(),
            sequence: 3,
            status: EventStatus::Confirmed,
            when: When::Timed {
                start: t(2026, 11, 26, 22, 0),
                end: t(2026, 11, 27, 6, 0),
            },
            summary: "Maintenance: prod-eu-1".into(),
            description: "Node pool upgrade".into(),
            location: Some("prod-eu-1".into()),
            url: Some("https://demarc.example/calendar/windows/1?tab=a,b;c".into()),
            categories: vec!["production".into()],
            last_modified: t(2026, 11, 20, 9, 30),
        }
    }

    /// Parses a feed with the `icalendar` crate and returns its events.
    fn parse(feed: &str) -> Vec<icalendar::Event> {
        let calendar: Calendar = feed.parse().expect("the feed parses");
        calendar
            .components
            .into_iter()
            .filter_map(|c| match c {
                CalendarComponent::Event(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_feed_parses_back_with_its_uids_sequences_statuses_and_utc_times() {
        let mut cancelled = window("window-2@demarc");
        cancelled.status = EventStatus::Cancelled;
        cancelled.sequence = 7;
        let mut tentative = window("window-3@demarc");
        tentative.status = EventStatus::Tentative;
        tentative.sequence = -4;
        let feed = render(
            "Demarc: payments",
            &[window("window-1@demarc"), cancelled, tentative],
            t(2026, 11, 26, 8, 15),
        );

        let calendar: Calendar = feed.parse().unwrap();
        let name = calendar
            .properties
            .iter()
            .find(|p| p.key() == "X-WR-CALNAME")
            .map(|p| p.value().to_owned());
        assert_eq!(name.as_deref(), Some("Demarc: payments"));

        let events = parse(&feed);
        let uids: Vec<_> = events.iter().map(|e| e.get_uid().unwrap()).collect();
        assert_eq!(
            uids,
            ["window-1@demarc", "window-2@demarc", "window-3@demarc"]
        );
        let sequences: Vec<_> = events.iter().map(|e| e.get_sequence()).collect();
        assert_eq!(sequences, [Some(3), Some(7), Some(0)]);
        let statuses: Vec<_> = events.iter().map(|e| e.get_status()).collect();
        assert_eq!(
            statuses,
            [
                Some(icalendar::EventStatus::Confirmed),
                Some(icalendar::EventStatus::Cancelled),
                Some(icalendar::EventStatus::Tentative)
            ]
        );
        assert!(feed.contains("\r\nSTATUS:CANCELLED\r\n"));

        let first = &events[0];
        assert_eq!(
            first.get_start(),
            Some(DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(
                t(2026, 11, 26, 22, 0)
            )))
        );
        assert_eq!(
            first.get_end(),
            Some(DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(
                t(2026, 11, 27, 6, 0)
            )))
        );
        assert_eq!(first.get_timestamp(), Some(t(2026, 11, 26, 8, 15)));
        assert_eq!(first.get_last_modified(), Some(t(2026, 11, 20, 9, 30)));
        assert_eq!(first.get_location(), Some("prod-eu-1"));
        assert_eq!(
            first.get_url(),
            Some("https://demarc.example/calendar/windows/1?tab=a,b;c")
        );
        assert!(feed.contains("\r\nDTSTART:20261126T220000Z\r\nDTEND:20261127T060000Z\r\n"));
        assert!(feed.contains("\r\nTRANSP:OPAQUE\r\n"));
    }

    #[test]
    fn the_calendar_header_has_the_publishing_properties() {
        let feed = render("Demarc", &[], t(2026, 1, 1, 0, 0));
        assert_eq!(
            feed,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Demarc//Maintenance calendar//EN\r\n\
             CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Demarc\r\n\
             REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\nEND:VCALENDAR\r\n"
        );
    }

    #[test]
    fn all_day_events_end_the_day_after_their_last_day() {
        let mut blackout = window("blackout-1@demarc");
        blackout.when = When::AllDay {
            first: day(2026, 12, 24),
            last: day(2026, 12, 31),
        };
        let mut one_day = window("holiday-1@demarc");
        // A last day before the first is one day, not a negative span.
        one_day.when = When::AllDay {
            first: day(2027, 1, 1),
            last: day(2026, 1, 1),
        };
        let feed = render("Demarc", &[blackout, one_day], t(2026, 11, 26, 0, 0));
        assert!(feed.contains("\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20270101\r\n"));
        let events = parse(&feed);
        assert_eq!(
            events[0].get_start(),
            Some(DatePerhapsTime::Date(day(2026, 12, 24)))
        );
        assert_eq!(
            events[0].get_end(),
            Some(DatePerhapsTime::Date(day(2027, 1, 1)))
        );
        assert_eq!(
            events[1].get_end(),
            Some(DatePerhapsTime::Date(day(2027, 1, 2)))
        );
    }

    #[test]
    fn text_with_commas_semicolons_backslashes_newlines_and_emoji_survives_a_round_trip() {
        let mut e = window("odd,uid;1@demarc");
        e.summary = "Upgrade 1.31 → 1.32, then; reboot \\ drain 🚧".into();
        e.description = "Line one\nLine two\r\nLine three\rLine four\u{7}, done\tok".into();
        e.location = Some("eu-west, rack 4; row \"B\"".into());
        e.categories = vec!["production".into(), "a, b; c".into(), "🚀".into()];
        let feed = render("Team \"A\", B; C", &[e.clone()], t(2026, 11, 26, 0, 0));
        assert!(feed.contains("X-WR-CALNAME:Team \"A\"\\, B\\; C\r\n"));
        assert!(feed.contains("CATEGORIES:production,a\\, b\\; c,🚀\r\n"));

        let events = parse(&feed);
        assert_eq!(events[0].get_uid(), Some("odd,uid;1@demarc"));
        assert_eq!(events[0].get_summary(), Some(e.summary.as_str()));
        assert_eq!(
            events[0].get_description(),
            Some("Line one\nLine two\nLine three\nLine four, done\tok")
        );
        assert_eq!(events[0].get_location(), e.location.as_deref());
        assert_eq!(events[0].get_categories(), Some(e.categories));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters_and_unfold_to_the_same_text() {
        // 300 characters mixing 1-, 2-, 3- and 4-octet UTF-8 so that folds land everywhere.
        let summary: String = "aé€🚧,".chars().cycle().take(300).collect::<String>();
        assert_eq!(summary.chars().count(), 300);
        let mut e = window("long@demarc");
        e.summary = summary.clone();
        e.description = "ü".repeat(500);
        e.url = Some(format!("https://demarc.example/{}", "x".repeat(200)));
        let feed = render("Demarc", &[e], t(2026, 11, 26, 0, 0));

        assert!(feed.ends_with("\r\n"));
        for line in feed.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
            assert!(!line.contains(['\r', '\n']));
        }
        assert!(feed.split("\r\n").filter(|l| l.starts_with(' ')).count() > 10);

        let events = parse(&feed);
        assert_eq!(events[0].get_summary(), Some(summary.as_str()));
        assert_eq!(events[0].get_description(), Some("ü".repeat(500).as_str()));
        assert_eq!(
            events[0].get_url(),
            Some(format!("https://demarc.example/{}", "x".repeat(200)).as_str())
        );
    }

    #[test]
    fn folding_breaks_before_a_character_that_would_cross_the_limit() {
        let mut out = String::new();
        // 74 ASCII octets, then a 4-octet emoji: the first line keeps 74 octets.
        let line = format!("{}🚧{}", "a".repeat(74), "b".repeat(80));
        fold_into(&mut out, &line);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines[0].len(), 74);
        assert_eq!(lines[1], format!(" 🚧{}", "b".repeat(70)));
        assert_eq!(lines[2], format!(" {}", "b".repeat(10)));
        assert_eq!(icalendar::parser::unfold(&out), line);

        let mut short = String::new();
        fold_into(&mut short, &"c".repeat(75));
        assert_eq!(short, "c".repeat(75));
    }

    #[test]
    fn dates_and_numbers_are_written_as_the_rfc_wants() {
        let mut out = String::new();
        push_utc(&mut out, t(987, 3, 4, 5, 6));
        assert_eq!(out, "09870304T050600Z");
        out.clear();
        push_date(&mut out, NaiveDate::MAX);
        assert_eq!(out.len(), 8);
        out.clear();
        for n in [0, 7, 10, 1_234_567, i64::MAX] {
            out.clear();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn a_thousand_events_render_into_one_allocation() {
        let events: Vec<FeedEvent> = (0..1000)
            .map(|i| window(&format!("window-{i}@demarc")))
            .collect();
        let feed = render("Demarc", &events, t(2026, 11, 26, 0, 0));
        assert!(feed.capacity() >= feed.len());
        assert!(
            feed.len() <= estimate("Demarc", &events),
            "the estimate is too small"
        );
        assert_eq!(parse(&feed).len(), 1000);
    }
}
