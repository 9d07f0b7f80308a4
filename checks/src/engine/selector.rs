//! Label selectors: `matchLabels` plus `matchExpressions` (In, NotIn, Exists, DoesNotExist), and
//! the plain map selectors of Services.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

pub type Labels = BTreeMap<String, String>;

/// Whether `selector` selects an object with `labels`. An empty selector (`{}`) selects
/// everything; an unknown operator selects nothing.
pub fn matches(selector: &LabelSelector, labels: Option<&Labels>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k));
    if let Some(ml) = &selector.match_labels
        && !ml.iter().all(|(k, v)| get(k) == Some(v))
    {
        return false;
    }
    selector.match_expressions.iter().flatten().all(|req| {
        let values = req.values.as_deref().unwrap_or(&[]);
        let value = get(&req.key);
        match req.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    })
}

/// Whether a Service-style selector (`spec.selector`, a map) selects `labels`. A Service without
/// a selector selects no Pods (its endpoints are managed by hand).
pub fn map_matches(selector: Option<&Labels>, labels: Option<&Labels>) -> bool {
    match selector {
        Some(sel) if !sel.is_empty() => sel
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)),
        _ => false,
    }
}

/// A selector as `k=v,k2 in (a,b)` for messages.
pub fn describe(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for req in selector.match_expressions.iter().flatten() {
        let values = req.values.as_deref().unwrap_or(&[]).join(",");
        parts.push(match req.operator.as_str() {
            "Exists" => req.key.clone(),
            "DoesNotExist" => format!("!{}", req.key),
            op => format!("{} {} ({values})", req.key, op.to_lowercase()),
        });
    }
    if parts.is_empty() {
        "{} (everything)".to_string()
    } else {
        parts.join(",")
    }
}

/// Labels as `k=v,k2=v2` for messages.
pub fn describe_labels(labels: Option<&Labels>) -> String {
    let s: Vec<String> = labels
        .iter()
        .flat_map(|l| l.iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if s.is_empty() {
        "(no labels)".to_string()
    } else {
        s.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(v: serde_json::Value) -> LabelSelector {
        serde_json::from_value(v).expect("selector")
    }

    fn labels(v: serde_json::Value) -> Labels {
        serde_json::from_value(v).expect("labels")
    }

    #[test]
    fn match_labels_and_expressions_all_have_to_hold() {
        let l = labels(json!({"app": "cart", "tier": "web"}));
        assert!(matches(
            &sel(json!({"matchLabels": {"app": "cart"}})),
            Some(&l)
        ));
        assert!(!matches(
            &sel(json!({"matchLabels": {"app": "shop"}})),
            Some(&l)
        ));
        let exprs = sel(json!({"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "app", "operator": "Exists"},
            {"key": "env", "operator": "NotIn", "values": ["dev"]}
        ]}));
        assert!(matches(&exprs, Some(&l)));
        let not_in = sel(
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}),
        );
        assert!(!matches(&not_in, Some(&l)));
        let bogus = sel(json!({"matchExpressions": [{"key": "tier", "operator": "Near"}]}));
        assert!(!matches(&bogus, Some(&l)));
    }

    #[test]
    fn an_empty_selector_selects_everything() {
        assert!(matches(&sel(json!({})), None));
        assert!(matches(&sel(json!({})), Some(&labels(json!({"a": "b"})))));
    }

    #[test]
    fn a_service_without_selector_selects_nothing() {
        let l = labels(json!({"app": "cart"}));
        assert!(!map_matches(None, Some(&l)));
        assert!(!map_matches(Some(&Labels::new()), Some(&l)));
        assert!(map_matches(Some(&l), Some(&l)));
    }
}
