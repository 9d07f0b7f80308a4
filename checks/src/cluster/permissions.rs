//! What the reader needs to be allowed, and asking the cluster whether it is
//! (SelfSubjectAccessReview, which every authenticated user may create).

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::KINDS;

/// Verbs granted on every resource the reader reads: `list` is what it uses; `get` lets people
/// look at single objects with the same account.
const VERBS: [&str; 2] = ["get", "list"];

/// Permission to use some verbs on one resource, cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    /// API group, "" for the core group.
    pub group: String,
    /// Plural resource name (`pods`).
    pub resource: String,
    pub verbs: Vec<String>,
}

impl Permission {
    /// `pods`, `deployments.apps`, `servicemonitors.monitoring.coreos.com`.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// Everything the reader needs, as the ClusterRole `demarc-reader` (deploy/clusterrole.yaml)
/// grants it.
pub fn required_permissions() -> Vec<Permission> {
    let mut permissions: Vec<Permission> = KINDS
        .iter()
        .map(|k| Permission {
            group: k.group.to_string(),
            resource: k.plural.to_string(),
            verbs: VERBS.iter().map(|v| v.to_string()).collect(),
        })
        .collect();
    permissions.sort();
    permissions
}

/// What [`test_connection`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// The server's gitVersion (`v1.31.4-eks-2d98532`).
    pub server_version: String,
    /// Permissions the account lacks, as `verb resource` (`list pods`,
    /// `list servicemonitors.monitoring.coreos.com`), sorted. Empty when it may read everything.
    pub missing: Vec<String>,
    /// Permissions whose review failed, as `verb resource: could not be checked: <reason>`,
    /// sorted: the account may or may not have them. With `missing` they name every permission
    /// that is not known to be granted.
    pub unchecked: Vec<String>,
}

impl ConnectionReport {
    /// Whether every permission was checked and is granted.
    pub fn all_granted(&self) -> bool {
        self.missing.is_empty() && self.unchecked.is_empty()
    }
}

/// A permission whose review failed, for [`ConnectionReport::unchecked`].
fn unchecked(name: &str, reason: impl std::fmt::Display) -> String {
    format!("{name}: could not be checked: {reason}")
}

/// Asks the cluster for its version, then whether the account may do everything in
/// [`required_permissions`] (cluster-wide, one SelfSubjectAccessReview per verb and resource).
/// Fails with the kube error when the cluster does not answer or refuses the credentials (the
/// version request); a review that fails, or whose task fails, puts its permission in
/// [`ConnectionReport::unchecked`] with the reason, so every permission is accounted for.
pub async fn test_connection(client: &kube::Client) -> Result<ConnectionReport, kube::Error> {
    let server_version = client.apiserver_version().await?.git_version;
    let limit = Arc::new(Semaphore::new(8));
    let mut reviews = JoinSet::new();
    // The permission each task reviews, to name it when the task itself fails.
    let mut names: HashMap<tokio::task::Id, String> = HashMap::new();
    for permission in required_permissions() {
        for verb in &permission.verbs {
            let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        group: Some(permission.group.clone()),
                        resource: Some(permission.resource.clone()),
                        verb: Some(verb.clone()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let name = format!("{verb} {}", permission.resource_name());
            let limit = limit.clone();
            let task = reviews.spawn(async move {
                let _permit = limit.acquire_owned().await;
                api.create(&PostParams::default(), &review).await
            });
            names.insert(task.id(), name);
        }
    }
    let mut missing = Vec::new();
    let mut not_checked = Vec::new();
    while let Some(joined) = reviews.join_next_with_id().await {
        let (id, answer) = match joined {
            Ok((id, answer)) => (id, answer.map_err(|e| e.to_string())),
            Err(e) => (e.id(), Err(format!("the review task failed ({e})"))),
        };
        let name = names.remove(&id).unwrap_or_else(|| format!("review {id}"));
        match answer {
            Ok(review) if review.status.as_ref().is_some_and(|s| s.allowed) => {}
            Ok(_) => missing.push(name),
            Err(reason) => not_checked.push(unchecked(&name, reason)),
        }
    }
    missing.sort();
    not_checked.sort();
    Ok(ConnectionReport {
        server_version,
        missing,
        unchecked: not_checked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_that_could_not_be_checked_is_named_with_the_reason() {
        assert_eq!(
            unchecked("list pods", "connection reset"),
            "list pods: could not be checked: connection reset"
        );
        let report = ConnectionReport {
            server_version: "v1.33.1".into(),
            missing: Vec::new(),
            unchecked: vec![unchecked("list pods", "timeout")],
        };
        assert!(!report.all_granted());
    }

    #[tokio::test]
    async fn a_review_the_cluster_cannot_answer_is_listed_as_not_checked_and_the_rest_still_are() {
        let cluster = kube_fixture::start(
            kube_fixture::Config::new()
                .deny("apps", "deployments", None)
                .fail_reviews("", "pods"),
        )
        .await
        .expect("the fixture server starts");
        let config = kube::Config::new(cluster.url.parse().expect("a URI"));
        let client = kube::Client::try_from(config).expect("a kube client");
        let report = test_connection(&client)
            .await
            .expect("a failing review does not fail the whole test");
        assert_eq!(
            report.missing,
            ["get deployments.apps", "list deployments.apps"]
        );
        assert_eq!(report.unchecked.len(), 2, "{:?}", report.unchecked);
        for (entry, verb) in report.unchecked.iter().zip(["get", "list"]) {
            assert!(
                entry.starts_with(&format!("{verb} pods: could not be checked: "))
                    && entry.contains("authorizer webhook is unavailable"),
                "{entry}"
            );
        }
        assert!(!report.all_granted());
        cluster.shutdown().await;
    }

    #[test]
    fn every_snapshot_kind_needs_get_and_list() {
        let permissions = required_permissions();
        assert_eq!(permissions.len(), KINDS.len());
        let pods = permissions.iter().find(|p| p.resource == "pods").unwrap();
        assert_eq!(pods.group, "");
        assert_eq!(pods.verbs, ["get", "list"]);
        assert!(
            permissions
                .iter()
                .any(|p| p.resource_name() == "servicemonitors.monitoring.coreos.com")
        );
    }
}
