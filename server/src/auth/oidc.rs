//! The OpenID Connect relying party: authorization code flow with PKCE, state and nonce, the
//! RFC 9207 `iss` check, ID token verification, RP-initiated logout, and verification of access
//! tokens that the provider issues to automation clients (client credentials).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse,
    CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, JsonWebKey, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl,
    Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::config::OidcConfig;

/// Claims beyond the standard ones; the groups claim is read from here by its configured name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// Discovery fields the core types leave out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraMetadata {
    pub end_session_endpoint: Option<EndSessionUrl>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Discovered {
    client: OidcClient,
    jwks: CoreJsonWebKeySet,
    end_session: Option<EndSessionUrl>,
    iss_parameter_supported: bool,
    fetched_at: Instant,
}

/// What the login flow keeps in the session between the redirect and the callback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to go after login (a local path).
    pub next: String,
}

/// A person whose ID token was verified.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    pub issuer: String,
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// Why a login or token was refused. Shown to people in general terms; details are logged.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the login request was not started here or has expired")]
    NoPendingLogin,
    #[error("the state parameter does not match")]
    StateMismatch,
    #[error("the callback names a different issuer")]
    IssuerMismatch,
    #[error("the provider reported an error: {0}")]
    Provider(String),
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    #[error("the ID token is not valid: {0}")]
    InvalidToken(String),
    #[error("the provider cannot be reached: {0}")]
    Discovery(String),
}

/// The relying party. Cheap to share: the discovered state sits behind a lock and is replaced
/// when the provider's keys rotate.
pub struct Oidc {
    http: reqwest::Client,
    config: OidcConfig,
    redirect_uri: RedirectUrl,
    groups_claim: String,
    current: RwLock<Arc<Discovered>>,
    /// Held while the keys are fetched again, with when that was last tried (also when it
    /// failed): one fetch at a time, at most one per [`KEY_REFRESH_INTERVAL`].
    refreshing: tokio::sync::Mutex<Instant>,
}

impl Oidc {
    /// Discovers the provider's metadata and keys.
    pub async fn discover(
        config: &OidcConfig,
        redirect_uri: &str,
        groups_claim: &str,
    ) -> Result<Oidc, OidcError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Discovery(e.to_string()))?;
        let redirect_uri = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OidcError::Discovery(e.to_string()))?;
        let discovered = fetch(&http, config, &redirect_uri).await?;
        Ok(Oidc {
            http,
            config: config.clone(),
            redirect_uri,
            groups_claim: groups_claim.to_owned(),
            refreshing: tokio::sync::Mutex::new(discovered.fetched_at),
            current: RwLock::new(Arc::new(discovered)),
        })
    }

    fn current(&self) -> Arc<Discovered> {
        self.current.read().expect("oidc lock poisoned").clone()
    }

    /// Fetches metadata and keys again after a key we do not know (a rotation at the provider),
    /// at most once per [`KEY_REFRESH_INTERVAL`]: tokens naming made-up keys cannot make Demarc
    /// hammer the provider, and a key published a moment ago is found within seconds.
    async fn refresh(&self) -> Result<Arc<Discovered>, OidcError> {
        // Requests that wait here while another fetches get that fetch's keys.
        let mut tried = self.refreshing.lock().await;
        if tried.elapsed() < KEY_REFRESH_INTERVAL {
            return Ok(self.current());
        }
        *tried = Instant::now();
        let fresh = Arc::new(fetch(&self.http, &self.config, &self.redirect_uri).await?);
        *self.current.write().expect("oidc lock poisoned") = fresh.clone();
        tracing::info!("refreshed the OpenID provider's metadata and keys");
        Ok(fresh)
    }

    /// Starts a login: the provider URL to redirect to and what to remember until the callback.
    pub fn start(&self, next: String) -> (url::Url, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let current = self.current();
        let (url, state, nonce) = current
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new(self.groups_claim.clone()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
        };
        (url, pending)
    }

    /// Finishes a login from the callback's parameters.
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        code: &str,
        state: &str,
        iss: Option<&str>,
    ) -> Result<VerifiedLogin, OidcError> {
        if !constant_time_eq(pending.state.as_bytes(), state.as_bytes()) {
            return Err(OidcError::StateMismatch);
        }
        let current = self.current();
        match iss {
            Some(iss) if iss != self.config.issuer => return Err(OidcError::IssuerMismatch),
            None if current.iss_parameter_supported => return Err(OidcError::IssuerMismatch),
            _ => {}
        }
        let response = current
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(describe(&e)))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::InvalidToken("no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match id_token.claims(&current.client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                // The provider may have rotated its keys since we fetched them: fetch once more.
                let fresh = self.refresh().await?;
                id_token
                    .claims(&fresh.client.id_token_verifier(), &nonce)
                    .map_err(|e| OidcError::InvalidToken(e.to_string()))?
                    .clone()
            }
            Err(e) => return Err(OidcError::InvalidToken(e.to_string())),
        };
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| claims.preferred_username().map(|u| u.to_string()))
            .unwrap_or_else(|| claims.subject().to_string());
        Ok(VerifiedLogin {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            name,
            email: claims.email().map(|e| e.to_string()),
            groups: string_list(claims.additional_claims().other.get(&self.groups_claim)),
        })
    }

    /// The provider's logout URL (RP-initiated logout), if it has one. It names this client
    /// instead of sending the ID token back, so no token needs to be kept in the session.
    pub fn logout_url(&self, post_logout: &str) -> Option<url::Url> {
        let current = self.current();
        let endpoint = current.end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.config.client_id.clone()));
        if let Ok(url) = PostLogoutRedirectUrl::new(post_logout.to_owned()) {
            request = request.set_post_logout_redirect_uri(url);
        }
        Some(request.http_get_url())
    }

    /// Verifies a JWT access token issued by the provider to an automation client: signature by
    /// one of the provider's keys, issuer, audience, expiry. Returns its claims.
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessClaims, OidcError> {
        let invalid = |m: &str| OidcError::InvalidToken(m.to_owned());
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a JWT"));
        };
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: JwtHeader =
            serde_json::from_slice(&b64.decode(header).map_err(|_| invalid("bad header"))?)
                .map_err(|_| invalid("bad header"))?;
        // RFC 9068 access tokens say `at+jwt`; plain `JWT` (or nothing) is common too. Any other
        // type (an ID token's, a logout token's) is not an access token.
        if let Some(typ) = header.typ.as_deref() {
            let typ = typ.to_ascii_lowercase();
            if !matches!(typ.as_str(), "at+jwt" | "application/at+jwt" | "jwt") {
                return Err(invalid("not an access token (typ)"));
            }
        }
        let alg = match header.alg.as_str() {
            "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            "RS384" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
            "RS512" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
            "PS256" => CoreJwsSigningAlgorithm::RsaSsaPssSha256,
            "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
            _ => return Err(invalid("unsupported signing algorithm")),
        };
        let signature = b64
            .decode(signature)
            .map_err(|_| invalid("bad signature encoding"))?;
        let message = &token[..header_payload_len(token)];
        let mut discovered = self.current();
        for attempt in 0..2 {
            // The key the header names, or without a `kid` every published key: the token is
            // good when one of them verifies it.
            let candidates: Vec<_> = discovered
                .jwks
                .keys()
                .iter()
                .filter(|k| {
                    header
                        .kid
                        .as_deref()
                        .is_none_or(|kid| k.key_id().map(|id| id.as_str()) == Some(kid))
                })
                .collect();
            if candidates.is_empty() {
                if attempt == 0 {
                    discovered = self.refresh().await?;
                    continue;
                }
                return Err(invalid("signed by an unknown key"));
            }
            let mut last = None;
            let verified = candidates.iter().any(|key| {
                key.verify_signature(&alg, message.as_bytes(), &signature)
                    .map_err(|e| last = Some(e.to_string()))
                    .is_ok()
            });
            if !verified {
                return Err(OidcError::InvalidToken(
                    last.unwrap_or_else(|| "bad signature".into()),
                ));
            }
            break;
        }
        let claims: AccessClaims =
            serde_json::from_slice(&b64.decode(payload).map_err(|_| invalid("bad payload"))?)
                .map_err(|e| OidcError::InvalidToken(format!("bad claims: {e}")))?;
        if claims.iss != self.config.issuer {
            return Err(invalid("wrong issuer"));
        }
        if !claims.aud.contains(&self.config.api_audience) {
            return Err(invalid("wrong audience"));
        }
        // Only ID tokens carry a nonce (Demarc sends one with every sign-in): a person's ID token
        // must not work as an API credential, even where the API audience is the client id.
        if claims.other.contains_key("nonce") {
            return Err(invalid("an ID token, not an access token"));
        }
        let now = chrono::Utc::now().timestamp();
        if claims.exp <= now {
            return Err(invalid("expired"));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + 60) {
            return Err(invalid("not yet valid"));
        }
        Ok(claims)
    }

    /// The groups in an access token's claims, by the configured claim name.
    pub fn groups_of(&self, claims: &AccessClaims) -> Vec<String> {
        string_list(claims.other.get(&self.groups_claim))
    }
}

/// The shortest time between two fetches of the provider's keys.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(2);

fn header_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

/// An access token's audience: one string or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// The claims Demarc reads from an automation client's access token.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: Audience,
    pub exp: i64,
    pub nbf: Option<i64>,
    pub client_id: Option<String>,
    pub sub: Option<String>,
    #[serde(default)]
    pub scope: String,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

fn string_list(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(s)) => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn describe<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn fetch(
    http: &reqwest::Client,
    config: &OidcConfig,
    redirect: &RedirectUrl,
) -> Result<Discovered, OidcError> {
    let issuer =
        IssuerUrl::new(config.issuer.clone()).map_err(|e| OidcError::Discovery(e.to_string()))?;
    let metadata = Metadata::discover_async(issuer, http)
        .await
        .map_err(|e| OidcError::Discovery(describe(&e)))?;
    let extra = metadata.additional_metadata().clone();
    let jwks = metadata.jwks().clone();
    let client = OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect.clone());
    Ok(Discovered {
        client,
        jwks,
        end_session: extra.end_session_endpoint,
        iss_parameter_supported: extra.authorization_response_iss_parameter_supported,
        fetched_at: Instant::now(),
    })
}
