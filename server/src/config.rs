//! Configuration from environment variables, parsed once at start. Every variable is documented
//! in `.env.example`; the development command fills in what a fresh machine lacks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use domain::Role;

/// A secret string that never shows up in logs or debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How groups from the identity provider become Demarc roles and team memberships.
#[derive(Debug, Clone)]
pub struct GroupMapping {
    /// Name of the claim holding the groups (default `groups`).
    pub claim: String,
    /// Group name -> role.
    pub roles: BTreeMap<String, Role>,
    /// A group named `<prefix><team slug>` makes its members part of that team.
    pub team_prefix: String,
}

impl GroupMapping {
    /// Roles and team slugs for a person's groups.
    pub fn resolve(&self, groups: &[String]) -> (Vec<Role>, Vec<String>) {
        let mut roles: Vec<Role> = groups
            .iter()
            .filter_map(|g| self.roles.get(g).copied())
            .collect();
        roles.sort();
        roles.dedup();
        let mut teams: Vec<String> = groups
            .iter()
            .filter_map(|g| g.strip_prefix(&self.team_prefix))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        teams.sort();
        teams.dedup();
        (roles, teams)
    }

    /// Parses `group=role,group=role`.
    pub fn parse_roles(spec: &str) -> Result<BTreeMap<String, Role>, String> {
        let mut roles = BTreeMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (group, role) = pair
                .split_once('=')
                .ok_or_else(|| format!("DEMARC_ROLE_GROUPS: `{pair}` is not group=role"))?;
            let role = Role::parse(role.trim()).ok_or_else(|| {
                format!("DEMARC_ROLE_GROUPS: unknown role `{role}` (use admin, platform_engineer or auditor)")
            })?;
            roles.insert(group.trim().to_owned(), role);
        }
        Ok(roles)
    }
}

/// OpenID Connect settings.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Audience that access tokens from the provider (client credentials) must carry.
    pub api_audience: String,
}

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub database_max_connections: u32,
    /// Address of the UI and API.
    pub listen: SocketAddr,
    /// Address of the probes and metrics (kept apart from the public port).
    pub ops_listen: SocketAddr,
    /// The URL people use to reach Demarc (redirect URIs, CSRF origin check).
    pub public_url: url::Url,
    pub oidc: OidcConfig,
    pub groups: GroupMapping,
    pub cookie_secure: bool,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Load the demo data set at start.
    pub demo_data: bool,
    /// Seconds to wait for in-flight requests on shutdown.
    pub shutdown_grace_seconds: u64,
    /// The key that seals cluster credentials and webhook URLs at rest (DEMARC_SECRET_KEY).
    pub secret_key: Option<Secret>,
    /// Run the job worker in this process (DEMARC_WORKER, default true).
    pub worker: bool,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub worker_poll_ms: u64,
    /// Where maintenance notices go out by e-mail (DEMARC_SMTP_URL, may hold a password: never
    /// logged) and who sends them (DEMARC_MAIL_FROM).
    pub mailer: domain::calendar::notices::Mailer,
    /// The networks team webhooks may reach besides public addresses
    /// (DEMARC_WEBHOOK_ALLOWED_NETWORKS, CIDR list; default none).
    pub webhook_egress: Arc<domain::egress::Egress>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}: cannot parse `{v}`")),
    }
}

/// [`parse`], within `range` (inclusive): a timeout of 0 or a pool of no connections is a typo,
/// not a setting.
fn parse_in<T>(name: &str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let value = parse(name, default)?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{name}: {value} is out of range; use {} to {}",
            range.start(),
            range.end()
        ))
    }
}

fn required(name: &str) -> Result<String, String> {
    var(name).ok_or_else(|| format!("{name} is required"))
}

/// Plain http on this machine: the one case where cookies go without the Secure flag (and
/// responses without HSTS) unless DEMARC_COOKIE_SECURE says otherwise.
pub fn is_local_development(public_url: &url::Url) -> bool {
    public_url.scheme() == "http"
        && matches!(
            public_url.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        )
}

/// A secret's value, refused while it still holds the placeholder of `.env.example`.
fn not_placeholder(name: &str, value: String) -> Result<String, String> {
    if value.trim().starts_with("change-me") {
        Err(format!(
            "{name} still holds the placeholder from .env.example: set a real secret \
             (for DEMARC_SECRET_KEY, `openssl rand -base64 32`)"
        ))
    } else {
        Ok(value)
    }
}

impl Config {
    /// Reads the configuration from the environment. Errors name the variable.
    pub fn from_env() -> Result<Config, String> {
        let listen: SocketAddr = match var("DEMARC_LISTEN") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("DEMARC_LISTEN: `{v}` is not host:port"))?,
            None => parse(
                "LEPTOS_SITE_ADDR",
                "127.0.0.1:3000".parse().expect("valid default"),
            )?,
        };
        let ops_listen = parse(
            "DEMARC_OPS_LISTEN",
            "127.0.0.1:9464".parse().expect("valid default"),
        )?;
        let public_url = match var("DEMARC_PUBLIC_URL") {
            Some(url) => url,
            // Only a loopback address names itself: behind 0.0.0.0 the address people use
            // (for the login redirect and the CSRF origin) cannot be guessed.
            None if listen.ip().is_loopback() => format!("http://{listen}"),
            None => {
                return Err(format!(
                    "DEMARC_PUBLIC_URL is required when listening on {listen}: set the address \
                     people open Demarc at, such as https://demarc.example.com"
                ));
            }
        };
        let public_url =
            url::Url::parse(&public_url).map_err(|e| format!("DEMARC_PUBLIC_URL: {e}"))?;
        let local = is_local_development(&public_url);
        let roles = GroupMapping::parse_roles(&var("DEMARC_ROLE_GROUPS").unwrap_or_else(|| {
            "demarc-admins=admin,platform-engineers=platform_engineer,auditors=auditor".into()
        }))?;
        Ok(Config {
            database_url: Secret::new(required("DATABASE_URL")?),
            // A few connections per core: more only adds context switches (see BENCHMARKS.md).
            database_max_connections: parse_in(
                "DEMARC_DATABASE_MAX_CONNECTIONS",
                std::thread::available_parallelism().map_or(8, |n| (4 * n.get() as u32).min(1000)),
                2..=1000,
            )?,
            listen,
            ops_listen,
            public_url,
            oidc: OidcConfig {
                issuer: required("DEMARC_OIDC_ISSUER")?,
                client_id: required("DEMARC_OIDC_CLIENT_ID")?,
                client_secret: Secret::new(not_placeholder(
                    "DEMARC_OIDC_CLIENT_SECRET",
                    required("DEMARC_OIDC_CLIENT_SECRET")?,
                )?),
                api_audience: var("DEMARC_API_AUDIENCE").unwrap_or_else(|| "demarc-api".into()),
            },
            groups: GroupMapping {
                claim: var("DEMARC_GROUPS_CLAIM").unwrap_or_else(|| "groups".into()),
                roles,
                team_prefix: var("DEMARC_TEAM_GROUP_PREFIX").unwrap_or_else(|| "team-".into()),
            },
            cookie_secure: parse("DEMARC_COOKIE_SECURE", !local)?,
            session_idle_minutes: parse_in("DEMARC_SESSION_IDLE_MINUTES", 60, 1..=7 * 24 * 60)?,
            session_absolute_hours: parse_in("DEMARC_SESSION_ABSOLUTE_HOURS", 12, 1..=30 * 24)?,
            demo_data: parse("DEMARC_DEMO_DATA", false)?,
            shutdown_grace_seconds: parse_in("DEMARC_SHUTDOWN_GRACE_SECONDS", 20, 1..=3600)?,
            secret_key: var("DEMARC_SECRET_KEY")
                .map(|key| not_placeholder("DEMARC_SECRET_KEY", key))
                .transpose()?
                .map(Secret::new),
            worker: parse("DEMARC_WORKER", true)?,
            worker_poll_ms: parse_in("DEMARC_WORKER_POLL_MS", 1000, 50..=60_000)?,
            mailer: domain::calendar::notices::Mailer {
                smtp_url: var("DEMARC_SMTP_URL"),
                from: var("DEMARC_MAIL_FROM").unwrap_or_else(|| "Demarc <demarc@localhost>".into()),
            },
            webhook_egress: Arc::new(
                domain::egress::Egress::parse(
                    &var("DEMARC_WEBHOOK_ALLOWED_NETWORKS").unwrap_or_default(),
                )
                .map_err(|e| format!("DEMARC_WEBHOOK_ALLOWED_NETWORKS: {e}"))?,
            ),
        })
    }

    /// The OAuth redirect URI of this deployment.
    pub fn redirect_uri(&self) -> String {
        self.url("/auth/callback")
    }

    /// An absolute URL on this deployment.
    pub fn url(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_become_roles_and_teams() {
        let mapping = GroupMapping {
            claim: "groups".into(),
            roles: GroupMapping::parse_roles("ops=platform_engineer, audit=auditor").unwrap(),
            team_prefix: "team-".into(),
        };
        let (roles, teams) = mapping.resolve(&[
            "ops".into(),
            "team-payments".into(),
            "team-".into(),
            "other".into(),
        ]);
        assert_eq!(roles, vec![Role::PlatformEngineer]);
        assert_eq!(teams, vec!["payments".to_string()]);
    }

    #[test]
    fn an_unknown_role_names_the_variable() {
        let err = GroupMapping::parse_roles("ops=root").unwrap_err();
        assert!(err.contains("DEMARC_ROLE_GROUPS"));
    }

    #[test]
    fn cookies_are_secure_everywhere_but_plain_http_on_this_machine() {
        let local = |u: &str| is_local_development(&url::Url::parse(u).unwrap());
        assert!(local("http://127.0.0.1:3000"));
        assert!(local("http://localhost:3000/"));
        assert!(local("http://[::1]:3000"));
        assert!(!local("https://localhost:3000"));
        assert!(!local("http://demarc.internal:3000"));
        assert!(!local("https://demarc.example.com"));
    }

    #[test]
    fn the_placeholders_of_the_example_file_are_refused() {
        let example = include_str!("../../.env.example");
        for name in ["DEMARC_SECRET_KEY", "DEMARC_OIDC_CLIENT_SECRET"] {
            let value = example
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .expect("the example sets it");
            let err = not_placeholder(name, value.to_owned()).unwrap_err();
            assert!(err.contains(name), "{err}");
        }
        assert!(
            not_placeholder(
                "DEMARC_SECRET_KEY",
                "q2cFz1xYv8dJ0mWk3N5rT7uB9eH4gL6a".into()
            )
            .is_ok()
        );
    }

    #[test]
    fn numbers_out_of_their_range_are_refused_naming_the_variable() {
        // Nobody sets this variable: the default is judged like a value would be.
        let err = parse_in("DEMARC_TEST_NEVER_SET", 0i64, 1..=60).unwrap_err();
        assert_eq!(err, "DEMARC_TEST_NEVER_SET: 0 is out of range; use 1 to 60");
        assert_eq!(parse_in("DEMARC_TEST_NEVER_SET", 60i64, 1..=60), Ok(60));
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
