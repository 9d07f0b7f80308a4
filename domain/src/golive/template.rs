//! The default go-live checklist and the rules a template must follow.

use std::collections::HashSet;

use checks::{CheckId, Params};

use super::model::ItemDef;
use crate::validate::Problems;

struct Manual {
    key: &'static str,
    title: &'static str,
    why: &'static str,
    how_to_check: &'static str,
    desired: &'static str,
    how_to_fix: &'static str,
    production_only: bool,
    required: bool,
}

/// The items people attest, with evidence (shared/DOMAIN.md section 2).
const MANUAL: [Manual; 6] = [
    Manual {
        key: "load-test",
        title: "Load test at expected peak",
        why: "Capacity problems found in production are found by your users first.",
        how_to_check: "Run a load test at the traffic you expect at peak (plus headroom) against the environment and keep the report.",
        desired: "Latency and error rate stay within your targets at peak load.",
        how_to_fix: "Tune CPU and memory requests and limits, add replicas or an autoscaler, then test again.",
        production_only: false,
        required: true,
    },
    Manual {
        key: "load-test-redeploy",
        title: "Load test while redeploying",
        why: "Every release restarts your Pods; users should not notice.",
        how_to_check: "Keep a steady load running and deploy a trivial change. Record errors and latency during the rollout.",
        desired: "No failed requests, or a number you have agreed is acceptable.",
        how_to_fix: "Use a RollingUpdate strategy with maxUnavailable 0, a readiness probe, a preStop pause and graceful shutdown in the application.",
        production_only: false,
        required: true,
    },
    Manual {
        key: "load-test-node-drain",
        title: "Load test during a rolling node reboot",
        why: "The platform team patches nodes on a schedule; each node is drained in turn.",
        how_to_check: "Keep a steady load running while the platform team drains and reboots the nodes one by one.",
        desired: "Capacity stays sufficient and no requests fail while any single node is away.",
        how_to_fix: "Run at least two replicas spread over nodes, with a PodDisruptionBudget that allows one disruption.",
        production_only: false,
        required: true,
    },
    Manual {
        key: "zone-failure",
        title: "Load test while a zone fails (multi-zone platforms)",
        why: "A multi-zone platform promises to survive the loss of a zone only if the application spreads over zones too.",
        how_to_check: "With the platform team, cordon and drain every node of one zone under load.",
        desired: "The application keeps serving from the remaining zones.",
        how_to_fix: "Spread replicas over zones with topologySpreadConstraints on topology.kubernetes.io/zone.",
        production_only: true,
        required: false,
    },
    Manual {
        key: "disaster-recovery",
        title: "Restore from off-site backups",
        why: "A backup that has never been restored is a hope, not a backup.",
        how_to_check: "Destroy a copy of the environment and restore it from the off-site backups. Measure the data lost (RPO) and the time taken (RTO).",
        desired: "Measured RPO and RTO are within what the application's owners accept.",
        how_to_fix: "Back up every stateful component, store backups off-site, document and rehearse the restore.",
        production_only: true,
        required: true,
    },
    Manual {
        key: "redeploy-from-git",
        title: "Redeploy from scratch out of git",
        why: "If the running state differs from git, a rebuild after a disaster brings back something else.",
        how_to_check: "Deploy the application into an empty namespace using only what is in git (and the secret store).",
        desired: "The fresh deployment works without manual steps.",
        how_to_fix: "Move every hand-made change into the repository and deploy only through the pipeline.",
        production_only: false,
        required: true,
    },
];

/// Checks that warn rather than block by default: useful, but not every application needs them.
fn optional_by_default(id: CheckId) -> bool {
    matches!(
        id,
        CheckId::QosPriority | CheckId::MetricsAlerts | CheckId::Backups | CheckId::Tls
    )
}

/// The checklist a platform starts from: the manual items, then one item per automatic check.
pub fn default_items() -> Vec<ItemDef> {
    let mut items: Vec<ItemDef> = MANUAL
        .iter()
        .map(|m| ItemDef {
            key: m.key.into(),
            title: m.title.into(),
            why: m.why.into(),
            how_to_check: m.how_to_check.into(),
            desired: m.desired.into(),
            how_to_fix: m.how_to_fix.into(),
            required: m.required,
            environments: if m.production_only {
                vec!["@production".into()]
            } else {
                vec![]
            },
            check: None,
            params: Params::default(),
        })
        .collect();
    items.extend(CheckId::ALL.into_iter().map(|id| {
        let info = checks::catalog::info(id);
        ItemDef {
            key: id.as_str().replace('_', "-"),
            title: info.title.into(),
            why: info.why.into(),
            how_to_check: info.how_to_check.into(),
            desired: info.desired.into(),
            how_to_fix: info.how_to_fix.into(),
            required: !optional_by_default(id),
            environments: vec![],
            check: Some(id),
            params: Params::default(),
        }
    }));
    items
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 63
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !key.starts_with('-')
        && !key.ends_with('-')
}

/// Checks a template's items; problems are keyed `items[3].title`.
pub fn validate_items(items: &[ItemDef]) -> Problems {
    let mut p = Problems::default();
    if items.is_empty() {
        p.add("items", "A checklist needs at least one item.");
    }
    if items.len() > 200 {
        p.add("items", "A checklist can have at most 200 items.");
    }
    let mut keys = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        if !valid_key(&item.key) {
            p.add(
                &field("key"),
                "Use 1 to 63 lowercase letters, digits and dashes (e.g. load-test).",
            );
        } else if !keys.insert(item.key.as_str()) {
            p.add(
                &field("key"),
                format!("The key `{}` is used by another item.", item.key),
            );
        }
        let title = item.title.trim();
        if title.is_empty() || title.chars().count() > 160 {
            p.add(
                &field("title"),
                "Give the item a title of 1 to 160 characters.",
            );
        }
        for (name, text) in [
            ("why", &item.why),
            ("how_to_check", &item.how_to_check),
            ("desired", &item.desired),
            ("how_to_fix", &item.how_to_fix),
        ] {
            if text.chars().count() > 4000 {
                p.add(&field(name), "At most 4,000 characters.");
            }
        }
        for env in &item.environments {
            if !(env == "@production" || env == "@non-production" || valid_key(env)) {
                p.add(
                    &field("environments"),
                    format!(
                        "`{env}` is neither an environment slug nor @production / @non-production."
                    ),
                );
            }
        }
        if let Some(check) = item.check {
            validate_params(check, &item.params, &field("params"), &mut p);
            // A run gives one verdict per check: two items with the same check in one review
            // would show each other's results.
            if let Some(other) = items[..i]
                .iter()
                .find(|o| o.check == Some(check) && may_share_an_environment(o, item))
            {
                p.add(
                    &field("check"),
                    format!(
                        "Item `{}` already uses the check `{check}` for these environments: give \
                         each item its own environments (e.g. @production and @non-production) \
                         to check them with different parameters.",
                        other.key
                    ),
                );
            }
        } else if item.params != Params::default() {
            p.add(
                &field("params"),
                "Parameters only apply to automatic items (set a check).",
            );
        }
    }
    p
}

fn validate_params(check: CheckId, params: &Params, field: &str, p: &mut Problems) {
    // Destructured so that a new parameter cannot be added without saying which checks read it
    // (the list follows the documentation of each field of `Params`).
    let Params {
        min_replicas,
        max_grace_period_seconds,
        allowed_registries,
        require_guaranteed,
        priority_classes,
        min_certificate_days,
        rpo_hours,
    } = params;
    let given: [(&str, bool, &[CheckId]); 7] = [
        (
            "min_replicas",
            min_replicas.is_some(),
            &[CheckId::Replicas, CheckId::Spread],
        ),
        (
            "max_grace_period_seconds",
            max_grace_period_seconds.is_some(),
            &[CheckId::GracefulShutdown],
        ),
        (
            "allowed_registries",
            !allowed_registries.is_empty(),
            &[CheckId::Image],
        ),
        (
            "require_guaranteed",
            require_guaranteed.is_some(),
            &[CheckId::QosPriority],
        ),
        (
            "priority_classes",
            !priority_classes.is_empty(),
            &[CheckId::QosPriority],
        ),
        (
            "min_certificate_days",
            min_certificate_days.is_some(),
            &[CheckId::Tls],
        ),
        ("rpo_hours", rpo_hours.is_some(), &[CheckId::Backups]),
    ];
    for (name, set, applies_to) in given {
        if set && !applies_to.contains(&check) {
            let owners: Vec<&str> = applies_to.iter().map(|c| c.as_str()).collect();
            p.add(
                &format!("{field}.{name}"),
                format!(
                    "`{name}` does not apply to the check `{check}`; it is a parameter of {}.",
                    owners.join(" and ")
                ),
            );
        }
    }
    if let Some(n) = params.min_replicas
        && !(1..=100).contains(&n)
    {
        p.add(&format!("{field}.min_replicas"), "Use 1 to 100.");
    }
    if let Some(n) = params.max_grace_period_seconds
        && !(1..=3600).contains(&n)
    {
        p.add(
            &format!("{field}.max_grace_period_seconds"),
            "Use 1 to 3,600 seconds.",
        );
    }
    if let Some(n) = params.min_certificate_days
        && !(1..=365).contains(&n)
    {
        p.add(
            &format!("{field}.min_certificate_days"),
            "Use 1 to 365 days.",
        );
    }
    if let Some(n) = params.rpo_hours
        && !(1..=24 * 90).contains(&n)
    {
        p.add(&format!("{field}.rpo_hours"), "Use 1 to 2,160 hours.");
    }
    for r in &params.allowed_registries {
        let r = r.trim();
        if r.is_empty() || r.contains(char::is_whitespace) || r.contains("://") {
            p.add(
                &format!("{field}.allowed_registries"),
                format!("`{r}` is not a registry host or prefix (e.g. registry.example.com/team)."),
            );
        }
    }
}

/// Whether two items could both apply to one environment. Empty lists apply everywhere; a kind
/// (`@production`) and a slug are assumed to meet, since the slug's kind is not known here.
fn may_share_an_environment(a: &ItemDef, b: &ItemDef) -> bool {
    if a.environments.is_empty() || b.environments.is_empty() {
        return true;
    }
    let kind = |e: &String| e.starts_with('@');
    a.environments.iter().any(|x| {
        b.environments
            .iter()
            .any(|y| x == y || (kind(x) != kind(y)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_template_is_valid_and_covers_every_check() {
        let items = default_items();
        assert!(
            validate_items(&items).is_empty(),
            "{:?}",
            validate_items(&items)
        );
        for id in CheckId::ALL {
            assert!(items.iter().any(|i| i.check == Some(id)), "{id} missing");
        }
        assert_eq!(items.iter().filter(|i| i.check.is_none()).count(), 6);
    }

    #[test]
    fn template_problems_name_the_item_and_field() {
        let mut items = default_items();
        items[1].key = items[0].key.clone();
        items[2].title = " ".into();
        items[3].environments = vec!["Prod Env".into()];
        let i = items
            .iter()
            .position(|i| i.check == Some(CheckId::Replicas))
            .unwrap();
        items[i].params.min_replicas = Some(0);
        items[0].params.rpo_hours = Some(3);
        let p = validate_items(&items).into_fields();
        assert!(p.contains_key("items[1].key"), "{p:?}");
        assert!(p.contains_key("items[2].title"));
        assert!(p.contains_key("items[3].environments"));
        assert!(p.contains_key(&format!("items[{i}].params.min_replicas")));
        assert!(p.contains_key("items[0].params"));
    }

    #[test]
    fn a_parameter_of_another_check_is_refused_with_the_field_named() {
        let mut items = default_items();
        let at = |items: &[ItemDef], id: CheckId| {
            items
                .iter()
                .position(|i| i.check == Some(id))
                .unwrap_or_else(|| panic!("{id} missing"))
        };
        let replicas = at(&items, CheckId::Replicas);
        let spread = at(&items, CheckId::Spread);
        let qos = at(&items, CheckId::QosPriority);
        let backups = at(&items, CheckId::Backups);
        items[replicas].params.max_grace_period_seconds = Some(60);
        items[replicas].params.min_replicas = Some(3);
        items[spread].params.min_replicas = Some(3);
        items[qos].params.require_guaranteed = Some(true);
        items[qos].params.priority_classes = vec!["business".into()];
        items[qos].params.allowed_registries = vec!["ghcr.io/acme".into()];
        items[backups].params.rpo_hours = Some(12);
        let p = validate_items(&items).into_fields();
        assert_eq!(
            p.get(&format!(
                "items[{replicas}].params.max_grace_period_seconds"
            ))
            .map(String::as_str),
            Some(
                "`max_grace_period_seconds` does not apply to the check `replicas`; it is a \
                 parameter of graceful_shutdown."
            ),
            "{p:?}"
        );
        let registries = p
            .get(&format!("items[{qos}].params.allowed_registries"))
            .unwrap_or_else(|| panic!("{p:?}"));
        assert!(registries.contains("parameter of image"), "{registries}");
        // Parameters of their own checks stay valid: min_replicas on replicas and spread.
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn a_check_is_used_once_per_environment() {
        let template = default_items()
            .into_iter()
            .find(|i| i.check == Some(CheckId::Replicas))
            .unwrap();
        let replicas = |key: &str, environments: &[&str]| ItemDef {
            key: key.into(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            ..template.clone()
        };
        let refused = [
            vec![replicas("a", &[]), replicas("b", &[])],
            vec![replicas("a", &["@production"]), replicas("b", &[])],
            vec![replicas("a", &["prod"]), replicas("b", &["stage", "prod"])],
            vec![replicas("a", &["@production"]), replicas("b", &["prod"])],
        ];
        for items in refused {
            let p = validate_items(&items).into_fields();
            let message = p
                .get("items[1].check")
                .unwrap_or_else(|| panic!("{items:?}"));
            assert!(message.contains("`a`"), "{message}");
        }
        for items in [
            vec![
                replicas("a", &["@production"]),
                replicas("b", &["@non-production"]),
            ],
            vec![replicas("a", &["prod"]), replicas("b", &["stage", "dev"])],
        ] {
            assert!(validate_items(&items).is_empty(), "{items:?}");
        }
    }
}
