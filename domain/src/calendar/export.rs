//! The calendar's history as CSV for auditors' spreadsheets: did maintenance happen in its
//! windows, with notice, and with a retrospective; did the DR drills happen and meet their
//! targets.

use chrono::{DateTime, Utc};

use super::model::{Drill, Maintenance, Retrospective};
use crate::scope::export::cell;

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_default()
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

fn open_action_items(retro: Option<&Retrospective>) -> String {
    retro
        .map(|r| {
            r.action_items
                .iter()
                .filter(|i| i.done_at.is_none())
                .count()
        })
        .unwrap_or(0)
        .to_string()
}

fn rows<const N: usize>(header: [&str; N], lines: impl Iterator<Item = [String; N]>) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for line in lines {
        let cells: Vec<String> = line.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One row per maintenance: when, what, the notice it was given, how it ended, whether its
/// retrospective was written and how many of its action items are still open.
pub fn maintenances_csv(list: &[Maintenance]) -> String {
    rows(
        [
            "platform",
            "environment",
            "category",
            "title",
            "state",
            "starts_at",
            "ends_at",
            "announced_at",
            "notice_days",
            "repeats_maintenance",
            "kubernetes_from",
            "kubernetes_to",
            "lead",
            "justification",
            "started_at",
            "ended_at",
            "cancel_reason",
            "retrospective_at",
            "open_action_items",
        ],
        list.iter().map(|m| {
            let retro = m.retrospective.as_ref();
            [
                m.platform_slug.clone(),
                m.environment_slug.clone(),
                m.category.as_str().to_owned(),
                m.title.clone(),
                m.state.as_str().to_owned(),
                m.starts_at.to_rfc3339(),
                m.ends_at.to_rfc3339(),
                time(m.announced_at),
                m.announced_at
                    .map(|a| (m.starts_at - a).num_days().to_string())
                    .unwrap_or_default(),
                m.staging_maintenance_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                m.kubernetes_from.clone(),
                m.kubernetes_to.clone(),
                m.lead.clone(),
                m.justification.clone(),
                time(m.started_at),
                time(m.ended_at),
                m.cancel_reason.clone(),
                time(retro.and_then(|r| r.written_at)),
                open_action_items(retro),
            ]
        }),
    )
}

/// One row per drill: who took part, its targets next to what it measured, why it was called
/// off, and the follow-up still open.
pub fn drills_csv(list: &[Drill]) -> String {
    rows(
        [
            "platform",
            "application",
            "title",
            "state",
            "starts_at",
            "ends_at",
            "leader",
            "participants",
            "observers",
            "target_rpo_minutes",
            "measured_rpo_minutes",
            "rpo_met",
            "target_rto_minutes",
            "measured_rto_minutes",
            "rto_met",
            "target_retention_days",
            "retention_verified",
            "cancel_reason",
            "retrospective_at",
            "open_action_items",
        ],
        list.iter().map(|d| {
            [
                d.platform_slug.clone(),
                d.application_slug.clone().unwrap_or_default(),
                d.title.clone(),
                d.state.clone(),
                d.starts_at.to_rfc3339(),
                d.ends_at.to_rfc3339(),
                d.leader.clone(),
                d.participants.clone(),
                d.observers.clone(),
                d.target_rpo_minutes.to_string(),
                d.measured_rpo_minutes
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                yes_no(d.rpo_met).to_owned(),
                d.target_rto_minutes.to_string(),
                d.measured_rto_minutes
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                yes_no(d.rto_met).to_owned(),
                d.target_retention_days.to_string(),
                yes_no(d.retention_verified).to_owned(),
                d.cancel_reason.clone().unwrap_or_default(),
                time(d.retrospective.as_ref().and_then(|r| r.written_at)),
                open_action_items(d.retrospective.as_ref()),
            ]
        }),
    )
}
