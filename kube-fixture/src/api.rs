//! The HTTP API: discovery, /version, list and get, SelfSubjectAccessReview, Status errors.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::resources::ResourceInfo;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Collection, Store};
use crate::{Deny, Settings};

/// What every request handler shares.
pub struct Shared {
    pub store: Store,
    pub settings: Settings,
    /// `127.0.0.1:port`, for /api's serverAddressByClientCIDRs.
    pub address: String,
}

/// A Kubernetes Status error.
pub struct ApiError {
    code: StatusCode,
    reason: &'static str,
    message: String,
    details: Option<Value>,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn no_resource() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some(details) = self.details {
            body["details"] = details;
        }
        json_response(self.code, serde_json::to_vec(&body).unwrap_or_default())
    }
}

fn json_response(code: StatusCode, body: Vec<u8>) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

fn json_value(value: &Value) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

/// The one handler: the Kubernetes API's paths do not fit a router's patterns well
/// (`/api/v1/namespaces/{name}` against `/api/v1/namespaces/{ns}/pods`).
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    match route(&shared, &method, &uri, &headers, &query, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn route(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<Response, ApiError> {
    authenticate(&shared.settings, headers)?;
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let store = &shared.store;

    if *method == Method::POST
        && segments
            == [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectaccessreviews",
            ]
    {
        return self_subject_access_review(&shared.settings, body);
    }
    if *method != Method::GET && *method != Method::HEAD {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource (the fixture server is read-only)",
        ));
    }

    let (group, version, rest): (&str, &str, &[&str]) = match segments.as_slice() {
        ["version"] => return Ok(json_value(&version_info(&shared.settings.git_version))),
        ["api"] => {
            return Ok(json_value(&json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": shared.address}
                ],
            })));
        }
        ["apis"] => {
            let groups: Vec<Value> = store
                .groups
                .iter()
                .filter(|(g, _)| !g.is_empty())
                .map(|(g, v)| api_group(g, v))
                .collect();
            return Ok(json_value(&json!({
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": groups,
            })));
        }
        ["apis", group] => {
            let (g, v) = store
                .groups
                .iter()
                .find(|(g, _)| g == group)
                .ok_or_else(ApiError::no_resource)?;
            return Ok(json_value(&api_group(g, v)));
        }
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::no_resource()),
    };
    if !store.groups.iter().any(|(g, v)| g == group && v == version) {
        return Err(ApiError::no_resource());
    }
    let (namespace, plural, name) = match rest {
        [] => return Ok(json_value(&resource_list(store, group, version))),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return Err(ApiError::no_resource()),
    };
    let collection = store
        .collection(group, plural)
        .filter(|c| c.info.verbs.contains(&"list"))
        .ok_or_else(ApiError::no_resource)?;
    if collection.info.namespaced != namespace.is_some() && !(name.is_none() && namespace.is_none())
    {
        return Err(ApiError::no_resource());
    }
    if query.get("watch").is_some_and(|w| w == "1" || w == "true") {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "watch is not supported by the fixture server",
        ));
    }
    let verb = if name.is_some() { "get" } else { "list" };
    authorize(&shared.settings, &collection.info, verb, namespace, name)?;
    match name {
        Some(name) => {
            let item = collection.get(namespace, name).ok_or_else(|| {
                let mut error = ApiError::new(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("{} \"{name}\" not found", resource_name(&collection.info)),
                );
                error.details = Some(json!({
                    "name": name, "group": collection.info.group, "kind": collection.info.plural,
                }));
                error
            })?;
            Ok(json_response(StatusCode::OK, item.json.clone()))
        }
        None => list(store, collection, namespace, query, headers),
    }
}

fn authenticate(settings: &Settings, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &settings.token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(expected.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
        ))
    }
}

fn denied(settings: &Settings, group: &str, resource: &str, namespace: Option<&str>) -> bool {
    settings.deny.iter().any(
        |Deny {
             group: g,
             resource: r,
             namespace: n,
         }| {
            g == group
            && (r == resource || r == "*")
            // A cluster-wide request needs the permission everywhere.
            && (n.is_none() || namespace.is_none() || n.as_deref() == namespace)
        },
    )
}

fn authorize(
    settings: &Settings,
    info: &ResourceInfo,
    verb: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<(), ApiError> {
    if !denied(settings, &info.group, &info.plural, namespace) {
        return Ok(());
    }
    let subject = match name {
        Some(name) => format!("{} \"{name}\"", resource_name(info)),
        None => resource_name(info),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let mut error = ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!(
            "{subject} is forbidden: User \"{}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            settings.user, info.plural, info.group
        ),
    );
    let mut details = json!({"group": info.group, "kind": info.plural});
    if let Some(name) = name {
        details["name"] = json!(name);
    }
    error.details = Some(details);
    Err(error)
}

/// `pods` or `deployments.apps`, as the API server names a resource in messages.
fn resource_name(info: &ResourceInfo) -> String {
    if info.group.is_empty() {
        info.plural.clone()
    } else {
        format!("{}.{}", info.plural, info.group)
    }
}

fn self_subject_access_review(settings: &Settings, body: &[u8]) -> Result<Response, ApiError> {
    let mut review: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid SelfSubjectAccessReview: {e}")))?;
    let attributes = review.pointer("/spec/resourceAttributes").cloned();
    if let Some(a) = &attributes {
        let text = |key: &str| a.get(key).and_then(Value::as_str).unwrap_or_default();
        if settings
            .failing_reviews
            .iter()
            .any(|(g, r)| g == text("group") && r == text("resource"))
        {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "Internal error occurred: authorizer webhook is unavailable",
            ));
        }
    }
    let allowed = match &attributes {
        Some(a) => {
            let text = |key: &str| a.get(key).and_then(Value::as_str).unwrap_or_default();
            let verb = text("verb");
            let namespace = Some(text("namespace")).filter(|n| !n.is_empty());
            let read = ["get", "list", "watch"].contains(&verb);
            // The fixture is read-only: writes are never allowed.
            read && !denied(settings, text("group"), text("resource"), namespace)
        }
        // Non-resource URLs (/version, discovery) are open to every authenticated user.
        None => true,
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by the fixture server"})
    } else {
        json!({"allowed": false})
    };
    Ok(json_response(
        StatusCode::CREATED,
        serde_json::to_vec(&review).unwrap_or_default(),
    ))
}

/// /version, with major and minor derived from the gitVersion the way managed clusters report
/// them (`v1.31.4-eks-2d98532` gives minor `31+`).
pub fn version_info(git_version: &str) -> Value {
    let trimmed = git_version.trim_start_matches('v');
    let (core, suffix) = match trimmed.split_once(['-', '+']) {
        Some((core, suffix)) => (core, !suffix.is_empty()),
        None => (trimmed, false),
    };
    let mut parts = core.split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or("0");
    json!({
        "major": major,
        "minor": if suffix { format!("{minor}+") } else { minor.to_string() },
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn api_group(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [gv],
        "preferredVersion": gv,
    })
}

fn resource_list(store: &Store, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = store
        .resources_of(group, version)
        .into_iter()
        .map(ResourceInfo::discovery)
        .collect();
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": if group.is_empty() { version.to_string() } else { format!("{group}/{version}") },
        "resources": resources,
    })
}

fn list(
    store: &Store,
    collection: &Collection,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let limit: usize = match query.get("limit") {
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        None => 0,
    };
    let range = collection.range(namespace);
    let start = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => decode_continue(token)
            .filter(|s| (range.start..=range.end).contains(s))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "continue key is not valid: the fixture server issued no such token",
                )
            })?,
        None => range.start,
    };
    let needs_object = !fields.only_metadata();
    let matches = |i: usize| {
        let item = &collection.items[i];
        if !labels.matches(&item.labels) {
            return false;
        }
        if fields.is_empty() {
            return true;
        }
        let object = needs_object
            .then(|| serde_json::from_slice::<Value>(&item.json).ok())
            .flatten();
        fields.matches(&item.name, item.namespace.as_deref(), object.as_ref())
    };

    let mut selected = Vec::new();
    let mut next = None;
    for i in start..range.end {
        if !matches(i) {
            continue;
        }
        if limit > 0 && selected.len() == limit {
            next = Some(i);
            break;
        }
        selected.push(i);
    }

    let mut metadata = json!({"resourceVersion": store.resource_version.to_string()});
    if let Some(next) = next {
        metadata["continue"] = json!(URL_SAFE_NO_PAD.encode(format!("fixture:{next}")));
        if labels.is_empty() && fields.is_empty() {
            metadata["remainingItemCount"] = json!(range.end - next);
        }
    }
    let info = &collection.info;
    if wants_table(headers) {
        return Ok(table(collection, &selected, &metadata));
    }
    let head = json!({
        "kind": format!("{}List", info.kind),
        "apiVersion": info.api_version(),
        "metadata": metadata,
    });
    let mut body = serde_json::to_vec(&head).unwrap_or_default();
    body.pop(); // the closing brace: items follow
    body.extend_from_slice(b",\"items\":[");
    let size: usize = selected
        .iter()
        .map(|&i| collection.items[i].json.len() + 1)
        .sum();
    body.reserve(size + 2);
    for (n, &i) in selected.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&collection.items[i].json);
    }
    body.extend_from_slice(b"]}");
    Ok(json_response(StatusCode::OK, body))
}

fn decode_continue(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("fixture:")?
        .parse()
        .ok()
}

/// kubectl get asks for server-side printing (`as=Table`).
fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .next()
                .is_some_and(|first| first.contains("as=Table"))
        })
}

/// A minimal meta.k8s.io/v1 Table: name and age columns, the object as metadata only.
fn table(collection: &Collection, selected: &[usize], metadata: &Value) -> Response {
    let rows: Vec<Value> = selected
        .iter()
        .filter_map(|&i| serde_json::from_slice::<Value>(&collection.items[i].json).ok())
        .map(|object| {
            let created = object
                .pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null);
            json!({
                "cells": [object["metadata"]["name"], age(&created)],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": object["metadata"],
                },
            })
        })
        .collect();
    json_value(&json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0},
        ],
        "rows": rows,
    }))
}

/// The age column as kubectl prints it (`5d3h`, `77d`).
fn age(created: &Value) -> String {
    let Some(created) = created
        .as_str()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
    else {
        return "<unknown>".to_string();
    };
    let seconds = (chrono::Utc::now() - created.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86400);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", minutes, s % 60),
        s if s < 3 * 3600 => format!("{minutes}m"),
        s if s < 8 * 3600 => format!("{}h{}m", hours, minutes % 60),
        s if s < 48 * 3600 => format!("{hours}h"),
        s if s < 8 * 86400 => format!("{}d{}h", days, hours % 24),
        s if s < 730 * 86400 => format!("{days}d"),
        _ => format!("{}y", days / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            git_version: "v1.31.4-eks-2d98532".to_string(),
            token: None,
            deny: vec![Deny {
                group: String::new(),
                resource: "pods".to_string(),
                namespace: Some("shop".to_string()),
            }],
            failing_reviews: vec![("apps".to_string(), "deployments".to_string())],
            user: "system:serviceaccount:demarc:reader".to_string(),
        }
    }

    #[test]
    fn managed_versions_report_a_minor_with_a_plus() {
        let info = version_info("v1.31.4-eks-2d98532");
        assert_eq!(info["major"], "1");
        assert_eq!(info["minor"], "31+");
        assert_eq!(version_info("v1.33.1")["minor"], "33");
    }

    #[test]
    fn a_denied_list_is_a_forbidden_status_naming_verb_resource_and_namespace() {
        let pods = crate::resources::built_in()
            .into_iter()
            .find(|r| r.plural == "pods")
            .unwrap();
        let s = settings();
        assert!(authorize(&s, &pods, "list", Some("payments"), None).is_ok());
        let error = authorize(&s, &pods, "list", Some("shop"), None).unwrap_err();
        assert_eq!(error.code, StatusCode::FORBIDDEN);
        assert_eq!(
            error.message,
            "pods is forbidden: User \"system:serviceaccount:demarc:reader\" cannot list resource \"pods\" in API group \"\" in the namespace \"shop\""
        );
        // kube's Status needs details.name to be a string when present.
        assert!(error.details.unwrap().get("name").is_none());
        let cluster_wide = authorize(&s, &pods, "list", None, None).unwrap_err();
        assert!(cluster_wide.message.ends_with("at the cluster scope"));
    }

    #[test]
    fn a_review_of_a_resource_set_to_fail_answers_500_and_others_answer() {
        let review = |group: &str, resource: &str| {
            serde_json::to_vec(&json!({"spec": {"resourceAttributes":
                {"group": group, "resource": resource, "verb": "list"}}}))
            .unwrap_or_default()
        };
        match self_subject_access_review(&settings(), &review("apps", "deployments")) {
            Err(e) => {
                assert_eq!(e.code, StatusCode::INTERNAL_SERVER_ERROR);
                assert_eq!(e.reason, "InternalError");
            }
            Ok(_) => panic!("the review of deployments.apps should fail"),
        }
        let answer = self_subject_access_review(&settings(), &review("", "services"));
        assert!(answer.is_ok_and(|r| r.status() == StatusCode::CREATED));
    }

    #[test]
    fn continue_tokens_round_trip_and_foreign_ones_are_refused() {
        let token = URL_SAFE_NO_PAD.encode("fixture:42");
        assert_eq!(decode_continue(&token), Some(42));
        assert_eq!(decode_continue("bm9wZQ"), None);
        assert_eq!(decode_continue("%%%"), None);
    }
}
