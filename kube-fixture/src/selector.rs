//! Label selectors (`app=cart,tier in (web,api),!canary`) and field selectors
//! (`metadata.name=cart,status.phase!=Running`).

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits at commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let invalid = || format!("unable to parse requirement: {part:?}");
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(valid_key(key.trim(), part)?));
    }
    if let Some(open) = part.find('(') {
        let close = part.rfind(')').ok_or_else(invalid)?;
        let head: Vec<&str> = part[..open].split_whitespace().collect();
        let [key, operator] = head.as_slice() else {
            return Err(invalid());
        };
        let values: Vec<String> = part[open + 1..close]
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let key = valid_key(key, part)?;
        return match *operator {
            "in" => Ok(Requirement::In(key, values)),
            "notin" => Ok(Requirement::NotIn(key, values)),
            _ => Err(invalid()),
        };
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(
            valid_key(k.trim(), part)?,
            v.trim().to_string(),
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(
            valid_key(k.trim(), part)?,
            v.trim().to_string(),
        ));
    }
    if part.contains(['<', '>', ' ']) {
        return Err(invalid());
    }
    Ok(Requirement::Exists(valid_key(part, part)?))
}

fn valid_key(key: &str, part: &str) -> Result<String, String> {
    if key.is_empty() || key.contains(char::is_whitespace) {
        Err(format!("unable to parse requirement: {part:?}"))
    } else {
        Ok(key.to_string())
    }
}

/// A parsed field selector: `path=value` and `path!=value` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, equal, value) = if let Some((p, v)) = part.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (p, true, v)
            } else {
                return Err(format!("invalid selector: {part:?}; can't understand"));
            };
            terms.push((path.trim().to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(terms))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the selector only reads the name and namespace (answerable from the index).
    pub fn only_metadata(&self) -> bool {
        self.0
            .iter()
            .all(|(p, _, _)| p == "metadata.name" || p == "metadata.namespace")
    }

    /// Matches against the name and namespace, and for other paths against `object` (parsed
    /// on demand by the caller: `None` when only metadata is needed).
    pub fn matches(&self, name: &str, namespace: Option<&str>, object: Option<&Value>) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let actual = match path.as_str() {
                "metadata.name" => name.to_string(),
                "metadata.namespace" => namespace.unwrap_or_default().to_string(),
                other => object
                    .and_then(|o| other.split('.').try_fold(o, |v, segment| v.get(segment)))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        v => v.to_string(),
                    })
                    .unwrap_or_default(),
            };
            (actual == *value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_support_every_operator() {
        let cart = labels(&[("app", "cart"), ("tier", "web")]);
        let cases = [
            ("app=cart", true),
            ("app==cart", true),
            ("app!=cart", false),
            ("app in (cart, legacy)", true),
            ("app notin (cart,legacy)", false),
            ("tier", true),
            ("!tier", false),
            ("!canary", true),
            ("app=cart,tier in (api)", false),
            ("canary notin (true)", true),
            ("", true),
        ];
        for (selector, expected) in cases {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&cart), expected, "{selector}");
        }
        assert!(LabelSelector::parse("app in cart").is_err());
        assert!(LabelSelector::parse("app > 3").is_err());
    }

    #[test]
    fn field_selectors_read_metadata_and_paths() {
        let pod = serde_json::json!({"status": {"phase": "Running"}, "spec": {"nodeName": "n1"}});
        let s = FieldSelector::parse("metadata.namespace=shop,status.phase!=Pending").unwrap();
        assert!(!s.only_metadata());
        assert!(s.matches("cart", Some("shop"), Some(&pod)));
        assert!(!s.matches("cart", Some("payments"), Some(&pod)));
        let s = FieldSelector::parse("metadata.name==cart").unwrap();
        assert!(s.only_metadata());
        assert!(s.matches("cart", None, None));
    }
}
