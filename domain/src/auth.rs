//! Who is asking, and what they may do. One policy function, [`Actor::authorize`], answers every
//! "may this actor do this?" question; every domain operation asks it before touching data.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A role that Demarc grants from the identity provider's groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages everything, including API tokens of others and the audit log.
    Admin,
    /// Owns the platform: teams, platforms, environments, and every application.
    PlatformEngineer,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// The stable name used in configuration, tokens and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PlatformEngineer => "platform_engineer",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "platform_engineer" => Some(Role::PlatformEngineer),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::PlatformEngineer => "Platform engineer",
            Role::Auditor => "Auditor",
        }
    }
}

/// Whether the actor is a person, an API token or Demarc itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActorKind {
    /// A person signed in through OpenID Connect (id = Demarc's user id).
    User { id: uuid::Uuid },
    /// A Demarc API token (id = the token's id).
    Token { id: uuid::Uuid },
    /// An access token issued by the OpenID provider to a client (client credentials).
    Client { client_id: String },
    /// Demarc's own background work (migrations, demo data).
    System,
}

/// The caller of a domain operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// A display name for the UI and the audit log.
    pub name: String,
    /// Global roles, from the provider's groups (or the token's role).
    pub roles: Vec<Role>,
    /// Slugs of the teams the actor belongs to.
    pub teams: Vec<String>,
    /// False for read-only tokens: such an actor cannot change anything, whatever its role.
    pub can_write: bool,
}

/// Something an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// See the catalogue (teams, platforms, environments, applications, dashboard).
    Read,
    /// Create, edit or archive teams.
    ManageTeams,
    /// Create, edit or archive platforms and their environments.
    ManagePlatforms,
    /// Create or change an application owned by the given team (slug).
    ManageApplication { team: &'a str },
    /// Read the audit log.
    ReadAuditLog,
    /// Create, list and revoke API tokens.
    ManageTokens,
    /// Edit and publish platforms' scopes, manage scope templates and the audits of what is
    /// outside the fence.
    EditScope,
    /// Acknowledge a scope revision on behalf of the given team (slug): only its members.
    AcknowledgeScope { team: &'a str },
    /// Edit checklist templates and cluster connections, approve waivers, sign off for the
    /// platform team, verify whole environments.
    ManageGoLive,
    /// Work on the go-live reviews of the given team's applications (slug): open a review,
    /// attest items, start verifications, upload evidence, set the team's webhooks. Members and
    /// platform staff.
    WorkOnGoLive { team: &'a str },
    /// Sign a go-live review off on behalf of the application's team (slug): only its members.
    SignOffForTeam { team: &'a str },
    /// Maintenance plans, blackouts, maintenances and their lifecycle, notice settings, platform
    /// drills and the platform's and environments' feeds.
    ManageCalendar,
    /// Acknowledge an announced major maintenance on behalf of the given team (slug): only its
    /// members.
    AcknowledgeMaintenance { team: &'a str },
    /// Plan and record the drills of the given team's applications, manage the team's calendar
    /// feed and e-mail recipients: members and platform staff.
    WorkOnTeamCalendar { team: &'a str },
}

impl Actor {
    /// The actor Demarc uses for its own work.
    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            name: "Demarc".into(),
            roles: vec![Role::Admin],
            teams: vec![],
            can_write: true,
        }
    }

    /// True when the actor holds the role.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// True when the actor may see Demarc at all (some role or some team).
    pub fn has_access(&self) -> bool {
        !self.roles.is_empty() || !self.teams.is_empty()
    }

    /// True for auditors: they read everything and never write, even if they hold another role.
    pub fn is_read_only(&self) -> bool {
        self.has(Role::Auditor) || !self.can_write
    }

    /// Why the actor changes nothing, if it is read-only.
    fn read_only_reason(&self) -> Option<&'static str> {
        if self.has(Role::Auditor) {
            Some("Auditors have read-only access.")
        } else if !self.can_write {
            Some("This token is read-only.")
        } else {
            None
        }
    }

    /// Refuses a read-only actor (an auditor, a read token) before its input is even judged:
    /// whatever it sends, the answer is no.
    pub fn refuse_read_only(&self) -> Result<()> {
        match self.read_only_reason() {
            Some(reason) => Err(Error::forbidden(reason)),
            None => Ok(()),
        }
    }

    /// True when the actor may work for some team (platform staff, or a member of a team who
    /// may write): who the forms for any team's work (a new application, a drill) serve.
    pub fn works_for_some_team(&self) -> bool {
        self.has_access()
            && !self.is_read_only()
            && (self.is_platform_staff() || !self.teams.is_empty())
    }

    /// True for admins and platform engineers.
    pub fn is_platform_staff(&self) -> bool {
        self.has(Role::Admin) || self.has(Role::PlatformEngineer)
    }

    /// The one policy: may this actor do this?
    pub fn may(&self, action: Action<'_>) -> bool {
        if !self.has_access() {
            return false;
        }
        let writes = !matches!(action, Action::Read | Action::ReadAuditLog);
        if writes && self.is_read_only() {
            return false;
        }
        match action {
            Action::Read => true,
            Action::ReadAuditLog => self.has(Role::Admin) || self.has(Role::Auditor),
            Action::ManageTeams
            | Action::ManagePlatforms
            | Action::ManageTokens
            | Action::EditScope
            | Action::ManageGoLive
            | Action::ManageCalendar => self.is_platform_staff(),
            Action::AcknowledgeScope { team }
            | Action::SignOffForTeam { team }
            | Action::AcknowledgeMaintenance { team } => self.teams.iter().any(|t| t == team),
            Action::ManageApplication { team }
            | Action::WorkOnGoLive { team }
            | Action::WorkOnTeamCalendar { team } => {
                self.is_platform_staff() || self.teams.iter().any(|t| t == team)
            }
        }
    }

    /// [`Actor::may`] as a result, with a message that says what is missing.
    pub fn authorize(&self, action: Action<'_>) -> Result<()> {
        if self.may(action) {
            return Ok(());
        }
        if !self.has_access() {
            return Err(Error::forbidden(
                "Your account is not in any group that Demarc knows. Ask a Demarc administrator for access.",
            ));
        }
        let message = match action {
            _ if action != Action::Read && self.read_only_reason().is_some() => {
                self.read_only_reason().unwrap_or_default().to_owned()
            }
            Action::Read => "You cannot see this.".to_owned(),
            Action::ReadAuditLog => {
                "Only administrators and auditors can read the audit log.".to_owned()
            }
            Action::ManageTeams => {
                "Only platform engineers and administrators manage teams.".to_owned()
            }
            Action::ManagePlatforms => {
                "Only platform engineers and administrators manage platforms and environments."
                    .to_owned()
            }
            Action::ManageTokens => {
                "Only platform engineers and administrators manage API tokens.".to_owned()
            }
            Action::ManageApplication { team } => {
                format!(
                    "Only members of team {team} and platform engineers can change its applications."
                )
            }
            Action::EditScope => {
                "Only platform engineers and administrators edit a platform's scope.".to_owned()
            }
            Action::AcknowledgeScope { team } => {
                format!("Only members of team {team} can acknowledge the scope for it.")
            }
            Action::ManageGoLive => {
                "Only platform engineers and administrators manage checklists, cluster connections and waivers, and sign off for the platform team.".to_owned()
            }
            Action::WorkOnGoLive { team } => {
                format!(
                    "Only members of team {team} and platform engineers work on its go-live reviews."
                )
            }
            Action::SignOffForTeam { team } => {
                format!("Only members of team {team} can sign off for it.")
            }
            Action::ManageCalendar => {
                "Only platform engineers and administrators plan maintenance and change the calendar.".to_owned()
            }
            Action::AcknowledgeMaintenance { team } => {
                format!("Only members of team {team} can acknowledge a maintenance for it.")
            }
            Action::WorkOnTeamCalendar { team } => {
                format!(
                    "Only members of team {team} and platform engineers manage its drills, feed and e-mail recipients."
                )
            }
        };
        Err(Error::forbidden(message))
    }

    /// The highest role, for display.
    pub fn role_label(&self) -> String {
        let mut labels: Vec<&str> = self.roles.iter().map(|r| r.label()).collect();
        if !self.teams.is_empty() {
            labels.push("Application team");
        }
        if labels.is_empty() {
            "No access".into()
        } else {
            labels.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: &[Role], teams: &[&str]) -> Actor {
        Actor {
            kind: ActorKind::System,
            name: "t".into(),
            roles: roles.to_vec(),
            teams: teams.iter().map(|t| t.to_string()).collect(),
            can_write: true,
        }
    }

    #[test]
    fn auditors_read_everything_and_change_nothing() {
        let a = actor(&[Role::Auditor], &[]);
        assert!(a.may(Action::Read));
        assert!(a.may(Action::ReadAuditLog));
        for action in [
            Action::ManageTeams,
            Action::ManagePlatforms,
            Action::ManageTokens,
            Action::ManageApplication { team: "x" },
            Action::EditScope,
            Action::AcknowledgeScope { team: "x" },
        ] {
            assert!(!a.may(action), "{action:?}");
        }
    }

    #[test]
    fn an_auditor_who_is_also_a_platform_engineer_stays_read_only() {
        let a = actor(&[Role::Auditor, Role::PlatformEngineer], &["x"]);
        assert!(!a.may(Action::ManageTeams));
        assert!(!a.may(Action::ManageApplication { team: "x" }));
    }

    #[test]
    fn team_members_change_only_their_own_applications() {
        let a = actor(&[], &["payments"]);
        assert!(a.may(Action::ManageApplication { team: "payments" }));
        assert!(!a.may(Action::ManageApplication { team: "search" }));
        assert!(!a.may(Action::ManageTeams));
        assert!(!a.may(Action::ReadAuditLog));
        assert!(a.may(Action::AcknowledgeScope { team: "payments" }));
        assert!(!a.may(Action::AcknowledgeScope { team: "search" }));
        assert!(!a.may(Action::EditScope));
    }

    #[test]
    fn platform_engineers_edit_scope_but_do_not_acknowledge_for_teams() {
        let a = actor(&[Role::PlatformEngineer], &[]);
        assert!(a.may(Action::EditScope));
        assert!(!a.may(Action::AcknowledgeScope { team: "payments" }));
    }

    #[test]
    fn someone_without_groups_gets_nothing() {
        let a = actor(&[], &[]);
        assert!(!a.may(Action::Read));
        assert!(matches!(
            a.authorize(Action::Read),
            Err(Error::Forbidden { .. })
        ));
    }

    #[test]
    fn read_only_tokens_cannot_write() {
        let mut a = actor(&[Role::Admin], &[]);
        a.can_write = false;
        assert!(a.may(Action::Read));
        assert!(!a.may(Action::ManageTeams));
    }
}
