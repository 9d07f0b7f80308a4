//! The template that ships with Demarc: a split of responsibilities that is known to work for a
//! Kubernetes platform team, to start a new platform's scope from and then adjust.

use uuid::Uuid;

use super::model::{Party, RaciRow, ScopeContent, ScopeItem, TenantRule};

/// The id under which the built-in template is offered.
pub const BUILTIN_TEMPLATE_ID: &str = "builtin";

fn ext(name: &str) -> Party {
    Party::External {
        name: name.to_owned(),
    }
}

fn row(activity: &str, r: &[Party], a: Party, c: &[Party], i: &[Party]) -> RaciRow {
    RaciRow {
        activity: activity.to_owned(),
        responsible: r.to_vec(),
        accountable: a,
        consulted: c.to_vec(),
        informed: i.to_vec(),
    }
}

struct Item {
    name: &'static str,
    category: &'static str,
    inside: bool,
    responsible: Party,
    escalation: &'static str,
    notes: &'static str,
    raci: Vec<RaciRow>,
}

/// The built-in template: the items, their RACI rows and the usual tenant rules.
pub fn builtin_template() -> ScopeContent {
    use Party::{PlatformTeam as P, Tenants as T};
    let infra = || ext("Infrastructure provider");
    let it = || ext("IT systems team");
    let iam = || ext("Identity team");
    let items = vec![
        Item {
            name: "Kubernetes clusters",
            category: "Platform",
            inside: true,
            responsible: P,
            escalation: "",
            notes: "Control plane, nodes, networking and storage integration of every environment.",
            raci: vec![
                row("Kubernetes upgrades", &[P], P, &[], &[T]),
                row("Node replacement and patching", &[P], P, &[infra()], &[T]),
                row(
                    "Cluster restore after a disaster",
                    &[P],
                    P,
                    &[infra()],
                    &[T],
                ),
            ],
        },
        Item {
            name: "Platform services in the cluster",
            category: "Platform",
            inside: true,
            responsible: P,
            escalation: "",
            notes: "What keeps the cluster secure, observable and stable: ingress, certificates, \
                    policy enforcement, monitoring, logging, backups of cluster state.",
            raci: vec![
                row("Updates of platform services", &[P], P, &[], &[T]),
                row("Alerts on platform health", &[P], P, &[], &[]),
            ],
        },
        Item {
            name: "Continuous delivery tool",
            category: "Delivery",
            inside: true,
            responsible: P,
            escalation: "",
            notes: "The CD tool (for example Argo CD) that applies the teams' manifests.",
            raci: vec![row("Run and upgrade the CD tool", &[P], P, &[], &[T])],
        },
        Item {
            name: "Additional platform services",
            category: "Data services",
            inside: true,
            responsible: P,
            escalation: "",
            notes: "Managed databases, message queues and in-memory caches offered to tenants.",
            raci: vec![
                row("Backups of platform databases", &[P], P, &[], &[T]),
                row("Restores of platform databases", &[P], P, &[T], &[]),
            ],
        },
        Item {
            name: "Application code and Pods",
            category: "Application",
            inside: false,
            responsible: T,
            escalation: "The owning team's on-call contact",
            notes: "Each team builds, runs and fixes its own application.",
            raci: vec![
                row("Fix application incidents", &[T], T, &[P], &[]),
                row("Application data backups and restores", &[T], T, &[P], &[]),
            ],
        },
        Item {
            name: "CD code",
            category: "Delivery",
            inside: false,
            responsible: T,
            escalation: "The owning team's on-call contact",
            notes: "The application's manifests and deployment configuration.",
            raci: vec![row("Change deployment manifests", &[T], T, &[P], &[])],
        },
        Item {
            name: "CI code",
            category: "Delivery",
            inside: false,
            responsible: T,
            escalation: "The owning team's on-call contact",
            notes: "Build and test pipelines of each application.",
            raci: vec![row("Maintain pipelines", &[T], T, &[it()], &[])],
        },
        Item {
            name: "CI tool",
            category: "Delivery",
            inside: false,
            responsible: it(),
            escalation: "IT systems team service desk",
            notes: "The IT systems team runs the CI tool; the teams maintain their CI code.",
            raci: vec![row(
                "Run and upgrade the CI tool",
                &[it()],
                it(),
                &[],
                &[T, P],
            )],
        },
        Item {
            name: "Identity provider",
            category: "Identity",
            inside: false,
            responsible: iam(),
            escalation: "Identity team service desk",
            notes: "Single sign-on for people; the platform only connects to it.",
            raci: vec![
                row("Run the identity provider", &[iam()], iam(), &[], &[P]),
                row(
                    "Connect the clusters to the identity provider",
                    &[P],
                    P,
                    &[iam()],
                    &[],
                ),
            ],
        },
        Item {
            name: "Infrastructure",
            category: "Infrastructure",
            inside: false,
            responsible: infra(),
            escalation: "The provider's support line",
            notes: "Virtual machines, load balancers, object storage and cloud accounts \
                    (OpenStack, vSphere or a public cloud).",
            raci: vec![
                row(
                    "Capacity and availability of VMs",
                    &[infra()],
                    infra(),
                    &[P],
                    &[],
                ),
                row("Yearly provider audit", &[P], P, &[infra()], &[]),
            ],
        },
    ];
    let rules = [
        (
            "No cluster-wide RBAC",
            "Teams get roles in their own namespaces only.",
            "A cluster-wide permission lets one team affect every other team's workloads.",
        ),
        (
            "No custom resource definitions",
            "Teams do not install CRDs or operators that need them.",
            "CRDs are cluster-wide and outlive the team's namespace; the platform team must support every API in the cluster.",
        ),
        (
            "No containers running as root",
            "Containers run as a non-root user without privilege escalation.",
            "A root container that escapes its sandbox owns the node and every Pod on it.",
        ),
        (
            "No hostPath volumes",
            "Pods do not mount folders of the node.",
            "A node's file system holds other tenants' data and the node's credentials.",
        ),
    ];
    ScopeContent {
        items: items
            .into_iter()
            .enumerate()
            .map(|(n, i)| ScopeItem {
                id: Uuid::nil(),
                name: i.name.to_owned(),
                category: i.category.to_owned(),
                inside: i.inside,
                responsible: i.responsible,
                escalation_contact: i.escalation.to_owned(),
                notes: i.notes.to_owned(),
                raci: i.raci,
                position: n as i32 * 10,
                version: 1,
            })
            .collect(),
        rules: rules
            .into_iter()
            .enumerate()
            .map(|(n, (title, description, reason))| TenantRule {
                id: Uuid::nil(),
                title: title.to_owned(),
                description: description.to_owned(),
                reason: reason.to_owned(),
                exception_process:
                    "Open a request with the platform team; an exception is granted \
                                    after a risk review and recorded with an expiry date."
                        .to_owned(),
                position: n as i32 * 10,
                version: 1,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_template_obeys_the_rules_it_ships_with() {
        let t = builtin_template();
        assert!(t.inside().count() >= 4 && t.outside().count() >= 5);
        for item in &t.items {
            assert!(!item.raci.is_empty(), "{}", item.name);
            for row in &item.raci {
                assert!(!row.responsible.is_empty(), "{}", row.activity);
            }
        }
        assert!(t.outside().all(|i| !i.escalation_contact.is_empty()));
    }
}
