//! One error type for every domain operation. It is serializable so the UI receives the same
//! per-field messages that the REST API returns; internal details never leave the server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// No signed-in user or valid token.
    Unauthenticated,
    /// The actor is known but may not do this.
    Forbidden { message: String },
    /// The thing asked for does not exist (or is not visible).
    NotFound { entity: String },
    /// The input is wrong; one message per field, keyed by the field's name.
    Invalid { fields: BTreeMap<String, String> },
    /// The thing changed since the caller read it, or the change clashes with existing data.
    Conflict { message: String },
    /// The caller edited an outdated version (optimistic concurrency): nothing was changed.
    Stale { message: String },
    /// A dependency (the database) is unavailable right now.
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log under this reference.
    Internal { reference: String },
}

impl Error {
    /// A validation error for a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), message.into());
        Error::Invalid { fields }
    }

    /// A forbidden error with a message that says what is missing.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden {
            message: message.into(),
        }
    }

    /// A not-found error for an entity kind ("team", "application"...).
    pub fn not_found(entity: &str) -> Self {
        Error::NotFound {
            entity: entity.to_owned(),
        }
    }

    /// The stale-edit conflict every optimistic update reports.
    pub fn stale(entity: &str) -> Self {
        Error::Stale {
            message: format!(
                "This {entity} was changed by someone else since you opened it. Reload to see the \
                 current version, then make your change again."
            ),
        }
    }

    /// The HTTP status code that matches this error.
    pub fn status_code(&self) -> u16 {
        match self {
            Error::Unauthenticated => 401,
            Error::Forbidden { .. } => 403,
            Error::NotFound { .. } => 404,
            Error::Invalid { .. } => 422,
            Error::Conflict { .. } => 409,
            Error::Stale { .. } => 412,
            Error::Unavailable => 503,
            Error::Internal { .. } => 500,
        }
    }

    /// The per-field messages of a validation error (empty for other errors).
    pub fn field_errors(&self) -> BTreeMap<String, String> {
        match self {
            Error::Invalid { fields } => fields.clone(),
            _ => BTreeMap::new(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unauthenticated => f.write_str("You need to sign in first."),
            Error::Forbidden { message } => f.write_str(message),
            Error::NotFound { entity } => write!(f, "No such {entity}."),
            Error::Invalid { fields } => {
                f.write_str("Some fields need attention: ")?;
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                f.write_str(&parts.join("; "))
            }
            Error::Conflict { message } | Error::Stale { message } => f.write_str(message),
            Error::Unavailable => {
                f.write_str("Demarc cannot reach its database right now. Try again shortly.")
            }
            Error::Internal { reference } => {
                write!(
                    f,
                    "Something went wrong on our side (reference {reference})."
                )
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(feature = "server")]
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound {
                entity: "record".into(),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "database unavailable");
                Error::Unavailable
            }
            sqlx::Error::Database(db) => {
                if let Some(error) = constraint_error(db.as_ref()) {
                    return error;
                }
                internal(&err)
            }
            _ => internal(&err),
        }
    }
}

/// Logs an unexpected failure once, with a reference the user can quote.
#[cfg(feature = "server")]
pub fn internal(err: &dyn std::fmt::Display) -> Error {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(%reference, error = %err, "internal error");
    Error::Internal { reference }
}

/// Turns the constraint violations a user can cause into field errors or conflicts.
#[cfg(feature = "server")]
fn constraint_error(db: &dyn sqlx::error::DatabaseError) -> Option<Error> {
    let constraint = db.constraint().unwrap_or_default();
    let kind = db.kind();
    match kind {
        sqlx::error::ErrorKind::UniqueViolation => {
            let field = if constraint.contains("slug") {
                "slug"
            } else if constraint.contains("namespace") {
                "placements"
            } else {
                "name"
            };
            Some(Error::invalid(
                field,
                "is already taken; choose another one",
            ))
        }
        sqlx::error::ErrorKind::ForeignKeyViolation => {
            let field = if constraint.contains("team") {
                "team_id"
            } else if constraint.contains("platform") {
                "platform_id"
            } else if constraint.contains("environment") {
                "environment_id"
            } else {
                "reference"
            };
            Some(Error::invalid(
                field,
                "refers to something that does not exist",
            ))
        }
        sqlx::error::ErrorKind::CheckViolation => {
            let field = ["slug", "name", "namespace", "position", "scope", "role"]
                .into_iter()
                .find(|f| constraint.contains(f))
                .unwrap_or("input");
            Some(Error::invalid(field, "is not valid"))
        }
        // A NUL character (JSON's \u0000) in text: PostgreSQL stores none. The JSON API names
        // the field before it gets here; this is the backstop for every other way in.
        _ if matches!(db.code().as_deref(), Some("22021" | "22P05")) => Some(Error::invalid(
            "input",
            "contains a NUL character (\\u0000), which cannot be stored; remove it",
        )),
        // A date or time outside what PostgreSQL holds (a year like -5000): inputs are checked
        // against validate::FIRST_YEAR..LAST_YEAR first; this is the backstop.
        _ if matches!(db.code().as_deref(), Some("22008")) => Some(Error::invalid(
            "input",
            "holds a date outside the range Demarc accepts (the years 1970 to 2200)",
        )),
        _ => None,
    }
}
