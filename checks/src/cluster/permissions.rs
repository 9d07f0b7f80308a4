//! What the reader needs to be allowed, and asking the cluster whether it is
//! (SelfSubjectAccessReview, which every authenticated user may create).

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
}

/// Asks the cluster for its version, then whether the account may do everything in
/// [`required_permissions`] (cluster-wide, one SelfSubjectAccessReview per verb and resource).
/// Fails with the kube error when the cluster does not answer or refuses the credentials.
pub async fn test_connection(client: &kube::Client) -> Result<ConnectionReport, kube::Error> {
    let server_version = client.apiserver_version().await?.git_version;
    let limit = Arc::new(Semaphore::new(8));
    let mut reviews = JoinSet::new();
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
            reviews.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let answer = api.create(&PostParams::default(), &review).await;
                (name, answer)
            });
        }
    }
    let mut missing = Vec::new();
    while let Some(joined) = reviews.join_next().await {
        let Ok((name, answer)) = joined else { continue };
        if !answer?.status.is_some_and(|s| s.allowed) {
            missing.push(name);
        }
    }
    missing.sort();
    Ok(ConnectionReport {
        server_version,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
