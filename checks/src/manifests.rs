//! Offline readers: a [`Snapshot`] from manifest files (YAML or JSON, one or many documents, a
//! folder of them) or from an uploaded `kubectl get ... -o json` List.
//!
//! Objects are sorted into the snapshot's sources by API group and kind; kinds the checks do not
//! read (ConfigMaps, Roles, ...) are counted and skipped. What manifest files cannot say is made
//! explicit, so that the engine answers "error" or "not applicable" rather than a false "fail":
//!
//! * Pods and Nodes: files from a CI pipeline describe what should run, not what runs. When no
//!   Pod (or no Node) object is present, `pods` (or `nodes`) is
//!   `Source::Failed("manifest files carry no live Pods/Nodes ...")`, so the checks that need the
//!   running cluster (spread, drain capacity) report an error that says so. A kubectl List of
//!   Pods or Nodes is read as usual.
//! * Custom kinds: a group of custom resources absent from the files (monitoring.coreos.com,
//!   velero.io, cert-manager.io, argoproj.io) is `Source::NotInstalled`; as soon as one object of
//!   the group is present, every kind of that group is `Source::Read` (possibly empty).
//! * Built-in kinds absent from the files (PDBs, NetworkPolicies, LimitRanges, ...) are read as
//!   empty: the files are taken as the whole application.
//!
//! Namespaced objects without `metadata.namespace` are put in the default namespace of
//! [`ManifestOptions`] (`default`, as `kubectl apply` without `-n` would). Deprecated API versions
//! whose shape the checks read unchanged (`extensions/v1beta1` Deployments, `batch/v1beta1`
//! CronJobs, `policy/v1beta1` PDBs, `autoscaling/v1` HPAs, ...) are read as their current version.
//! When two documents describe the same object, the later one wins (as with `kubectl apply`) and
//! a warning names both places. YAML merge keys (`<<`) are not expanded.
//!
//! Errors name the file, the document (1-based) and, when known, the line; nothing here panics
//! on bad input.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::snapshot::{Snapshot, Source};
use crate::{CheckId, ObjectRef, SourceInfo};

/// Where an object was read: the file (as given, or `-` for standard input), the document in
/// it (1-based) and the line where that document starts (1-based), when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Origin {
    pub file: String,
    pub document: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.file, line),
            None => write!(f, "{} (document {})", self.file, self.document),
        }
    }
}

/// Where each object of a snapshot came from, looked up by the [`ObjectRef`] a result names.
#[derive(Debug, Clone, Default)]
pub struct Origins(HashMap<(String, Option<String>, String), Origin>);

impl Origins {
    /// The origin of an object (kind, namespace and name; the resource version is ignored).
    pub fn get(&self, object: &ObjectRef) -> Option<&Origin> {
        // One allocation per lookup is fine: reports look up one origin per result.
        self.0.get(&(
            object.kind.clone(),
            object.namespace.clone(),
            object.name.clone(),
        ))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A snapshot read from manifests, with where each object came from.
#[derive(Debug, Clone, Default)]
pub struct ManifestSet {
    pub snapshot: Snapshot,
    pub origins: Origins,
    /// Objects sorted into the snapshot.
    pub objects: usize,
    /// Objects of kinds no check reads (ConfigMap, Role, ...), skipped.
    pub skipped: usize,
    /// Things worth telling the user that do not stop the run (an object defined twice).
    pub warnings: Vec<String>,
}

/// How manifests are read.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    /// The namespace of namespaced objects that name none (`kubectl apply -n`), `default`.
    pub default_namespace: String,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            default_namespace: "default".into(),
        }
    }
}

/// Why manifests could not be read. The message names the file, document and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The file (or `-` for standard input, or the upload's name).
    pub file: String,
    /// The document in the file (1-based), when the error is about one document.
    pub document: Option<usize>,
    /// The line in the file (1-based), when known.
    pub line: Option<usize>,
    pub message: String,
}

impl ManifestError {
    fn file(file: &str, message: impl Into<String>) -> Self {
        ManifestError {
            file: file.into(),
            document: None,
            line: None,
            message: message.into(),
        }
    }

    fn at(origin: &Origin, message: impl Into<String>) -> Self {
        ManifestError {
            file: origin.file.clone(),
            document: Some(origin.document),
            line: origin.line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(document) = self.document {
            write!(f, " (document {document})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

/// One parsed document and where it starts.
pub type Document = (Origin, Value);

/// Reads one file: JSON when it ends in `.json` (or starts with `{`/`[`), YAML otherwise.
pub fn parse_file(path: &Path) -> Result<Vec<Document>, ManifestError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ManifestError::file(&name, format!("cannot read: {e}")))?;
    parse_str(&text, &name)
}

/// Parses the text of one file or upload; `origin` names it in errors. JSON (one value or a
/// stream of values) when the first non-blank character is `{` or `[`, YAML (documents
/// separated by `---`) otherwise.
pub fn parse_str(text: &str, origin: &str) -> Result<Vec<Document>, ManifestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if looks_like_json(text) {
        parse_json(text, origin)
    } else {
        parse_yaml(text, origin)
    }
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with(['{', '['])
}

fn parse_json(text: &str, file: &str) -> Result<Vec<Document>, ManifestError> {
    let mut docs = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (i, value) in stream.enumerate() {
        let document = i + 1;
        match value {
            Ok(value) => docs.push((
                Origin {
                    file: file.into(),
                    document,
                    line: None,
                },
                value,
            )),
            Err(e) => {
                return Err(ManifestError {
                    file: file.into(),
                    document: Some(document),
                    line: Some(e.line()),
                    message: format!("invalid JSON: {e}"),
                });
            }
        }
    }
    Ok(docs)
}

/// Splits YAML at `---` lines (and `...` ends) itself, so that each document has its start line
/// and one bad document is reported on its own.
fn parse_yaml(text: &str, file: &str) -> Result<Vec<Document>, ManifestError> {
    let mut docs = Vec::new();
    let mut document = 0;
    for (start_line, chunk) in yaml_documents(text) {
        if chunk
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        document += 1;
        let value: Value = serde_norway::from_str(chunk).map_err(|e| {
            let line = e
                .location()
                .map(|l| start_line + l.line().saturating_sub(1))
                .unwrap_or(start_line);
            // The parser's own message carries its position within the document; ours names the
            // line in the file instead.
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            ManifestError {
                file: file.into(),
                document: Some(document),
                line: Some(line),
                message: format!("invalid YAML: {message}"),
            }
        })?;
        if value.is_null() {
            continue;
        }
        docs.push((
            Origin {
                file: file.into(),
                document,
                line: Some(first_content_line(chunk, start_line)),
            },
            value,
        ));
    }
    Ok(docs)
}

/// The documents of a YAML stream with the (1-based) line each starts on. A line starting with
/// `---` (a document marker; content may follow it) starts a new one; `...` ends one.
fn yaml_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0; // byte offset of the current document
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        let marker = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let end = bare == "...";
        if marker || end {
            out.push((start_line, &text[start..offset]));
            if marker && bare.len() > 3 {
                // `--- |` or `--- {...}`: the content after the marker belongs to the document.
                start = offset + 3;
                start_line = i + 1;
            } else {
                start = offset + line.len();
                start_line = i + 2;
            }
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

fn first_content_line(chunk: &str, start_line: usize) -> usize {
    chunk
        .lines()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|i| start_line + i)
        .unwrap_or(start_line)
}

/// Reads files and folders (recursively: `.yaml`, `.yml` and `.json` files, in name order;
/// hidden entries skipped). A path given explicitly is read whatever its extension; `-` reads
/// standard input.
pub fn snapshot_from_paths(paths: &[PathBuf]) -> Result<ManifestSet, ManifestError> {
    snapshot_from_paths_with(paths, &ManifestOptions::default())
}

/// [`snapshot_from_paths`] with options.
pub fn snapshot_from_paths_with(
    paths: &[PathBuf],
    options: &ManifestOptions,
) -> Result<ManifestSet, ManifestError> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| {
            ManifestError::file(&path.display().to_string(), format!("cannot read: {e}"))
        })?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    let mut docs = Vec::new();
    for file in &files {
        if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                ManifestError::file("-", format!("cannot read standard input: {e}"))
            })?;
            docs.extend(parse_str(&text, "-")?);
        } else {
            docs.extend(parse_file(file)?);
        }
    }
    let name = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let mut set = snapshot_from_documents_with(docs, options)?;
    set.snapshot.source = Some(SourceInfo {
        kind: "manifests".into(),
        name,
        server_version: None,
        server: None,
        read_at: Utc::now(),
    });
    Ok(set)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), ManifestError> {
    let name = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ManifestError::file(&name, format!("cannot read folder: {e}")))?;
    let mut entries: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// An uploaded `kubectl get ... -o json` (or `-o yaml`) output: a List, or one object.
/// `name` names the upload in errors and in the snapshot's [`SourceInfo`] (kind `upload`).
pub fn snapshot_from_upload(text: &str, name: &str) -> Result<ManifestSet, ManifestError> {
    let docs = parse_str(text, name)?;
    let mut set = snapshot_from_documents_with(docs, &ManifestOptions::default())?;
    set.snapshot.source = Some(SourceInfo {
        kind: "upload".into(),
        name: name.into(),
        server_version: None,
        server: None,
        read_at: Utc::now(),
    });
    Ok(set)
}

/// Builds a snapshot from documents, each with a text naming where it came from (a file name;
/// the document number is its position among the documents of that origin).
pub fn snapshot_from_documents(
    docs: impl IntoIterator<Item = (String, Value)>,
) -> Result<Snapshot, ManifestError> {
    let mut counters: HashMap<String, usize> = HashMap::new();
    let docs = docs.into_iter().map(|(file, value)| {
        let n = counters.entry(file.clone()).or_default();
        *n += 1;
        (
            Origin {
                file,
                document: *n,
                line: None,
            },
            value,
        )
    });
    let mut set = snapshot_from_documents_with(docs, &ManifestOptions::default())?;
    set.snapshot.source = Some(SourceInfo {
        kind: "manifests".into(),
        name: String::new(),
        server_version: None,
        server: None,
        read_at: Utc::now(),
    });
    Ok(set.snapshot)
}

/// The kinds the checks read, by API group and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Namespace,
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
    Rollout,
    Pod,
    Node,
    Service,
    ServiceAccount,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    NetworkPolicy,
    LimitRange,
    Ingress,
    ServiceMonitor,
    PodMonitor,
    PrometheusRule,
    VeleroSchedule,
    VeleroBackup,
    Certificate,
}

impl Slot {
    /// The slot of an apiVersion + kind, and the apiVersion the object is read as.
    fn of(api_version: &str, kind: &str) -> Option<(Slot, &'static str)> {
        let group = match api_version.rsplit_once('/') {
            Some((group, _)) => group,
            None => "",
        };
        Some(match (group, kind) {
            ("", "Namespace") => (Slot::Namespace, "v1"),
            ("apps" | "extensions", "Deployment") => (Slot::Deployment, "apps/v1"),
            ("apps", "StatefulSet") => (Slot::StatefulSet, "apps/v1"),
            ("apps" | "extensions", "DaemonSet") => (Slot::DaemonSet, "apps/v1"),
            ("batch", "CronJob") => (Slot::CronJob, "batch/v1"),
            ("batch", "Job") => (Slot::Job, "batch/v1"),
            ("argoproj.io", "Rollout") => (Slot::Rollout, ""),
            ("", "Pod") => (Slot::Pod, "v1"),
            ("", "Node") => (Slot::Node, "v1"),
            ("", "Service") => (Slot::Service, "v1"),
            ("", "ServiceAccount") => (Slot::ServiceAccount, "v1"),
            ("policy", "PodDisruptionBudget") => (Slot::PodDisruptionBudget, "policy/v1"),
            ("autoscaling", "HorizontalPodAutoscaler") => {
                (Slot::HorizontalPodAutoscaler, "autoscaling/v2")
            }
            ("networking.k8s.io" | "extensions", "NetworkPolicy") => {
                (Slot::NetworkPolicy, "networking.k8s.io/v1")
            }
            ("", "LimitRange") => (Slot::LimitRange, "v1"),
            ("networking.k8s.io" | "extensions", "Ingress") => {
                (Slot::Ingress, "networking.k8s.io/v1")
            }
            ("monitoring.coreos.com", "ServiceMonitor") => (Slot::ServiceMonitor, ""),
            ("monitoring.coreos.com", "PodMonitor") => (Slot::PodMonitor, ""),
            ("monitoring.coreos.com", "PrometheusRule") => (Slot::PrometheusRule, ""),
            ("velero.io", "Schedule") => (Slot::VeleroSchedule, ""),
            ("velero.io", "Backup") => (Slot::VeleroBackup, ""),
            ("cert-manager.io", "Certificate") => (Slot::Certificate, ""),
            _ => return None,
        })
    }

    fn namespaced(self) -> bool {
        !matches!(self, Slot::Namespace | Slot::Node)
    }
}

/// One object, after Lists are unpacked and duplicates resolved.
struct Entry {
    slot: Slot,
    value: Value,
    origin: Origin,
}

/// Builds a snapshot from parsed documents (Lists unpacked), with the origin of each object.
pub fn snapshot_from_documents_with(
    docs: impl IntoIterator<Item = Document>,
    options: &ManifestOptions,
) -> Result<ManifestSet, ManifestError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: HashMap<(String, Option<String>, String), usize> = HashMap::new();
    let mut set = ManifestSet::default();

    // Documents still to sort, with the (apiVersion, kind) of the List they came from, if any.
    type Pending = (Origin, Value, Option<(String, String)>);
    let mut pending: Vec<Pending> = Vec::new();
    for (origin, value) in docs {
        pending.push((origin, value, None));
        while let Some((origin, value, list_of)) = pending.pop() {
            let mut value = match value {
                Value::Null => continue,
                Value::Array(items) => {
                    // A JSON array of objects: each one on its own, in order.
                    for item in items.into_iter().rev() {
                        pending.push((origin.clone(), item, None));
                    }
                    continue;
                }
                Value::Object(_) => value,
                other => {
                    return Err(ManifestError::at(
                        &origin,
                        format!("expected a Kubernetes object, found {}", json_type(&other)),
                    ));
                }
            };
            // Items of a raw API List (`/apis/apps/v1/deployments`) carry no kind/apiVersion.
            if let (Some((api_version, kind)), Some(object)) = (&list_of, value.as_object_mut()) {
                object
                    .entry("kind")
                    .or_insert_with(|| Value::String(kind.clone()));
                object
                    .entry("apiVersion")
                    .or_insert_with(|| Value::String(api_version.clone()));
            }
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let api_version = value
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let (kind, api_version) = (kind.as_str(), api_version.as_str());
            if kind.is_empty() || api_version.is_empty() {
                let missing = if kind.is_empty() {
                    "kind"
                } else {
                    "apiVersion"
                };
                return Err(ManifestError::at(
                    &origin,
                    format!("not a Kubernetes object: `{missing}` is missing"),
                ));
            }
            if kind == "List" || (kind.ends_with("List") && value.get("items").is_some()) {
                let item_kind = kind.strip_suffix("List").unwrap_or("");
                let of = (!item_kind.is_empty())
                    .then(|| (api_version.to_string(), item_kind.to_string()));
                match value.get_mut("items").map(Value::take) {
                    Some(Value::Array(items)) => {
                        for item in items.into_iter().rev() {
                            pending.push((origin.clone(), item, of.clone()));
                        }
                    }
                    Some(Value::Null) | None => {}
                    Some(other) => {
                        return Err(ManifestError::at(
                            &origin,
                            format!(
                                "`items` of a {kind} must be a list, found {}",
                                json_type(&other)
                            ),
                        ));
                    }
                }
                continue;
            }
            let Some((slot, canonical)) = Slot::of(api_version, kind) else {
                set.skipped += 1;
                continue;
            };
            let kind = kind.to_string();
            let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
                return Err(ManifestError::at(
                    &origin,
                    format!("{kind}: `metadata` is missing or not a mapping"),
                ));
            };
            let name = match metadata.get("name").and_then(Value::as_str) {
                Some(name) if !name.is_empty() => name.to_string(),
                _ => {
                    return Err(ManifestError::at(
                        &origin,
                        format!(
                            "{kind}: `metadata.name` is missing (generateName is not supported)"
                        ),
                    ));
                }
            };
            let namespace = if slot.namespaced() {
                match metadata.get("namespace").and_then(Value::as_str) {
                    Some(ns) if !ns.is_empty() => Some(ns.to_string()),
                    _ => {
                        metadata.insert(
                            "namespace".into(),
                            Value::String(options.default_namespace.clone()),
                        );
                        Some(options.default_namespace.clone())
                    }
                }
            } else {
                None
            };
            if !canonical.is_empty() {
                value["apiVersion"] = Value::String(canonical.into());
            }
            let key = (kind, namespace, name);
            let entry = Entry {
                slot,
                value,
                origin,
            };
            match index.get(&key) {
                Some(&i) => {
                    let (kind, ns, name) = &key;
                    let what = match ns {
                        Some(ns) => format!("{kind} {ns}/{name}"),
                        None => format!("{kind} {name}"),
                    };
                    set.warnings.push(format!(
                        "{what} is defined twice ({} and {}); the later one is used",
                        entries[i].origin, entry.origin
                    ));
                    entries[i] = entry;
                }
                None => {
                    index.insert(key, entries.len());
                    entries.push(entry);
                }
            }
        }
    }

    let mut snapshot = Snapshot::default();
    let mut groups_seen = (false, false, false, false); // monitoring, velero, cert-manager, argo
    let (mut saw_pod, mut saw_node) = (false, false);
    let mut origins = HashMap::with_capacity(entries.len());
    for ((kind, namespace, name), i) in index {
        origins.insert((kind, namespace, name), entries[i].origin.clone());
    }
    set.objects = entries.len();
    for Entry {
        slot,
        value,
        origin,
    } in entries
    {
        let s = &mut snapshot;
        match slot {
            Slot::Namespace => push(&mut s.namespace_objects, value, &origin)?,
            Slot::Deployment => push(&mut s.deployments, value, &origin)?,
            Slot::StatefulSet => push(&mut s.stateful_sets, value, &origin)?,
            Slot::DaemonSet => push(&mut s.daemon_sets, value, &origin)?,
            Slot::CronJob => push(&mut s.cron_jobs, value, &origin)?,
            Slot::Job => push(&mut s.jobs, value, &origin)?,
            Slot::Pod => {
                saw_pod = true;
                push(&mut s.pods, value, &origin)?
            }
            Slot::Node => {
                saw_node = true;
                push(&mut s.nodes, value, &origin)?
            }
            Slot::Service => push(&mut s.services, value, &origin)?,
            Slot::ServiceAccount => push(&mut s.service_accounts, value, &origin)?,
            Slot::PodDisruptionBudget => push(&mut s.pod_disruption_budgets, value, &origin)?,
            Slot::HorizontalPodAutoscaler => {
                push(&mut s.horizontal_pod_autoscalers, value, &origin)?
            }
            Slot::NetworkPolicy => push(&mut s.network_policies, value, &origin)?,
            Slot::LimitRange => push(&mut s.limit_ranges, value, &origin)?,
            Slot::Ingress => push(&mut s.ingresses, value, &origin)?,
            Slot::Rollout => {
                groups_seen.3 = true;
                s.rollouts.push(value)
            }
            Slot::ServiceMonitor => {
                groups_seen.0 = true;
                s.service_monitors.push(value)
            }
            Slot::PodMonitor => {
                groups_seen.0 = true;
                s.pod_monitors.push(value)
            }
            Slot::PrometheusRule => {
                groups_seen.0 = true;
                s.prometheus_rules.push(value)
            }
            Slot::VeleroSchedule => {
                groups_seen.1 = true;
                s.velero_schedules.push(value)
            }
            Slot::VeleroBackup => {
                groups_seen.1 = true;
                s.velero_backups.push(value)
            }
            Slot::Certificate => {
                groups_seen.2 = true;
                s.certificates.push(value)
            }
        }
    }
    if !saw_pod {
        snapshot.pods = Source::Failed(NO_PODS.into());
    }
    // Files hold what someone chose to export: they cannot tell what else runs on the nodes.
    snapshot.node_loads = Source::NotInstalled;
    if !saw_node {
        snapshot.nodes = Source::Failed(NO_NODES.into());
    }
    if !groups_seen.0 {
        snapshot.service_monitors = Source::NotInstalled;
        snapshot.pod_monitors = Source::NotInstalled;
        snapshot.prometheus_rules = Source::NotInstalled;
    }
    if !groups_seen.1 {
        snapshot.velero_schedules = Source::NotInstalled;
        snapshot.velero_backups = Source::NotInstalled;
    }
    if !groups_seen.2 {
        snapshot.certificates = Source::NotInstalled;
    }
    if !groups_seen.3 {
        snapshot.rollouts = Source::NotInstalled;
    }
    set.snapshot = snapshot;
    set.origins = Origins(origins);
    Ok(set)
}

/// The reason `pods` is unavailable when the files hold no Pod.
pub const NO_PODS: &str =
    "manifest files carry no live Pods: checks of where Pods run need a live cluster";
/// The reason `nodes` is unavailable when the files hold no Node.
pub const NO_NODES: &str =
    "manifest files carry no live Nodes: checks of node capacity need a live cluster";

/// The checks that judge where Pods run and the room left on the nodes: files answer them only
/// when they hold the live Pods and Nodes (a `kubectl get -o json` List of them).
pub const NEED_A_LIVE_CLUSTER: [CheckId; 2] = [CheckId::Spread, CheckId::DrainCapacity];

/// The checks a snapshot read from files cannot answer: [`NEED_A_LIVE_CLUSTER`] when the files
/// held no Pod or no Node (each of their results is then an `error` saying so), else none. A
/// command-line run over manifests leaves these out of the checks it requires by default, so
/// that a pipeline is not failed for what files can never show.
pub fn unanswerable(snapshot: &Snapshot) -> Vec<CheckId> {
    let no_pods = matches!(&snapshot.pods, Source::Failed(r) if r == NO_PODS);
    let no_nodes = matches!(&snapshot.nodes, Source::Failed(r) if r == NO_NODES);
    if no_pods || no_nodes {
        NEED_A_LIVE_CLUSTER.to_vec()
    } else {
        Vec::new()
    }
}

fn push<T: serde::de::DeserializeOwned>(
    source: &mut Source<T>,
    value: Value,
    origin: &Origin,
) -> Result<(), ManifestError> {
    match T::deserialize(&value) {
        Ok(item) => {
            source.push(item);
            Ok(())
        }
        Err(_) => {
            // Again with the path of the offending field, for the message.
            let err = match serde_path_to_error::deserialize::<_, T>(&value) {
                Err(e) => format!("{}: {}", e.path(), e.inner()),
                Ok(_) => "cannot be read".into(),
            };
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("object");
            let name = value
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            Err(ManifestError::at(origin, format!("{kind} {name}: {err}")))
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ManifestSet, ManifestError> {
        let docs = parse_str(text, "app.yaml")?;
        snapshot_from_documents_with(docs, &ManifestOptions::default())
    }

    const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
";

    #[test]
    fn multi_document_yaml_is_sorted_by_kind_with_the_line_of_each_document() {
        let text = format!(
            "# a comment\n---\n{DEPLOYMENT}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n\
             apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  maxUnavailable: 1\n"
        );
        let set = read(&text).unwrap();
        let s = &set.snapshot;
        assert_eq!(s.deployments.items_or_empty().len(), 1);
        assert_eq!(s.pod_disruption_budgets.items_or_empty().len(), 1);
        assert_eq!(set.objects, 2);
        assert_eq!(set.skipped, 1);
        let web = ObjectRef {
            kind: "Deployment".into(),
            namespace: Some("default".into()),
            name: "web".into(),
            resource_version: None,
        };
        let origin = set.origins.get(&web).unwrap();
        assert_eq!((origin.document, origin.line), (1, Some(3)));
        let pdb = ObjectRef {
            kind: "PodDisruptionBudget".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
            resource_version: None,
        };
        assert_eq!(set.origins.get(&pdb).unwrap().line, Some(24));
    }

    #[test]
    fn objects_without_a_namespace_land_in_the_default_namespace() {
        let set = read(DEPLOYMENT).unwrap();
        let d = &set.snapshot.deployments.items_or_empty()[0];
        assert_eq!(d.metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn manifests_without_pods_or_nodes_say_a_live_cluster_is_needed() {
        let set = read(DEPLOYMENT).unwrap();
        assert!(matches!(&set.snapshot.pods, Source::Failed(m) if m.contains("live cluster")));
        assert!(matches!(&set.snapshot.nodes, Source::Failed(_)));
        assert_eq!(set.snapshot.service_monitors, Source::NotInstalled);
        assert_eq!(set.snapshot.rollouts, Source::NotInstalled);
        assert_eq!(set.snapshot.network_policies, Source::Read(vec![]));
    }

    #[test]
    fn the_checks_files_cannot_answer_are_exactly_those_that_error_on_them() {
        let set = read(DEPLOYMENT).unwrap();
        assert_eq!(unanswerable(&set.snapshot), NEED_A_LIVE_CLUSTER);
        let all: Vec<(CheckId, crate::Params)> = CheckId::ALL
            .iter()
            .map(|c| (*c, crate::Params::default()))
            .collect();
        let results = crate::engine::evaluate(&set.snapshot, &all, Utc::now());
        let mut errored: Vec<CheckId> = results
            .iter()
            .filter(|r| r.outcome == crate::Outcome::Error)
            .map(|r| r.check)
            .collect();
        errored.dedup();
        assert_eq!(errored, NEED_A_LIVE_CLUSTER, "{results:?}");
        // A kubectl List with the live Pods and Nodes answers them.
        let list = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}},
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default"},"spec":{"containers":[]}}]}"#;
        let set = read(&format!("{DEPLOYMENT}---\n{list}\n")).unwrap();
        assert_eq!(unanswerable(&set.snapshot), []);
    }

    #[test]
    fn one_custom_kind_of_a_group_makes_the_whole_group_read() {
        let text = format!(
            "{DEPLOYMENT}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: web\nspec: {{}}\n"
        );
        let set = read(&text).unwrap();
        assert_eq!(set.snapshot.service_monitors.items_or_empty().len(), 1);
        assert_eq!(set.snapshot.prometheus_rules, Source::Read(vec![]));
        assert_eq!(set.snapshot.certificates, Source::NotInstalled);
    }

    #[test]
    fn a_kubectl_list_in_json_is_unpacked_including_raw_api_lists_without_kinds() {
        let json = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},"spec":{"containers":[]}},
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}
        ]}
        {"apiVersion":"apps/v1","kind":"DeploymentList","items":[{"metadata":{"name":"d","namespace":"a"}}]}"#;
        let set = snapshot_from_upload(json, "upload.json").unwrap();
        assert_eq!(set.snapshot.pods.items_or_empty().len(), 1);
        assert_eq!(set.snapshot.nodes.items_or_empty().len(), 1);
        assert_eq!(set.snapshot.deployments.items_or_empty().len(), 1);
        assert_eq!(set.snapshot.source.as_ref().unwrap().kind, "upload");
    }

    #[test]
    fn deprecated_api_versions_are_read_as_the_current_one() {
        let text = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1}\n\
                    ---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  minReplicas: 2\n  maxReplicas: 5\n  scaleTargetRef: {kind: Deployment, name: web}\n";
        let set = read(text).unwrap();
        assert_eq!(
            set.snapshot.pod_disruption_budgets.items_or_empty().len(),
            1
        );
        let hpa = &set.snapshot.horizontal_pod_autoscalers.items_or_empty()[0];
        assert_eq!(hpa.spec.as_ref().and_then(|s| s.min_replicas), Some(2));
    }

    #[test]
    fn invalid_yaml_names_the_file_document_and_line() {
        let text =
            format!("{DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n");
        let err = read(&text).unwrap_err();
        assert_eq!(err.file, "app.yaml");
        assert_eq!(err.document, Some(2));
        let line = err.line.unwrap();
        assert!((19..=21).contains(&line), "line {line}: {err}");
        assert!(err.to_string().starts_with("app.yaml:"), "{err}");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_with_its_path() {
        let text = DEPLOYMENT.replace("replicas: 2", "replicas: two");
        let err = read(&text).unwrap_err();
        assert!(err.message.contains("spec.replicas"), "{err}");
        assert!(err.message.contains("Deployment web"), "{err}");
    }

    #[test]
    fn documents_that_are_not_objects_are_errors_not_panics() {
        for text in [
            "- 1\n- 2\n",
            "just a string\n",
            "kind: Deployment\n",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {}\n",
        ] {
            assert!(read(text).is_err(), "{text}");
        }
        assert!(
            read("")
                .unwrap()
                .snapshot
                .deployments
                .items_or_empty()
                .is_empty()
        );
        assert!(parse_str("{\"a\": ", "x.json").is_err());
    }

    #[test]
    fn an_object_defined_twice_keeps_the_later_one_and_warns() {
        let text = format!(
            "{DEPLOYMENT}---\n{}",
            DEPLOYMENT.replace("replicas: 2", "replicas: 3")
        );
        let set = read(&text).unwrap();
        let ds = set.snapshot.deployments.items_or_empty();
        assert_eq!(ds.len(), 1);
        assert_eq!(ds[0].spec.as_ref().and_then(|s| s.replicas), Some(3));
        assert_eq!(set.warnings.len(), 1);
    }

    #[test]
    fn folders_are_walked_for_yaml_and_json_files() {
        let dir = std::env::temp_dir().join(format!("demarc-manifests-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.yaml"), DEPLOYMENT).unwrap();
        std::fs::write(
            dir.join("sub/b.json"),
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "not read").unwrap();
        let set = snapshot_from_paths(std::slice::from_ref(&dir)).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(set.snapshot.deployments.items_or_empty().len(), 1);
        assert_eq!(set.snapshot.stateful_sets.items_or_empty().len(), 1);
        assert_eq!(set.snapshot.source.unwrap().kind, "manifests");
        let missing = snapshot_from_paths(&[PathBuf::from("/nonexistent/demarc")]).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/demarc"));
    }
}
