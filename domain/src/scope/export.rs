//! The scope as CSV, for auditors' spreadsheets: one row per item, per RACI activity and per
//! tenant rule.

use super::model::{Party, ScopeView};

/// Quotes a cell (RFC 4180) and defuses text a spreadsheet would run as a formula.
pub(crate) fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn parties(list: &[Party]) -> String {
    list.iter().map(Party::label).collect::<Vec<_>>().join("; ")
}

const HEADER: [&str; 13] = [
    "platform",
    "revision",
    "published_at",
    "record",
    "side",
    "category",
    "name",
    "responsible",
    "escalation_contact",
    "activity",
    "accountable",
    "consulted_informed",
    "notes",
];

/// The scope shown in `view` as CSV text.
pub fn csv(view: &ScopeView) -> String {
    let revision = view
        .revision
        .as_ref()
        .map(|r| r.number.to_string())
        .unwrap_or_else(|| {
            if view.draft.is_some() {
                "draft".into()
            } else {
                String::new()
            }
        });
    let published = view
        .revision
        .as_ref()
        .map(|r| r.published_at.to_rfc3339())
        .unwrap_or_default();
    let mut out = String::new();
    let mut line = |cells: [&str; 13]| {
        let row: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    };
    line(HEADER);
    let platform = view.platform_name.as_str();
    for item in &view.content.items {
        let side = if item.inside { "inside" } else { "outside" };
        let responsible = item.responsible.label();
        line([
            platform,
            &revision,
            &published,
            "item",
            side,
            &item.category,
            &item.name,
            &responsible,
            &item.escalation_contact,
            "",
            "",
            "",
            &item.notes,
        ]);
        for row in &item.raci {
            let ci = format!(
                "C: {} | I: {}",
                parties(&row.consulted),
                parties(&row.informed)
            );
            line([
                platform,
                &revision,
                &published,
                "raci",
                side,
                &item.category,
                &item.name,
                &parties(&row.responsible),
                "",
                &row.activity,
                &row.accountable.label(),
                &ci,
                "",
            ]);
        }
    }
    for rule in &view.content.rules {
        let notes = format!(
            "{} Reason: {} Exceptions: {}",
            rule.description, rule.reason, rule.exception_process
        );
        line([
            platform,
            &revision,
            &published,
            "tenant_rule",
            "",
            "",
            &rule.title,
            "",
            "",
            "",
            "",
            "",
            notes.trim(),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
