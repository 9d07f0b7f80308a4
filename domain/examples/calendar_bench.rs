//! The maintenance calendar's benchmark: 200 environments with plans and blackouts.
//!
//! * 100 staging plans with mixed recurrences (weekly, a day of the month, the second Tuesday,
//!   the last Monday) in Europe/Amsterdam, America/New_York, Asia/Tokyo and Australia/Sydney;
//! * 100 production plans, each following one staging plan after a soak of 1 to 10 working
//!   days, some of them in another zone than their staging plan;
//! * about 10 blackouts a year on every environment (the public holidays of a country that
//!   fits the zone, plus a few freezes of 2 to 5 days), half skipping and half moving windows.
//!
//! Over 5 years it times (best and median of `--runs` runs, default 20):
//!
//! 1. `expand` of the 100 staging plans alone;
//! 2. `schedules` of the 100 pairs: expand staging, derive production, apply both sides'
//!    blackouts;
//!    (2b) is the same without blackouts, to show what applying them costs;
//! 3. `validate_skew` of the 100 pairs: all of (2) plus the skew check, which is what the
//!    server does when a plan or a blackout changes (goal < 50 ms);
//! 4. `ics::render` of a feed with 1,000 events (goal < 20 ms).
//!
//! ```sh
//! cargo run --release -p domain --example calendar_bench [-- --runs 50]
//! ```
//!
//! It prints a Markdown table on standard output (scripts/bench-calendar records it in
//! BENCHMARKS.md). Only the domain crate's default features are needed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use domain::calendar::holidays;
use domain::calendar::ics::{self, EventStatus, FeedEvent, When};
use domain::calendar::{
    Blackout, BlackoutPolicy, Ordinal, Plan, PlanInput, ProductionPlan, ProductionPlanInput,
    Recurrence, expand, schedules, validate_skew,
};

const PAIRS: usize = 100;
const YEARS: i32 = 5;
const FIRST_YEAR: i32 = 2027;
const FEED_EVENTS: usize = 1_000;

const ZONES: [(&str, &str); 4] = [
    ("Europe/Amsterdam", "NL"),
    ("America/New_York", "US"),
    ("Asia/Tokyo", "GB"),
    ("Australia/Sydney", "IE"),
];

/// A small deterministic generator (xorshift64*), so every run measures the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Environments {
    pairs: Vec<Pair>,
}

struct Pair {
    staging: Plan,
    staging_blackouts: Vec<Blackout>,
    production: ProductionPlan,
    production_blackouts: Vec<Blackout>,
}

fn recurrence(i: usize, rng: &mut Rng) -> Recurrence {
    let weekdays = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu];
    match i % 4 {
        0 => {
            let first = weekdays[(rng.below(4)) as usize];
            let mut days = vec![first];
            if rng.below(2) == 0 {
                days.push(Weekday::Thu);
            }
            Recurrence::Weekly { weekdays: days }
        }
        1 => Recurrence::MonthlyDay {
            day: u8::try_from(1 + rng.below(28)).unwrap_or(1),
        },
        2 => Recurrence::MonthlyWeekday {
            ordinal: Ordinal::Second,
            weekday: Weekday::Tue,
        },
        _ => Recurrence::MonthlyWeekday {
            ordinal: Ordinal::Last,
            weekday: Weekday::Mon,
        },
    }
}

fn policy(rng: &mut Rng) -> BlackoutPolicy {
    if rng.below(2) == 0 {
        BlackoutPolicy::Skip
    } else {
        BlackoutPolicy::MoveToNextAllowedDay
    }
}

/// About 10 blackouts a year: up to 7 public holidays of `country`, plus 3 freezes.
fn blackouts(country: &str, rng: &mut Rng) -> Vec<Blackout> {
    let mut out = Vec::new();
    for year in FIRST_YEAR..FIRST_YEAR + YEARS {
        if let Ok(days) = holidays::holidays(country, year) {
            out.extend(days.into_iter().take(7).map(|h| Blackout {
                first_day: h.date,
                last_day: h.date,
                reason: h.name,
            }));
        }
        for _ in 0..3 {
            let ordinal = u32::try_from(1 + rng.below(360)).unwrap_or(1);
            let Some(first) = NaiveDate::from_yo_opt(year, ordinal) else {
                continue;
            };
            let length = 1 + rng.below(4);
            out.push(Blackout {
                first_day: first,
                last_day: first + chrono::Duration::days(i64::try_from(length).unwrap_or(1)),
                reason: "Release freeze".into(),
            });
        }
    }
    out
}

fn build() -> Environments {
    let mut rng = Rng(0x5eed_0dec_0c00_0007);
    let start_times = ["22:00", "20:00", "01:00", "23:30", "06:00"];
    let pairs = (0..PAIRS)
        .map(|i| {
            let (zone, country) = ZONES[i % ZONES.len()];
            let staging = PlanInput {
                recurrence: recurrence(i, &mut rng),
                start_time: start_times[i % start_times.len()].into(),
                time_zone: zone.into(),
                duration_hours: i64::try_from(4 + rng.below(5)).unwrap_or(4),
                blackout_policy: policy(&mut rng),
            }
            .validate()
            .expect("the generated staging plan is valid");
            let (production_zone, production_country) = if i % 2 == 0 {
                (zone, country)
            } else {
                ZONES[(i / 2) % ZONES.len()]
            };
            let production = ProductionPlanInput {
                start_time: "22:00".into(),
                time_zone: production_zone.into(),
                duration_hours: 6,
                soak_working_days: i64::try_from(1 + rng.below(10)).unwrap_or(1),
                blackout_policy: policy(&mut rng),
            }
            .validate()
            .expect("the generated production plan is valid");
            Pair {
                staging,
                staging_blackouts: blackouts(country, &mut rng),
                production,
                production_blackouts: blackouts(production_country, &mut rng),
            }
        })
        .collect();
    Environments { pairs }
}

fn horizon() -> (DateTime<Utc>, DateTime<Utc>) {
    let from = Utc
        .with_ymd_and_hms(FIRST_YEAR, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant");
    let to = Utc
        .with_ymd_and_hms(FIRST_YEAR + YEARS, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant");
    (from, to)
}

/// 1,000 feed events from the production schedules: windows, some cancelled, and all-day
/// blackouts, with text that needs escaping and folding.
fn feed_events(envs: &Environments) -> Vec<FeedEvent> {
    let (from, to) = horizon();
    let stamp = from;
    let mut events = Vec::with_capacity(FEED_EVENTS);
    'outer: for (i, pair) in envs.pairs.iter().enumerate() {
        let Some((_, production)) = schedules(
            &pair.staging,
            &pair.staging_blackouts,
            &pair.production,
            &pair.production_blackouts,
            from,
            to,
        ) else {
            continue;
        };
        for (n, o) in production.occurrences.iter().take(9).enumerate() {
            if events.len() == FEED_EVENTS {
                break 'outer;
            }
            events.push(FeedEvent {
                uid: format!("window-{i}-{n}@demarc.example"),
                sequence: i64::try_from(n % 3).unwrap_or(0),
                status: if n % 10 == 9 {
                    EventStatus::Cancelled
                } else {
                    EventStatus::Confirmed
                },
                when: When::Timed {
                    start: o.start_utc,
                    end: o.end_utc,
                },
                summary: format!("Maintenance window: prod-{i:03}, payments; search, checkout"),
                description: format!(
                    "Production follows staging after its soak period.\nNode pools drained one \
                     at a time; expect pod restarts.\nFollows staging of {:?}. Runbook: \
                     https://runbooks.example/maintenance/prod-{i:03}",
                    o.follows
                ),
                location: Some(format!("prod-{i:03} (eu-west-1, Zürich)")),
                url: Some(format!("https://demarc.example/calendar/prod-{i:03}/{n}")),
                categories: vec!["production".into(), "maintenance, planned".into()],
                last_modified: stamp,
            });
        }
        if let Some(b) = pair.production_blackouts.get(i % 10)
            && events.len() < FEED_EVENTS
        {
            events.push(FeedEvent {
                uid: format!("blackout-{i}@demarc.example"),
                sequence: 0,
                status: EventStatus::Confirmed,
                when: When::AllDay {
                    first: b.first_day,
                    last: b.last_day,
                },
                summary: format!("Blackout: {}", b.reason),
                description: String::new(),
                location: None,
                url: None,
                categories: vec!["blackout".into()],
                last_modified: stamp,
            });
        }
    }
    events
}

struct Timing {
    best: Duration,
    median: Duration,
}

fn time(runs: usize, mut f: impl FnMut()) -> Timing {
    f(); // warm-up: the lazily parsed tables, the allocator, the caches
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    all.sort();
    Timing {
        best: all[0],
        median: all[all.len() / 2],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut runs = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| {
                        eprintln!("--runs needs a positive number");
                        std::process::exit(2)
                    });
            }
            "-h" | "--help" => {
                eprintln!("usage: calendar_bench [--runs N]");
                return;
            }
            other => {
                eprintln!("unknown argument: {other} (usage: calendar_bench [--runs N])");
                std::process::exit(2);
            }
        }
    }

    let envs = build();
    let (from, to) = horizon();
    let blackout_count: usize = envs
        .pairs
        .iter()
        .map(|p| p.staging_blackouts.len() + p.production_blackouts.len())
        .sum();

    // What the timed work produces, counted once outside the timing.
    let (mut staging_windows, mut production_windows, mut skipped) = (0, 0, 0);
    for p in &envs.pairs {
        if let Some((s, prod)) = schedules(
            &p.staging,
            &p.staging_blackouts,
            &p.production,
            &p.production_blackouts,
            from,
            to,
        ) {
            staging_windows += s.occurrences.len();
            production_windows += prod.occurrences.len();
            skipped += s.skipped.len() + prod.skipped.len();
        }
    }
    let violations: usize = envs
        .pairs
        .iter()
        .map(|p| {
            validate_skew(
                &p.staging,
                &p.staging_blackouts,
                &p.production,
                &p.production_blackouts,
                from,
                to,
            )
            .len()
        })
        .sum();

    eprintln!("timing {runs} runs of each measurement after a warm-up");
    let expand_only = time(runs, || {
        for p in &envs.pairs {
            black_box(expand(black_box(&p.staging), from, to));
        }
    });
    let with_blackouts = time(runs, || {
        for p in &envs.pairs {
            black_box(schedules(
                black_box(&p.staging),
                &p.staging_blackouts,
                &p.production,
                &p.production_blackouts,
                from,
                to,
            ));
        }
    });
    let no_blackouts = time(runs, || {
        for p in &envs.pairs {
            black_box(schedules(
                black_box(&p.staging),
                &[],
                &p.production,
                &[],
                from,
                to,
            ));
        }
    });
    let full = time(runs, || {
        for p in &envs.pairs {
            black_box(validate_skew(
                black_box(&p.staging),
                &p.staging_blackouts,
                &p.production,
                &p.production_blackouts,
                from,
                to,
            ));
        }
    });

    let events = feed_events(&envs);
    let feed = ics::render("Demarc: all environments", &events, from);
    let render = time(runs, || {
        black_box(ics::render(
            "Demarc: all environments",
            black_box(&events),
            from,
        ));
    });

    let met = |t: &Timing, goal_ms: f64| {
        if t.median.as_secs_f64() * 1000.0 < goal_ms {
            "yes"
        } else {
            "**no**"
        }
    };
    println!("| measurement | best | median | goal | met |");
    println!("|---|---:|---:|---|---|");
    println!(
        "| (1) `expand`: {PAIRS} staging plans, {YEARS} years | {} | {} | | |",
        ms(expand_only.best),
        ms(expand_only.median)
    );
    println!(
        "| (2) `schedules`: expand, derive production, apply blackouts, {} environments | {} | {} | | |",
        2 * PAIRS,
        ms(with_blackouts.best),
        ms(with_blackouts.median)
    );
    println!(
        "| (2b) the same without blackouts (what applying them costs is (2) minus this) | {} | {} | | |",
        ms(no_blackouts.best),
        ms(no_blackouts.median)
    );
    println!(
        "| (3) `validate_skew`: (2) plus the skew check, {} environments, {YEARS} years | {} | {} | < 50 ms | {} |",
        2 * PAIRS,
        ms(full.best),
        ms(full.median),
        met(&full, 50.0)
    );
    println!(
        "| (4) `ics::render`: {} events, {} KB | {} | {} | < 20 ms | {} |",
        events.len(),
        feed.len() / 1024,
        ms(render.best),
        ms(render.median),
        met(&render, 20.0)
    );
    println!();
    println!(
        "- Data: {} environments, {blackout_count} blackouts; over {FIRST_YEAR}-{} the plans give \
         {staging_windows} staging and {production_windows} production windows after blackouts \
         ({skipped} skipped) and {violations} skew findings.",
        2 * PAIRS,
        FIRST_YEAR + YEARS - 1
    );
    println!("- {runs} timed runs of each measurement after a warm-up, one thread.");
}
