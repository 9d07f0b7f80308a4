//! A readable difference between two versions of a scope: which items and rules were added,
//! removed or changed, and for a change, each field's text before and after.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "server")]
use utoipa::ToSchema;

use super::model::{Party, RaciRow, ScopeContent, ScopeItem, TenantRule};

/// What happened to an item or a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Added => "Added",
            ChangeKind::Removed => "Removed",
            ChangeKind::Changed => "Changed",
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// An item or a rule that was added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Change {
    pub kind: ChangeKind,
    pub id: Uuid,
    /// The item's name or the rule's title (the newer one when it changed).
    pub name: String,
    /// For a change: the fields that differ. For an addition or removal: every field.
    pub fields: Vec<FieldChange>,
}

/// The difference between two versions of a platform's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ScopeDiff {
    /// The older side: a revision number, or None for "nothing published".
    pub from: Option<i32>,
    /// The newer side: a revision number, or None for the draft.
    pub to: Option<i32>,
    pub items: Vec<Change>,
    pub rules: Vec<Change>,
}

impl ScopeDiff {
    /// True when both sides hold the same items and rules.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.rules.is_empty()
    }
}

fn parties(list: &[Party]) -> String {
    list.iter().map(Party::label).collect::<Vec<_>>().join(", ")
}

fn raci_text(row: &RaciRow) -> String {
    let mut parts = vec![
        format!("R: {}", parties(&row.responsible)),
        format!("A: {}", row.accountable.label()),
    ];
    if !row.consulted.is_empty() {
        parts.push(format!("C: {}", parties(&row.consulted)));
    }
    if !row.informed.is_empty() {
        parts.push(format!("I: {}", parties(&row.informed)));
    }
    parts.join("; ")
}

/// An item's fields as text, in display order. The position and version are bookkeeping, not
/// content, and are left out.
fn item_fields(item: &ScopeItem) -> Vec<(String, String)> {
    let mut fields = vec![
        ("name".to_owned(), item.name.clone()),
        ("category".to_owned(), item.category.clone()),
        (
            "side".to_owned(),
            if item.inside {
                "inside the fence"
            } else {
                "outside the fence"
            }
            .to_owned(),
        ),
        ("responsible".to_owned(), item.responsible.label()),
        (
            "escalation contact".to_owned(),
            item.escalation_contact.clone(),
        ),
        ("notes".to_owned(), item.notes.clone()),
    ];
    fields.extend(
        item.raci
            .iter()
            .map(|row| (format!("RACI: {}", row.activity), raci_text(row))),
    );
    fields
}

fn rule_fields(rule: &TenantRule) -> Vec<(String, String)> {
    vec![
        ("title".to_owned(), rule.title.clone()),
        ("description".to_owned(), rule.description.clone()),
        ("reason".to_owned(), rule.reason.clone()),
        (
            "exception process".to_owned(),
            rule.exception_process.clone(),
        ),
    ]
}

/// Compares field lists by name; a field only on one side shows as empty on the other.
fn compare(before: &[(String, String)], after: &[(String, String)]) -> Vec<FieldChange> {
    let lookup = |list: &[(String, String)], name: &str| {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut names: Vec<&String> = before.iter().map(|(n, _)| n).collect();
    for (n, _) in after {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (lookup(before, name), lookup(after, name));
            (b != a).then(|| FieldChange {
                field: name.clone(),
                before: b,
                after: a,
            })
        })
        .collect()
}

fn changes<T>(
    before: &[T],
    after: &[T],
    id: impl Fn(&T) -> Uuid,
    name: impl Fn(&T) -> String,
    fields: impl Fn(&T) -> Vec<(String, String)>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for new in after {
        match before.iter().find(|old| id(old) == id(new)) {
            None => out.push(Change {
                kind: ChangeKind::Added,
                id: id(new),
                name: name(new),
                fields: compare(&[], &fields(new)),
            }),
            Some(old) => {
                let changed = compare(&fields(old), &fields(new));
                if !changed.is_empty() {
                    out.push(Change {
                        kind: ChangeKind::Changed,
                        id: id(new),
                        name: name(new),
                        fields: changed,
                    });
                }
            }
        }
    }
    for old in before {
        if !after.iter().any(|new| id(new) == id(old)) {
            out.push(Change {
                kind: ChangeKind::Removed,
                id: id(old),
                name: name(old),
                fields: compare(&fields(old), &[]),
            });
        }
    }
    out
}

/// What changed from `before` to `after`. Items and rules are matched by id, so a renamed item is
/// a change, not a removal and an addition.
pub fn diff(
    before: &ScopeContent,
    after: &ScopeContent,
    from: Option<i32>,
    to: Option<i32>,
) -> ScopeDiff {
    ScopeDiff {
        from,
        to,
        items: changes(
            &before.items,
            &after.items,
            |i| i.id,
            |i| i.name.clone(),
            item_fields,
        ),
        rules: changes(
            &before.rules,
            &after.rules,
            |r| r.id,
            |r| r.title.clone(),
            rule_fields,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u128, name: &str, inside: bool) -> ScopeItem {
        ScopeItem {
            id: Uuid::from_u128(id),
            name: name.into(),
            category: "Platform".into(),
            inside,
            responsible: Party::PlatformTeam,
            escalation_contact: String::new(),
            notes: String::new(),
            raci: vec![RaciRow {
                activity: "Upgrades".into(),
                responsible: vec![Party::PlatformTeam],
                accountable: Party::PlatformTeam,
                consulted: vec![],
                informed: vec![Party::Tenants],
            }],
            position: 0,
            version: 1,
        }
    }

    #[test]
    fn reports_added_removed_and_changed_items() {
        let before = ScopeContent {
            items: vec![item(1, "Cluster", true), item(2, "CI tool", true)],
            rules: vec![],
        };
        let mut moved = item(2, "CI tool", false);
        moved.version = 7;
        moved.position = 3;
        moved.raci[0].accountable = Party::External {
            name: "IT systems".into(),
        };
        let after = ScopeContent {
            items: vec![moved, item(3, "Identity provider", false)],
            rules: vec![],
        };
        let d = diff(&before, &after, Some(1), None);
        let kinds: Vec<_> = d.items.iter().map(|c| (c.kind, c.name.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (ChangeKind::Changed, "CI tool"),
                (ChangeKind::Added, "Identity provider"),
                (ChangeKind::Removed, "Cluster"),
            ]
        );
        let fields: Vec<_> = d.items[0].fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["side", "RACI: Upgrades"]);
        assert_eq!(d.items[0].fields[0].before, "inside the fence");
        assert!(
            d.items[0].fields[1]
                .after
                .contains("A: IT systems (external)")
        );
    }

    #[test]
    fn equal_content_has_no_changes_even_if_versions_moved() {
        let a = ScopeContent {
            items: vec![item(1, "Cluster", true)],
            rules: vec![],
        };
        let mut b = a.clone();
        b.items[0].version = 9;
        assert!(diff(&a, &b, Some(1), Some(2)).is_empty());
    }
}
