//! Reports of a verification run: one model ([`Report`]) built from the engine's results, and
//! its renderings: text for people, JSON (the shape Demarc's `/api/v1/check-reports` accepts),
//! JUnit XML for CI test views and SARIF 2.1.0 for code-scanning views.
//!
//! # JSON shape (`schema: "demarc.check-report/v1"`)
//!
//! ```text
//! {
//!   "schema": "demarc.check-report/v1",
//!   "generated_at": "2026-11-26T07:00:00Z",
//!   "source": { "kind": "manifests"|"upload"|"cluster", "name": "...", "server_version"?: "...", "read_at": "..." } | null,
//!   "required": ["replicas", "probes", ...],          // checks whose failure fails the run
//!   "params": { "min_replicas": 3, ... },             // the check parameters the run used
//!   "summary": { "subjects": 12, "results": 160, "required_failures": 3, "required_errors": 1,
//!                "passed": false,
//!                "counts": { "pass": 120, "warn": 4, "fail": 10, "not_applicable": 20, "error": 6 } },
//!   "checks": [ { "check": "replicas", "title": "...", "required": true, "outcome": "fail",
//!                 "counts": { ... } } ],             // one per check that produced results, in check order
//!   "results": [ { "check": "replicas", "subject": { "kind", "namespace"?, "name", "resource_version"? },
//!                  "outcome": "pass"|"warn"|"fail"|"not_applicable"|"error", "message": "...",
//!                  "evidence": { "objects": [...], "values": { ... } },
//!                  "required": true, "origin"?: { "file": "deploy/web.yaml", "document": 1, "line"?: 3 } } ]
//! }
//! ```
//!
//! Results are sorted by subject (namespace, kind, name) and then check. Fields are only ever
//! added to this shape; a change of meaning gets a new `schema`.
//!
//! A run passes when every result of a required check was answered and none failed: a `fail`
//! fails the run, and so does an `error` (the check could not be answered: permission denied,
//! no live cluster to read), since a check that could not be made has not passed. `warn` never
//! fails a run, nor does any result of a check that is not required. A read that found no
//! workload at all would give no result to fail: [`nothing_found`] gives the checks that had
//! nothing to judge a failing result that says so.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::manifests::{Origin, Origins};
use crate::{CheckId, CheckResult, Outcome, Params, SourceInfo};

/// The `schema` value of the JSON report.
pub const SCHEMA: &str = "demarc.check-report/v1";

/// Counts of results by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub not_applicable: usize,
    pub error: usize,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.pass += 1,
            Outcome::Warn => self.warn += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::NotApplicable => self.not_applicable += 1,
            Outcome::Error => self.error += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.warn + self.fail + self.not_applicable + self.error
    }
}

/// The whole run at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Distinct subjects (workloads, namespaces) with results.
    pub subjects: usize,
    pub results: usize,
    pub counts: Counts,
    /// Results of required checks that failed.
    pub required_failures: usize,
    /// Results of required checks that could not be answered (`error`).
    #[serde(default)]
    pub required_errors: usize,
    /// Every result of a required check was answered and none failed.
    pub passed: bool,
}

/// One check over all subjects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CheckSummary {
    pub check: CheckId,
    pub title: String,
    pub required: bool,
    /// The worst outcome over all subjects ([`Outcome::combine`]).
    pub outcome: Outcome,
    pub counts: Counts,
}

/// One result, with whether its check is required and where its subject was defined. In JSON
/// the result's own fields sit beside `required` and `origin` (serialized by hand: serde's
/// `flatten` buffers every value and cost a third of the rendering time of a large cluster).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ReportResult {
    #[serde(flatten)]
    pub result: CheckResult,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl Serialize for ReportResult {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = &self.result;
        let mut map = serializer.serialize_map(Some(6 + usize::from(self.origin.is_some())))?;
        map.serialize_entry("check", &r.check)?;
        map.serialize_entry("subject", &r.subject)?;
        map.serialize_entry("outcome", &r.outcome)?;
        map.serialize_entry("message", &r.message)?;
        map.serialize_entry("evidence", &r.evidence)?;
        map.serialize_entry("required", &self.required)?;
        if let Some(origin) = &self.origin {
            map.serialize_entry("origin", origin)?;
        }
        map.end()
    }
}

/// A verification run: what was read, what was required and every result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Report {
    pub schema: String,
    pub generated_at: DateTime<Utc>,
    pub source: Option<SourceInfo>,
    pub required: Vec<CheckId>,
    /// The check parameters the run used (Demarc refuses a report whose parameters differ from
    /// the checklist's).
    #[serde(default)]
    pub params: Params,
    pub summary: Summary,
    pub checks: Vec<CheckSummary>,
    pub results: Vec<ReportResult>,
}

/// The text a check is known by in reports, from the catalog.
pub fn check_title(check: CheckId) -> String {
    crate::catalog::info(check).title.to_string()
}

impl Report {
    /// Builds a report. `required` lists the checks whose failure fails the run; `origins` (from
    /// the manifest reader) adds file locations.
    pub fn new(
        results: &[CheckResult],
        source: Option<&SourceInfo>,
        required: &[CheckId],
        origins: Option<&Origins>,
        generated_at: DateTime<Utc>,
    ) -> Report {
        let mut required: Vec<CheckId> = required.to_vec();
        required.sort();
        required.dedup();
        let mut out: Vec<ReportResult> = results
            .iter()
            .map(|r| ReportResult {
                result: r.clone(),
                required: required.binary_search(&r.check).is_ok(),
                origin: origins.and_then(|o| o.get(&r.subject)).cloned(),
            })
            .collect();
        out.sort_by(|a, b| {
            let (a, b) = (&a.result, &b.result);
            (
                &a.subject.namespace,
                &a.subject.kind,
                &a.subject.name,
                a.check,
            )
                .cmp(&(
                    &b.subject.namespace,
                    &b.subject.kind,
                    &b.subject.name,
                    b.check,
                ))
        });

        let mut counts = Counts::default();
        let mut by_check: BTreeMap<CheckId, Counts> = BTreeMap::new();
        let mut required_failures = 0;
        let mut required_errors = 0;
        let mut subjects = 0;
        let mut last: Option<&crate::ObjectRef> = None;
        for r in &out {
            counts.add(r.result.outcome);
            by_check
                .entry(r.result.check)
                .or_default()
                .add(r.result.outcome);
            match (r.required, r.result.outcome) {
                (true, Outcome::Fail) => required_failures += 1,
                (true, Outcome::Error) => required_errors += 1,
                _ => {}
            }
            if last.is_none_or(|l| !same_subject(l, &r.result.subject)) {
                subjects += 1;
                last = Some(&r.result.subject);
            }
        }
        let checks = by_check
            .into_iter()
            .map(|(check, counts)| CheckSummary {
                check,
                title: check_title(check),
                required: required.binary_search(&check).is_ok(),
                outcome: worst(&counts),
                counts,
            })
            .collect();
        Report {
            schema: SCHEMA.into(),
            generated_at,
            source: source.cloned(),
            required,
            params: Params::default(),
            summary: Summary {
                subjects,
                results: out.len(),
                counts,
                required_failures,
                required_errors,
                passed: required_failures == 0 && required_errors == 0,
            },
            checks,
            results: out,
        }
    }

    /// The JSON report on one line (a large cluster gives 100 MB pretty-printed; use jq to read
    /// it), shape documented on this module.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A readable table grouped by subject: every result that is not a pass with its message,
    /// the passing checks in one line, then a summary.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some(source) = &self.source {
            let _ = writeln!(
                s,
                "Demarc go-live checks: {} {}{} (read {})",
                source.kind,
                source.name,
                source
                    .server_version
                    .as_deref()
                    .map(|v| format!(", Kubernetes {v}"))
                    .unwrap_or_default(),
                source.read_at.format("%Y-%m-%d %H:%M:%S UTC"),
            );
        }
        let mut i = 0;
        while i < self.results.len() {
            let subject = &self.results[i].result.subject;
            let mut j = i;
            while j < self.results.len() && same_subject(&self.results[j].result.subject, subject) {
                j += 1;
            }
            let group = &self.results[i..j];
            let _ = write!(s, "\n{subject}");
            if let Some(origin) = group.iter().find_map(|r| r.origin.as_ref()) {
                let _ = write!(s, "  ({origin})");
            }
            s.push('\n');
            let mut passing = Vec::new();
            let mut not_applicable = Vec::new();
            for r in group {
                match r.result.outcome {
                    Outcome::Pass => passing.push(r.result.check.as_str()),
                    Outcome::NotApplicable => not_applicable.push(r.result.check.as_str()),
                    outcome => {
                        let label = match (outcome, r.required) {
                            (Outcome::Fail, true) => "FAIL",
                            (Outcome::Fail, false) => "fail",
                            (Outcome::Warn, _) => "warn",
                            (_, true) => "ERROR",
                            (_, false) => "error",
                        };
                        let _ = writeln!(
                            s,
                            "  {label:<5} {:<18} {}",
                            r.result.check.as_str(),
                            r.result.message
                        );
                    }
                }
            }
            if !passing.is_empty() {
                let _ = writeln!(s, "  pass  {}", passing.join(", "));
            }
            if !not_applicable.is_empty() {
                let _ = writeln!(s, "  n/a   {}", not_applicable.join(", "));
            }
            i = j;
        }
        let c = &self.summary.counts;
        let _ = writeln!(
            s,
            "\n{} subjects, {} results: {} pass, {} warn, {} fail, {} not applicable, {} error",
            self.summary.subjects,
            self.summary.results,
            c.pass,
            c.warn,
            c.fail,
            c.not_applicable,
            c.error
        );
        let required = |counted: fn(&Counts) -> usize| -> String {
            self.checks
                .iter()
                .filter(|c| c.required && counted(&c.counts) > 0)
                .map(|c| c.check.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.summary.passed {
            let _ = writeln!(
                s,
                "PASSED: every required check was answered and none failed"
            );
        }
        if self.summary.required_failures > 0 {
            let _ = writeln!(
                s,
                "FAILED: {} required result(s) failed ({})",
                self.summary.required_failures,
                required(|c| c.fail)
            );
        }
        if self.summary.required_errors > 0 {
            let _ = writeln!(
                s,
                "NOT CHECKED: {} required result(s) could not be checked ({}); the run does not pass until they can be",
                self.summary.required_errors,
                required(|c| c.error)
            );
        }
        s
    }

    /// JUnit XML: one `<testsuite>` per check, one `<testcase>` per subject. A fail is a
    /// `<failure>`, an error an `<error>` (both with type `required` or `advisory`), not
    /// applicable `<skipped>`; a warning passes with its message in `<system-out>`. Whether a
    /// check is required is also a suite property.
    pub fn to_junit(&self) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let c = &self.summary.counts;
        let timestamp = self.generated_at.format("%Y-%m-%dT%H:%M:%S");
        let _ = writeln!(
            s,
            "<testsuites name=\"demarc\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            self.summary.results, c.fail, c.error, c.not_applicable
        );
        for check in &self.checks {
            let k = &check.counts;
            let _ = writeln!(
                s,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{timestamp}\">",
                check.check.as_str(),
                k.total(),
                k.fail,
                k.error,
                k.not_applicable
            );
            let _ = writeln!(
                s,
                "    <properties>\n      <property name=\"title\" value=\"{}\"/>\n      <property name=\"required\" value=\"{}\"/>\n    </properties>",
                xml_escape(&check.title),
                check.required
            );
            for r in self
                .results
                .iter()
                .filter(|r| r.result.check == check.check)
            {
                let _ = write!(
                    s,
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    check.check.as_str(),
                    xml_escape(&r.result.subject.to_string())
                );
                if let Some(origin) = &r.origin {
                    let _ = write!(s, " file=\"{}\"", xml_escape(&origin.file));
                    if let Some(line) = origin.line {
                        let _ = write!(s, " line=\"{line}\"");
                    }
                }
                let message = xml_escape(&r.result.message);
                match r.result.outcome {
                    Outcome::Pass => s.push_str("/>\n"),
                    Outcome::Warn => {
                        let _ = writeln!(
                            s,
                            ">\n      <system-out>warning: {message}</system-out>\n    </testcase>"
                        );
                    }
                    Outcome::Fail => {
                        let _ = writeln!(
                            s,
                            ">\n      <failure message=\"{message}\" type=\"{}\">{}</failure>\n    </testcase>",
                            if r.required { "required" } else { "advisory" },
                            xml_escape(&evidence_text(&r.result))
                        );
                    }
                    Outcome::Error => {
                        let _ = writeln!(
                            s,
                            ">\n      <error message=\"{message}\" type=\"{}\"/>\n    </testcase>",
                            if r.required { "required" } else { "advisory" }
                        );
                    }
                    Outcome::NotApplicable => {
                        let _ = writeln!(
                            s,
                            ">\n      <skipped message=\"{message}\"/>\n    </testcase>"
                        );
                    }
                }
            }
            s.push_str("  </testsuite>\n");
        }
        s.push_str("</testsuites>\n");
        s
    }

    /// SARIF 2.1.0: one rule per check (title, why, how to fix from the catalog); one result per
    /// fail (level `error` when the check is required, `warning` otherwise) and warn (level
    /// `note`), located in the manifest file when known and always by the object's name. Results
    /// that could not be answered are tool execution notifications, not findings: level `error`
    /// when the check is required (the run did not pass), `warning` otherwise.
    pub fn to_sarif(&self) -> String {
        use serde_json::{Value, json};
        let checks: Vec<CheckId> = CheckId::ALL
            .into_iter()
            .filter(|c| self.checks.iter().any(|s| s.check == *c))
            .collect();
        let rules: Vec<Value> = checks
            .iter()
            .map(|&check| {
                let info = crate::catalog::info(check);
                let required = self.required.contains(&check);
                json!({
                    "id": check.as_str(),
                    "name": check.as_str(),
                    "shortDescription": { "text": info.title },
                    "fullDescription": { "text": info.why },
                    "help": {
                        "text": format!("Desired: {}\nHow to check: {}\nHow to fix: {}", info.desired, info.how_to_check, info.how_to_fix),
                        "markdown": format!("**Desired:** {}\n\n**How to check:** {}\n\n**How to fix:** {}", info.desired, info.how_to_check, info.how_to_fix),
                    },
                    "defaultConfiguration": { "level": if required { "error" } else { "warning" } },
                    "properties": { "required": required },
                })
            })
            .collect();
        let mut results = Vec::new();
        let mut notifications = Vec::new();
        for r in &self.results {
            let rule_index = checks.iter().position(|c| *c == r.result.check);
            let level = match r.result.outcome {
                Outcome::Fail if r.required => "error",
                Outcome::Fail => "warning",
                Outcome::Warn => "note",
                Outcome::Error => {
                    notifications.push(json!({
                        "level": if r.required { "error" } else { "warning" },
                        "message": { "text": format!("{}: {}: {}", r.result.check, r.result.subject, r.result.message) },
                        "associatedRule": { "id": r.result.check.as_str(), "index": rule_index },
                    }));
                    continue;
                }
                Outcome::Pass | Outcome::NotApplicable => continue,
            };
            let subject = r.result.subject.to_string();
            let mut location = json!({
                "logicalLocations": [{ "fullyQualifiedName": subject, "kind": "resource" }],
            });
            if let Some(origin) = &r.origin {
                let mut physical =
                    json!({ "artifactLocation": { "uri": uri_reference(&origin.file) } });
                if let Some(line) = origin.line {
                    physical["region"] = json!({ "startLine": line });
                }
                location["physicalLocation"] = physical;
            }
            results.push(json!({
                "ruleId": r.result.check.as_str(),
                "ruleIndex": rule_index,
                "level": level,
                "message": { "text": format!("{subject}: {}", r.result.message) },
                "locations": [location],
                "partialFingerprints": { "demarcSubject/v1": format!("{}/{subject}", r.result.check) },
                "properties": { "evidence": r.result.evidence },
            }));
        }
        let sarif = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "demarc",
                    "informationUri": "https://github.com/demarc/demarc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "invocations": [{
                    "executionSuccessful": true,
                    "endTimeUtc": self.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "toolExecutionNotifications": notifications,
                }],
                "results": results,
            }],
        });
        serde_json::to_string_pretty(&sarif).unwrap_or_default()
    }
}

/// The kinds a go-live check judges, for messages.
const WORKLOAD_KINDS: &str = "Deployment, StatefulSet, DaemonSet, CronJob, Job or Argo Rollout";

/// Failing results for a read that found no workload at all (a misspelt namespace, the wrong
/// folder, templates not rendered): without them every workload check would have no result,
/// nothing would fail, and the run would pass having checked nothing. Demarc's own runs fail
/// the items of such a read the same way.
///
/// Empty when `results` has a result about a workload, or an `error` (a read that failed says
/// nothing about what is there: the error speaks). Otherwise each of `checks` that gave no result
/// (namespace-wide checks such as `backups` still answer) gets a `fail`: one per namespace read
/// (`namespaces`, from a cluster read) with the Namespace as subject, else one whose subject is
/// `Namespace *` (every namespace of the files or the cluster).
pub fn nothing_found(
    results: &[CheckResult],
    checks: &[CheckId],
    source: Option<&SourceInfo>,
    namespaces: &[String],
) -> Vec<CheckResult> {
    let found = results
        .iter()
        .any(|r| r.subject.kind != "Namespace" || r.outcome == Outcome::Error);
    if found {
        return Vec::new();
    }
    let cluster = source.is_some_and(|s| s.kind == "cluster");
    let places: Vec<(String, String)> = if namespaces.is_empty() {
        let where_ = match source.map(|s| s.kind.as_str()) {
            Some("cluster") => "in any namespace of the cluster".to_string(),
            Some("upload") => "in the uploaded objects".to_string(),
            _ => "in the manifest files".to_string(),
        };
        vec![("*".to_string(), where_)]
    } else {
        namespaces
            .iter()
            .map(|ns| (ns.clone(), format!("in namespace {ns}")))
            .collect()
    };
    let advice = if cluster {
        "make sure the namespaces read are the application's and that it is deployed there"
    } else {
        "make sure the paths name the application's manifests, rendered (helm template, kustomize build)"
    };
    let mut out = Vec::new();
    for check in checks {
        if results.iter().any(|r| r.check == *check) {
            continue;
        }
        for (name, where_) in &places {
            let mut evidence = crate::Evidence::default();
            evidence.values.insert("workloads_found".into(), 0.into());
            if let Some(source) = source {
                evidence.values.insert(
                    "source".into(),
                    format!("{} {}", source.kind, source.name).into(),
                );
            }
            out.push(CheckResult {
                check: *check,
                subject: crate::ObjectRef {
                    kind: "Namespace".into(),
                    namespace: None,
                    name: name.clone(),
                    resource_version: None,
                },
                outcome: Outcome::Fail,
                message: format!(
                    "No workload ({WORKLOAD_KINDS}) was found {where_}, so nothing could be checked: {advice}"
                ),
                evidence,
            });
        }
    }
    out
}

fn same_subject(a: &crate::ObjectRef, b: &crate::ObjectRef) -> bool {
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

fn worst(counts: &Counts) -> Outcome {
    [
        (counts.fail, Outcome::Fail),
        (counts.error, Outcome::Error),
        (counts.warn, Outcome::Warn),
        (counts.pass, Outcome::Pass),
    ]
    .into_iter()
    .find(|(n, _)| *n > 0)
    .map(|(_, o)| o)
    .unwrap_or(Outcome::NotApplicable)
}

/// The evidence values as `key: value` lines, for the body of a JUnit failure.
fn evidence_text(result: &CheckResult) -> String {
    let mut s = String::new();
    for object in &result.evidence.objects {
        let _ = writeln!(s, "read: {object}");
    }
    for (k, v) in &result.evidence.values {
        let _ = writeln!(s, "{k}: {v}");
    }
    s
}

/// Escapes text for XML attributes and content; characters XML 1.0 cannot carry (most
/// control characters) become U+FFFD.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A file path as a relative URI reference (forward slashes, reserved bytes percent-encoded).
fn uri_reference(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Evidence, ObjectRef};

    fn result(check: CheckId, name: &str, outcome: Outcome, message: &str) -> CheckResult {
        CheckResult {
            check,
            subject: ObjectRef {
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: name.into(),
                resource_version: None,
            },
            outcome,
            message: message.into(),
            evidence: Evidence::default(),
        }
    }

    fn sample() -> Report {
        let results = vec![
            result(
                CheckId::Replicas,
                "web",
                Outcome::Fail,
                "spec.replicas is 1 <need \"2\" & more>",
            ),
            result(CheckId::Probes, "web", Outcome::Pass, "readiness probe set"),
            result(CheckId::Replicas, "api", Outcome::Pass, "3 replicas"),
            result(CheckId::Probes, "api", Outcome::Warn, "no startup probe"),
            result(
                CheckId::Spread,
                "api",
                Outcome::Error,
                "needs a live cluster",
            ),
            result(
                CheckId::Rollout,
                "api",
                Outcome::NotApplicable,
                "no strategy",
            ),
            result(CheckId::Image, "api", Outcome::Fail, "image uses :latest"),
        ];
        let source = SourceInfo {
            kind: "manifests".into(),
            name: "deploy/".into(),
            server_version: None,
            server: None,
            read_at: Utc::now(),
        };
        Report::new(
            &results,
            Some(&source),
            &[CheckId::Replicas, CheckId::Probes, CheckId::Spread],
            None,
            Utc::now(),
        )
    }

    #[test]
    fn a_run_fails_only_when_a_required_check_fails() {
        let report = sample();
        assert_eq!(report.summary.required_failures, 1);
        assert!(!report.summary.passed);
        assert_eq!(report.summary.subjects, 2);
        assert_eq!(report.summary.counts.fail, 2);
        let only_image = Report::new(
            &report
                .results
                .iter()
                .map(|r| r.result.clone())
                .collect::<Vec<_>>(),
            None,
            &[CheckId::Probes],
            None,
            Utc::now(),
        );
        assert!(only_image.summary.passed);
    }

    #[test]
    fn a_required_check_that_could_not_be_answered_does_not_pass() {
        // Spread (required) could not be answered for api; nothing failed otherwise.
        let results: Vec<CheckResult> = sample()
            .results
            .into_iter()
            .map(|r| r.result)
            .filter(|r| r.outcome != Outcome::Fail)
            .collect();
        let report = Report::new(
            &results,
            None,
            &[CheckId::Replicas, CheckId::Spread],
            None,
            Utc::now(),
        );
        assert_eq!(report.summary.required_failures, 0);
        assert_eq!(report.summary.required_errors, 1);
        assert!(!report.summary.passed);
        let text = report.to_text();
        assert!(
            text.contains("NOT CHECKED: 1 required result(s) could not be checked (spread)"),
            "{text}"
        );
        assert!(text.contains("ERROR spread"), "{text}");
        assert!(!text.contains("PASSED"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["summary"]["passed"], false);
        assert_eq!(json["summary"]["required_errors"], 1);
        let xml = report.to_junit();
        assert!(
            xml.contains("<error message=\"needs a live cluster\" type=\"required\"/>"),
            "{xml}"
        );
        let sarif: serde_json::Value = serde_json::from_str(&report.to_sarif()).unwrap();
        let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(notes[0]["level"], "error", "{notes}");

        // Not required, the same error is reported and the run passes.
        let advisory = Report::new(&results, None, &[CheckId::Replicas], None, Utc::now());
        assert_eq!(advisory.summary.required_errors, 0);
        assert!(advisory.summary.passed);
        let text = advisory.to_text();
        assert!(text.contains("error spread"), "{text}");
        assert!(
            text.contains("PASSED: every required check was answered and none failed"),
            "{text}"
        );
        assert!(advisory.to_junit().contains("type=\"advisory\""));
        let sarif: serde_json::Value = serde_json::from_str(&advisory.to_sarif()).unwrap();
        let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(notes[0]["level"], "warning", "{notes}");
    }

    fn cluster(name: &str) -> SourceInfo {
        SourceInfo {
            kind: "cluster".into(),
            name: name.into(),
            server_version: Some("v1.31.2".into()),
            server: None,
            read_at: Utc::now(),
        }
    }

    fn namespace_result(check: CheckId, ns: &str, outcome: Outcome) -> CheckResult {
        let mut r = result(check, ns, outcome, "no Velero Schedule covers it");
        r.subject = ObjectRef {
            kind: "Namespace".into(),
            namespace: None,
            name: ns.into(),
            resource_version: None,
        };
        r
    }

    #[test]
    fn a_read_of_a_namespace_without_workloads_fails_every_check_it_left_unanswered() {
        // A misspelt namespace: only the namespace-wide backups check answered.
        let checks = [CheckId::Replicas, CheckId::Probes, CheckId::Backups];
        let mut results = vec![namespace_result(
            CheckId::Backups,
            "shpo",
            Outcome::NotApplicable,
        )];
        let source = cluster("prod");
        let added = nothing_found(&results, &checks, Some(&source), &["shpo".into()]);
        let checked: Vec<CheckId> = added.iter().map(|r| r.check).collect();
        assert_eq!(checked, [CheckId::Replicas, CheckId::Probes]);
        for r in &added {
            assert_eq!(r.outcome, Outcome::Fail);
            assert_eq!(r.subject.to_string(), "Namespace shpo");
            assert!(
                r.message.starts_with("No workload (Deployment, StatefulSet, DaemonSet, CronJob, Job or Argo Rollout) was found in namespace shpo, so nothing could be checked"),
                "{}",
                r.message
            );
        }
        results.extend(added);
        let report = Report::new(&results, Some(&source), &checks, None, Utc::now());
        assert!(!report.summary.passed);
        assert_eq!(report.summary.required_failures, 2);
        let text = report.to_text();
        assert!(text.contains("FAIL  replicas"), "{text}");

        // Files without a workload say so too.
        let files = SourceInfo {
            kind: "manifests".into(),
            ..source.clone()
        };
        let added = nothing_found(&[], &[CheckId::Image], Some(&files), &[]);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].subject.to_string(), "Namespace *");
        assert!(
            added[0].message.contains("was found in the manifest files"),
            "{}",
            added[0].message
        );
    }

    #[test]
    fn a_read_that_found_a_workload_or_failed_is_left_as_it_is() {
        let checks = [CheckId::Replicas, CheckId::Probes];
        let source = cluster("prod");
        // A workload was judged by one check: the others had nothing to say about it.
        let judged = [result(
            CheckId::Replicas,
            "web",
            Outcome::Pass,
            "2 replicas",
        )];
        assert_eq!(
            nothing_found(&judged, &checks, Some(&source), &["shop".into()]),
            []
        );
        // A read that failed (an error, even on a Namespace) says nothing about what is there.
        let failed = [namespace_result(CheckId::Backups, "shop", Outcome::Error)];
        assert_eq!(
            nothing_found(&failed, &checks, Some(&source), &["shop".into()]),
            []
        );
    }

    #[test]
    fn the_json_report_round_trips_and_keeps_the_result_fields_flat() {
        let report = sample();
        let json = report.to_json();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["schema"], SCHEMA);
        assert_eq!(value["results"][0]["check"], "replicas");
        assert!(value["results"][0]["subject"]["name"].is_string());
        assert!(value["results"][0]["required"].is_boolean());
    }

    /// A small XML reader good enough to check well-formedness: tags balance, attributes are
    /// quoted, and entities are the five predefined ones or numeric.
    type Element = (String, Vec<(String, String)>);

    fn xml_elements(xml: &str) -> Result<Vec<Element>, String> {
        let body = xml
            .split_once("?>")
            .map(|(_, b)| b)
            .ok_or("no XML declaration")?;
        let mut stack: Vec<String> = Vec::new();
        let mut elements = Vec::new();
        let mut rest = body;
        while let Some(open) = rest.find('<') {
            check_text(&rest[..open])?;
            let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name.trim()) {
                    return Err(format!("mismatched </{name}>"));
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
            let mut attrs = Vec::new();
            loop {
                attrs_text = attrs_text.trim_start();
                if attrs_text.is_empty() {
                    break;
                }
                let (key, after) = attrs_text.split_once("=\"").ok_or("unquoted attribute")?;
                let end = after.find('"').ok_or("unterminated attribute")?;
                let value = &after[..end];
                if value.contains('<') {
                    return Err("< in attribute".into());
                }
                check_text(value)?;
                attrs.push((key.to_string(), value.to_string()));
                attrs_text = &after[end + 1..];
            }
            elements.push((name.to_string(), attrs));
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        check_text(rest)?;
        if stack.is_empty() {
            Ok(elements)
        } else {
            Err(format!("unclosed {stack:?}"))
        }
    }

    fn check_text(text: &str) -> Result<(), String> {
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            let end = rest[amp..].find(';').ok_or("bare &")? + amp;
            let entity = &rest[amp + 1..end];
            if !matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos") && !entity.starts_with('#')
            {
                return Err(format!("unknown entity &{entity};"));
            }
            rest = &rest[end + 1..];
        }
        Ok(())
    }

    #[test]
    fn junit_is_well_formed_xml_with_one_suite_per_check_and_the_expected_counts() {
        let xml = sample().to_junit();
        let elements = xml_elements(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        let count = |name: &str| elements.iter().filter(|(n, _)| n == name).count();
        assert_eq!(count("testsuites"), 1);
        assert_eq!(count("testsuite"), 5);
        assert_eq!(count("testcase"), 7);
        assert_eq!(count("failure"), 2);
        assert_eq!(count("error"), 1);
        assert_eq!(count("skipped"), 1);
        let root = &elements[0].1;
        assert!(root.contains(&("tests".into(), "7".into())));
        assert!(root.contains(&("failures".into(), "2".into())));
        assert!(xml.contains("&lt;need &quot;2&quot; &amp; more&gt;"));
    }

    #[test]
    fn xml_escaping_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            xml_escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(xml_escape("a\u{1}b\nc"), "a\u{fffd}b&#10;c");
    }

    #[test]
    fn sarif_has_the_required_top_level_fields_rules_and_leveled_results() {
        let sarif: serde_json::Value = serde_json::from_str(&sample().to_sarif()).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
        let run = &sarif["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "demarc");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 5);
        let results = run["results"].as_array().unwrap();
        let levels: Vec<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels.iter().filter(|l| **l == "error").count(), 1);
        assert_eq!(levels.iter().filter(|l| **l == "warning").count(), 1);
        assert_eq!(levels.iter().filter(|l| **l == "note").count(), 1);
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], r["ruleId"]);
        }
        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notes.len(), 1);
        let replicas = results.iter().find(|r| r["ruleId"] == "replicas").unwrap();
        let message = replicas["message"]["text"].as_str().unwrap();
        assert!(message.contains("<need \"2\" & more>"), "{message}");
    }

    #[test]
    fn sarif_locations_point_at_the_manifest_file_when_known() {
        let docs = crate::manifests::parse_str(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {selector: {}, template: {}}\n",
            "deploy/my app.yaml",
        )
        .unwrap();
        let set =
            crate::manifests::snapshot_from_documents_with(docs, &Default::default()).unwrap();
        let results = [result(CheckId::Replicas, "web", Outcome::Fail, "1 replica")];
        let report = Report::new(
            &results,
            None,
            &CheckId::ALL,
            Some(&set.origins),
            Utc::now(),
        );
        let sarif: serde_json::Value = serde_json::from_str(&report.to_sarif()).unwrap();
        let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "deploy/my%20app.yaml");
        assert_eq!(location["region"]["startLine"], 1);
    }

    #[test]
    fn text_groups_results_by_subject_and_ends_with_the_verdict() {
        let text = sample().to_text();
        assert!(text.contains("Deployment shop/api"));
        assert!(text.contains("FAIL  replicas"));
        assert!(text.contains("fail  image"), "{text}");
        assert!(
            text.contains("FAILED: 1 required result(s) failed (replicas)"),
            "{text}"
        );
    }
}
