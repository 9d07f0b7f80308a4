//! The REST API's error body: one stable shape for every failure.
//!
//! ```json
//! {"error": {"code": "invalid", "message": "...", "fields": {"slug": "is required"}}}
//! ```

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use domain::db::Caller;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayItems, Schema};

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: unauthenticated, forbidden, not_found, invalid, conflict,
    /// precondition_failed, precondition_required, unavailable, internal.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// One message per invalid field, keyed by the field's name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// A domain error on its way out as JSON.
#[derive(Debug)]
pub struct ApiError(pub domain::Error);

impl From<domain::Error> for ApiError {
    fn from(e: domain::Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        use domain::Error as E;
        let code = match &self.0 {
            E::Unauthenticated => "unauthenticated",
            E::Forbidden { .. } => "forbidden",
            E::NotFound { .. } => "not_found",
            E::Invalid { .. } => "invalid",
            E::Conflict { .. } => "conflict",
            E::Stale { .. } => "precondition_failed",
            E::Unavailable => "unavailable",
            E::Internal { .. } => "internal",
        };
        let status =
            StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &self.0 {
            E::Invalid { .. } => "The request has invalid fields.".to_owned(),
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                fields: self.0.field_errors(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert("www-authenticate", "Bearer".parse().expect("valid header"));
        }
        response
    }
}

/// A 401 with the standard body.
pub fn unauthenticated(message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "unauthenticated",
            message: message.to_owned(),
            fields: BTreeMap::new(),
        },
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response
        .headers_mut()
        .insert("www-authenticate", "Bearer".parse().expect("valid header"));
    response
}

/// A plain error with a code and status (for HTTP-level problems such as a missing If-Match).
pub fn plain(status: StatusCode, code: &'static str, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message: message.to_owned(),
            fields: BTreeMap::new(),
        },
    };
    (status, Json(body)).into_response()
}

/// The answer to a request whose handler panicked (a bug): a 500 in the API's error shape with a
/// reference to the log line, instead of a dropped connection.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(%reference, panic = %what, "a request handler panicked");
    ApiError(domain::Error::Internal { reference }).into_response()
}

/// Under /api, the router's own answers (no such path: the HTML 404 page; a method the path
/// does not have: an empty 405) come in the API's error shape like every other error.
pub async fn json_routing_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !api || json {
        return response;
    }
    match response.status() {
        StatusCode::NOT_FOUND => plain(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such API endpoint: /api/docs lists them.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(axum::http::header::ALLOW).cloned();
            let mut refused = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This endpoint does not take this method: /api/docs lists the ones it takes.",
            );
            if let Some(allow) = allow {
                refused
                    .headers_mut()
                    .insert(axum::http::header::ALLOW, allow);
            }
            refused
        }
        _ => response,
    }
}

/// The caller of a REST request; answers 401 when there is none.
pub struct ApiCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(ApiCaller)
            .ok_or_else(|| unauthenticated("Send an API token as `Authorization: Bearer <token>`."))
    }
}

/// A JSON body whose errors name the offending field. A field the request does not have (a
/// misspelt `requird`, a read-only `id` sent back) is an error too, named by its path
/// (`items[2].titel`), instead of being dropped without a word.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_body(req, state, |_| false).await.map(JsonBody)
    }
}

/// A JSON body read as `T` that may carry the other fields of `R`, which are not read: a `PUT`
/// of a resource as GET answered it (`R` is the representation, whose `id`, `version`,
/// `updated_at` are read-only), so a client can GET, change a field and PUT the object back with
/// `If-Match`; or a report as a command wrote it. Any other unknown field is refused, as by
/// [`JsonBody`].
pub struct BodyOf<T, R>(pub T, pub PhantomData<R>);

impl<S: Send + Sync, T: DeserializeOwned, R: ToSchema> FromRequest<S> for BodyOf<T, R> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Only a body with a field the request lacks needs the representation's shape.
        let shape = OnceLock::new();
        json_body(req, state, |path| {
            shape.get_or_init(Representation::of::<R>).has(path)
        })
        .await
        .map(|input| BodyOf(input, PhantomData))
    }
}

/// The shape of a resource's representation, from the schema its OpenAPI description uses.
struct Representation {
    root: RefOr<Schema>,
    /// The schemas `root` refers to, by name.
    named: BTreeMap<String, RefOr<Schema>>,
}

/// One step of a field's path: `placements`, `[0]`.
enum Step<'a> {
    Field(&'a str),
    Item,
}

impl Representation {
    fn of<R: ToSchema>() -> Self {
        let mut named = Vec::new();
        R::schemas(&mut named);
        Representation {
            root: R::schema(),
            named: named.into_iter().collect(),
        }
    }

    /// Whether the representation has the field at `path` (`placements[0].environment_slug`).
    fn has(&self, path: &str) -> bool {
        let mut steps = Vec::new();
        for part in path.split('.') {
            let (name, items) = part.split_once('[').unwrap_or((part, ""));
            if !name.is_empty() {
                steps.push(Step::Field(name));
            }
            steps.extend(items.matches(']').map(|_| Step::Item));
        }
        !steps.is_empty() && self.walk(&self.root, &steps, 0)
    }

    fn walk(&self, schema: &RefOr<Schema>, steps: &[Step<'_>], depth: u8) -> bool {
        // Recursive types refer to themselves; no representation is nested this deep.
        if depth > 32 {
            return false;
        }
        let schema = match schema {
            RefOr::T(schema) => schema,
            RefOr::Ref(r) => {
                let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                return self
                    .named
                    .get(name)
                    .is_some_and(|s| self.walk(s, steps, depth + 1));
            }
        };
        let Some((step, rest)) = steps.split_first() else {
            return true;
        };
        let any = |items: &[RefOr<Schema>]| items.iter().any(|i| self.walk(i, steps, depth + 1));
        match (schema, step) {
            (Schema::Object(o), Step::Field(name)) => o
                .properties
                .get(*name)
                .is_some_and(|p| self.walk(p, rest, depth + 1)),
            (Schema::Array(a), Step::Item) => match &a.items {
                ArrayItems::RefOrSchema(item) => self.walk(item, rest, depth + 1),
                _ => false,
            },
            (Schema::AllOf(x), _) => any(&x.items),
            (Schema::OneOf(x), _) => any(&x.items),
            (Schema::AnyOf(x), _) => any(&x.items),
            _ => false,
        }
    }
}

/// What [`JsonBody`] answers about a field that is not part of the request.
pub const UNKNOWN_FIELD: &str = "is not a field of this request (check its spelling)";

/// Reads a JSON body as `T`, naming the offending field of any error. Fields `T` does not have
/// are refused unless `accepted` takes their path (for bodies that are documented to carry
/// fields the request does not use, such as a posted check report).
pub async fn json_body<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
    accepted: impl Fn(&str) -> bool,
) -> Result<T, Response> {
    let bytes = match axum::body::Bytes::from_request(req, state).await {
        Ok(b) => b,
        // A body over the limit is 413 (the client must send less), anything else 400.
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(plain(e.status(), "too_large", &e.body_text()));
        }
        Err(e) => return Err(plain(StatusCode::BAD_REQUEST, "invalid", &e.body_text())),
    };
    if let Some(field) = nul_in_text(&bytes) {
        return Err(ApiError(domain::Error::invalid(
            &field,
            "contains a NUL character (\\u0000), which cannot be stored; remove it",
        ))
        .into_response());
    }
    let mut unknown = BTreeMap::new();
    let mut ignored = |path: serde_ignored::Path| {
        let path = match path_text(&path) {
            path if path.is_empty() => "body".to_owned(),
            path => path,
        };
        if !accepted(&path) {
            unknown.insert(path, UNKNOWN_FIELD.to_owned());
        }
    };
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    let read = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(de, &mut ignored));
    // The unknown fields seen before a failure are named beside it: a misspelt required field
    // comes back as both the unknown spelling and the missing field.
    let mut fields = unknown;
    let value = match read {
        Ok(value) => Some(value),
        Err(e) => {
            // JSON that does not parse has no fields to speak of.
            if matches!(
                e.inner().classify(),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
            ) {
                fields.clear();
            }
            let (field, message) = field_error(e);
            fields.insert(field, message);
            None
        }
    };
    match value {
        Some(value) if fields.is_empty() => Ok(value),
        _ => Err(ApiError(domain::Error::Invalid { fields }).into_response()),
    }
}

/// The field and message of a body that does not read as the request.
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> (String, String) {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.into_inner();
    let text = clean(&inner.to_string());
    if matches!(inner.classify(), Category::Syntax | Category::Eof) {
        ("body".to_owned(), format!("is not valid JSON: {text}"))
    } else if path == "." || path == "?" || path.is_empty() {
        match missing_field(&text) {
            Some(f) => (f, "is required".to_owned()),
            None => (
                "body".to_owned(),
                format!("does not fit this request: {text}"),
            ),
        }
    } else {
        (path, text)
    }
}

/// An ignored field's path written as serde_path_to_error writes the paths of the other errors:
/// `requird`, `items[2].titel`, `source.nmae` (an `Option` or a newtype adds nothing).
fn path_text(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_text(parent)),
        Path::Map { parent, key } => match path_text(parent) {
            parent if parent.is_empty() => key.clone(),
            parent => format!("{parent}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => path_text(parent),
    }
}

/// Query parameters whose errors come back in the API's error shape.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters (ids) whose errors come back in the API's error shape, naming the parameter
/// that is not an id (`item_id` in `/platforms/{id}/scope/items/{item_id}`).
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(_) => {
                // The ids are the only typed parameters (the others are free text), so the
                // first one that does not read as a UUID is the culprit.
                let field = axum::extract::RawPathParams::from_request_parts(parts, state)
                    .await
                    .ok()
                    .and_then(|raw| {
                        raw.iter()
                            .find(|(_, value)| uuid::Uuid::parse_str(value).is_err())
                            .map(|(name, _)| name.to_owned())
                    })
                    .unwrap_or_else(|| "id".to_owned());
                Err(ApiError(domain::Error::invalid(
                    &field,
                    "is not a valid id (a UUID)",
                )))
            }
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        let text = r.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        let (field, message) = match detail.split_once(": ") {
            Some((field, message)) if !field.contains(' ') => {
                (field.to_owned(), message.to_owned())
            }
            _ => ("query".to_owned(), detail.to_owned()),
        };
        ApiError(domain::Error::invalid(&field, message))
    }
}

/// Converts axum's own JSON rejections (if any handler uses `Json` directly).
impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError(domain::Error::invalid("body", r.body_text()))
    }
}

/// The path of the first string (or key) holding a NUL character, which PostgreSQL cannot store.
/// JSON can only carry one escaped, so bodies without `\u0000` are not parsed twice.
fn nul_in_text(body: &[u8]) -> Option<String> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    fn find(value: &serde_json::Value, path: &str) -> Option<String> {
        let this = || {
            if path.is_empty() {
                "body".to_owned()
            } else {
                path.to_owned()
            }
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(this()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| find(v, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                if k.contains('\0') {
                    Some(this())
                } else if path.is_empty() {
                    find(v, k)
                } else {
                    find(v, &format!("{path}.{k}"))
                }
            }),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    find(&value, "")
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

fn clean(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn a_representation_knows_its_fields_however_deep() {
        let application = Representation::of::<domain::model::Application>();
        for path in [
            "id",
            "team_slug",
            "version",
            "placements",
            "placements[3].namespace",
        ] {
            assert!(application.has(path), "{path}");
        }
        for path in [
            "",
            "nmae",
            "placements[0].cluster",
            "placements.namespace",
            "id[0]",
        ] {
            assert!(!application.has(path), "{path}");
        }
        // Through references to named schemas: a template's items and their parameters.
        let template = Representation::of::<domain::golive::model::ChecklistTemplate>();
        for path in ["created_by", "items[0].how_to_fix", "items[1].params"] {
            assert!(template.has(path), "{path}");
        }
        assert!(!template.has("items[0].requird"));
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        required: bool,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        inner: Option<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        title: String,
    }

    async fn read(
        body: &str,
        accepted: fn(&str) -> bool,
    ) -> Result<Body, BTreeMap<String, String>> {
        let req = Request::new(axum::body::Body::from(body.to_owned()));
        match json_body::<(), Body>(req, &(), accepted).await {
            Ok(body) => Ok(body),
            Err(response) => {
                assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(body["error"]["code"], "invalid", "{body}");
                Err(serde_json::from_value(body["error"]["fields"].clone()).unwrap())
            }
        }
    }

    fn fields(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn unknown_fields_are_named_by_their_path() {
        let strict = |_: &str| false;
        assert!(
            read(r#"{"name": "a", "items": [{"title": "t"}]}"#, strict)
                .await
                .is_ok()
        );
        assert_eq!(
            read(r#"{"name": "a", "requird": true}"#, strict)
                .await
                .unwrap_err(),
            fields(&[("requird", UNKNOWN_FIELD)])
        );
        assert_eq!(
            read(
                r#"{"name": "a", "items": [{"title": "t"}, {"title": "u", "titel": "v"}],
                    "inner": {"title": "t", "nmae": {"deep": [1]}}, "x": null}"#,
                strict
            )
            .await
            .unwrap_err(),
            fields(&[
                ("items[1].titel", UNKNOWN_FIELD),
                ("inner.nmae", UNKNOWN_FIELD),
                ("x", UNKNOWN_FIELD),
            ])
        );
        // A misspelt required field: both the spelling and the missing field are named.
        assert_eq!(
            read(r#"{"nmae": "a"}"#, strict).await.unwrap_err(),
            fields(&[("nmae", UNKNOWN_FIELD), ("name", "is required")])
        );
        // Other errors are as before.
        let wrong_type = read(r#"{"name": "a", "items": [{"title": 1}]}"#, strict)
            .await
            .unwrap_err();
        assert_eq!(
            wrong_type.keys().collect::<Vec<_>>(),
            ["items[0].title"],
            "{wrong_type:?}"
        );
        let broken = read(r#"{"nmae": "a", "#, strict).await.unwrap_err();
        assert_eq!(broken.keys().collect::<Vec<_>>(), ["body"], "{broken:?}");
        // Fields a body is documented to carry may be let through by path.
        let accepted = |path: &str| path == "items[0].note";
        assert!(
            read(
                r#"{"name": "a", "items": [{"title": "t", "note": 1}]}"#,
                accepted
            )
            .await
            .is_ok()
        );
        assert_eq!(
            read(
                r#"{"name": "a", "items": [{"title": "t"}, {"title": "u", "note": 1}]}"#,
                accepted
            )
            .await
            .unwrap_err(),
            fields(&[("items[1].note", UNKNOWN_FIELD)])
        );
    }
}
