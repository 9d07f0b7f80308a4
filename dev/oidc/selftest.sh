#!/usr/bin/env bash
# Self-test of the development OpenID provider (dev/oidc/provider.mjs) with curl and node:
# discovery, JWKS, client credentials (JWT access token: aud, groups, signature), dynamic client
# registration, authorization code + PKCE through the login form, ID token claims, userinfo,
# single sign-on, logout, key persistence, SIGTERM and stdin-EOF shutdown.
#
# Usage: dev/oidc/selftest.sh        (exits non-zero on the first failed check)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

if [[ ! -d node_modules/oidc-provider ]]; then
  echo "selftest: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

WORK="$(mktemp -d)"
PROVIDER_PID=""

cleanup() {
  if [[ -n "$PROVIDER_PID" ]] && kill -0 "$PROVIDER_PID" 2>/dev/null; then
    kill "$PROVIDER_PID" 2>/dev/null || true
    wait "$PROVIDER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

CHECKS=0
pass() {
  CHECKS=$((CHECKS + 1))
  printf '  ok  %s\n' "$1"
}
fail() {
  printf '  FAIL %s\n' "$1" >&2
  if [[ -f "$WORK/provider.err" ]]; then
    echo "---- provider stderr (last 30 lines) ----" >&2
    tail -n 30 "$WORK/provider.err" >&2
  fi
  exit 1
}

# node_eval SCRIPT [ARGS...]: runs a small node program (ES module syntax not needed).
node_eval() {
  local script="$1"
  shift
  node -e "$script" -- "$@"
}

# jq-like accessor: json_get FILE 'js expression over j' -> prints the value (JSON for objects).
json_get() {
  node_eval '
    const fs = require("fs");
    const j = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const v = (new Function("j", "return (" + process.argv[2] + ");"))(j);
    if (v === undefined || v === null) process.exit(3);
    process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
  ' "$1" "$2"
}

# jwt_payload TOKEN -> JSON payload; jwt_header TOKEN -> JSON header.
jwt_part() {
  node_eval '
    const part = process.argv[1].split(".")[Number(process.argv[2])];
    process.stdout.write(Buffer.from(part, "base64url").toString("utf8"));
  ' "$1" "$2"
}

# jwt_verify TOKEN JWKS_FILE: checks the RS256 signature against the provider JWKS.
jwt_verify() {
  node_eval '
    const crypto = require("crypto");
    const fs = require("fs");
    const [h, p, s] = process.argv[1].split(".");
    const header = JSON.parse(Buffer.from(h, "base64url"));
    const jwks = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    if (!jwk || header.alg !== "RS256") process.exit(2);
    const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
    const ok = crypto.verify("RSA-SHA256", Buffer.from(h + "." + p), key, Buffer.from(s, "base64url"));
    process.exit(ok ? 0 : 1);
  ' "$1" "$2"
}

# start_provider [ENV=VALUE...]: starts the provider on a free port, sets ISSUER.
start_provider() {
  : >"$WORK/provider.out"
  env OIDC_PORT=0 "$@" node provider.mjs >"$WORK/provider.out" 2>"$WORK/provider.err" </dev/null &
  PROVIDER_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do
    if grep -q '^oidc-provider ready at ' "$WORK/provider.out"; then
      ISSUER="$(sed -n 's/^oidc-provider ready at //p' "$WORK/provider.out")"
      return 0
    fi
    if ! kill -0 "$PROVIDER_PID" 2>/dev/null; then
      fail "provider exited during start"
    fi
    sleep 0.1
  done
  fail "provider not ready within 60 s"
}

stop_provider() {
  kill -TERM "$PROVIDER_PID"
  local rc=0
  wait "$PROVIDER_PID" || rc=$?
  PROVIDER_PID=""
  [[ "$rc" == 0 ]] || fail "provider exit status after SIGTERM is $rc, expected 0"
}

# http METHOD URL [curl args...]: body to $WORK/body, headers to $WORK/headers;
# sets STATUS and LOCATION. Uses the cookie jar $JAR.
JAR="$WORK/cookies"
http() {
  local method="$1" url="$2"
  shift 2
  local out
  out="$(curl -sS -X "$method" -b "$JAR" -c "$JAR" -o "$WORK/body" -D "$WORK/headers" \
    -w '%{http_code} %{redirect_url}' "$@" "$url")"
  STATUS="${out%% *}"
  LOCATION="${out#* }"
}

# abs URL_OR_PATH -> absolute URL on the issuer.
abs() {
  case "$1" in
    http://* | https://*) printf '%s' "$1" ;;
    *) printf '%s%s' "$ISSUER" "$1" ;;
  esac
}

# follow_until PREFIX: follows redirects (GET) from $LOCATION until one starts with PREFIX or a
# non-redirect answer comes; sets LOCATION/STATUS.
follow_until() {
  local prefix="$1" i
  for ((i = 0; i < 10; i++)); do
    if [[ "$LOCATION" == "$prefix"* ]]; then
      return 0
    fi
    [[ -n "$LOCATION" ]] || return 0
    http GET "$(abs "$LOCATION")"
  done
  fail "too many redirects"
}

query_param() {
  node_eval 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' "$1" "$2"
}

urlencode() {
  node_eval 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"
}

# ------------------------------------------------------------------------------------------------
echo "selftest: starting provider (key file in a temp dir)"
KEY_FILE="$WORK/keys/jwks.json"
start_provider OIDC_KEY_FILE="$KEY_FILE" OIDC_AUTOMATION_GROUPS="platform-engineers,robots"
echo "selftest: issuer $ISSUER"

[[ "$(wc -l <"$WORK/provider.out")" -eq 1 ]] || fail "stdout should hold only the ready line"
pass "ready line on stdout"

[[ -f "$KEY_FILE" ]] || fail "key file not written"
[[ "$(stat -c %a "$KEY_FILE")" == 600 ]] || fail "key file mode is not 600"
KID="$(json_get "$KEY_FILE" 'j.keys[0].kid')"
pass "signing key written to OIDC_KEY_FILE (mode 600)"

# Discovery
http GET "$ISSUER/.well-known/openid-configuration"
[[ "$STATUS" == 200 ]] || fail "discovery status $STATUS"
cp "$WORK/body" "$WORK/discovery.json"
[[ "$(json_get "$WORK/discovery.json" 'j.issuer')" == "$ISSUER" ]] || fail "discovery issuer"
json_get "$WORK/discovery.json" 'j.code_challenge_methods_supported.includes("S256") || null' >/dev/null || fail "S256 missing"
json_get "$WORK/discovery.json" 'j.scopes_supported.includes("groups") || null' >/dev/null || fail "groups scope missing"
json_get "$WORK/discovery.json" 'j.claims_supported.includes("groups") || null' >/dev/null || fail "groups claim missing"
json_get "$WORK/discovery.json" 'j.grant_types_supported.includes("client_credentials") || null' >/dev/null || fail "client_credentials missing"
REG_ENDPOINT="$(json_get "$WORK/discovery.json" 'j.registration_endpoint')" || fail "no registration_endpoint"
TOKEN_ENDPOINT="$(json_get "$WORK/discovery.json" 'j.token_endpoint')"
AUTH_ENDPOINT="$(json_get "$WORK/discovery.json" 'j.authorization_endpoint')"
USERINFO_ENDPOINT="$(json_get "$WORK/discovery.json" 'j.userinfo_endpoint')"
END_SESSION_ENDPOINT="$(json_get "$WORK/discovery.json" 'j.end_session_endpoint')" || fail "no end_session_endpoint"
JWKS_URI="$(json_get "$WORK/discovery.json" 'j.jwks_uri')"
pass "discovery document (issuer, S256, groups, registration, end_session)"

# JWKS
http GET "$JWKS_URI"
[[ "$STATUS" == 200 ]] || fail "jwks status $STATUS"
cp "$WORK/body" "$WORK/jwks.json"
[[ "$(json_get "$WORK/jwks.json" 'j.keys.length')" == 1 ]] || fail "expected one key"
[[ "$(json_get "$WORK/jwks.json" 'j.keys[0].kty')" == RSA ]] || fail "key type"
[[ "$(json_get "$WORK/jwks.json" 'j.keys[0].kid')" == "$KID" ]] || fail "served key is not the key file's"
json_get "$WORK/jwks.json" 'j.keys[0].d === undefined || null' >/dev/null || fail "private key material in JWKS"
pass "JWKS (one public RSA key, from the key file)"

# Client credentials: JWT access token for the API
http POST "$TOKEN_ENDPOINT" -u demarc-automation:demarc-automation-secret -d grant_type=client_credentials
[[ "$STATUS" == 200 ]] || fail "client_credentials status $STATUS: $(cat "$WORK/body")"
AT="$(json_get "$WORK/body" 'j.access_token')"
[[ "$(json_get "$WORK/body" 'j.token_type')" == Bearer ]] || fail "token_type"
jwt_part "$AT" 0 >"$WORK/at_header.json"
jwt_part "$AT" 1 >"$WORK/at.json"
[[ "$(json_get "$WORK/at_header.json" 'j.typ')" == at+jwt ]] || fail "access token typ is not at+jwt"
[[ "$(json_get "$WORK/at.json" 'j.aud')" == demarc-api ]] || fail "aud: $(cat "$WORK/at.json")"
[[ "$(json_get "$WORK/at.json" 'j.iss')" == "$ISSUER" ]] || fail "iss"
[[ "$(json_get "$WORK/at.json" 'j.client_id')" == demarc-automation ]] || fail "client_id"
[[ "$(json_get "$WORK/at.json" 'j.sub')" == demarc-automation ]] || fail "sub"
[[ "$(json_get "$WORK/at.json" 'j.groups')" == '["platform-engineers","robots"]' ]] || fail "groups: $(cat "$WORK/at.json")"
[[ "$(json_get "$WORK/at.json" 'j.scope')" == 'demarc:read demarc:write' ]] || fail "scope: $(cat "$WORK/at.json")"
jwt_verify "$AT" "$WORK/jwks.json" || fail "access token signature"
pass "client_credentials: JWT access token (typ at+jwt, aud demarc-api, groups, scope, signature)"

http POST "$TOKEN_ENDPOINT" -u demarc-automation:demarc-automation-secret \
  -d grant_type=client_credentials --data-urlencode scope=demarc:read
[[ "$STATUS" == 200 ]] || fail "client_credentials with scope: $STATUS $(cat "$WORK/body")"
jwt_part "$(json_get "$WORK/body" 'j.access_token')" 1 >"$WORK/at2.json"
[[ "$(json_get "$WORK/at2.json" 'j.scope')" == demarc:read ]] || fail "narrowed scope"
pass "client_credentials: requested scope narrows the token"

http POST "$TOKEN_ENDPOINT" -u demarc-automation:wrong -d grant_type=client_credentials
[[ "$STATUS" == 401 ]] || fail "wrong secret gives $STATUS"
[[ "$(json_get "$WORK/body" 'j.error')" == invalid_client ]] || fail "wrong secret error"
pass "client_credentials: wrong secret is rejected (401 invalid_client)"

# Dynamic client registration
CB="http://127.0.0.1:9/test-$RANDOM/callback"
POST_LOGOUT="http://127.0.0.1:9/test-$RANDOM/signed-out"
http POST "$REG_ENDPOINT" -H 'Content-Type: application/json' --data-binary @- <<EOF
{"redirect_uris":["$CB"],"post_logout_redirect_uris":["$POST_LOGOUT"],
 "grant_types":["authorization_code"],"response_types":["code"],
 "token_endpoint_auth_method":"client_secret_basic","client_name":"selftest"}
EOF
[[ "$STATUS" == 201 ]] || fail "registration status $STATUS: $(cat "$WORK/body")"
CLIENT_ID="$(json_get "$WORK/body" 'j.client_id')"
CLIENT_SECRET="$(json_get "$WORK/body" 'j.client_secret')"
pass "dynamic client registration ($CLIENT_ID)"

http POST "$REG_ENDPOINT" -H 'Content-Type: application/json' \
  --data-binary '{"grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"groups":["team-search"]}'
[[ "$STATUS" == 201 ]] || fail "registration of a client_credentials client: $STATUS $(cat "$WORK/body")"
CC_ID="$(json_get "$WORK/body" 'j.client_id')"
CC_SECRET="$(json_get "$WORK/body" 'j.client_secret')"
http POST "$TOKEN_ENDPOINT" -u "$CC_ID:$CC_SECRET" -d grant_type=client_credentials
[[ "$STATUS" == 200 ]] || fail "registered client_credentials token: $STATUS $(cat "$WORK/body")"
jwt_part "$(json_get "$WORK/body" 'j.access_token')" 1 >"$WORK/at3.json"
[[ "$(json_get "$WORK/at3.json" 'j.groups')" == '["team-search"]' ]] || fail "registered client groups: $(cat "$WORK/at3.json")"
[[ "$(json_get "$WORK/at3.json" 'j.aud')" == demarc-api ]] || fail "registered client aud"
pass "registered client_credentials client gets its own groups in the JWT"

# Authorization code + PKCE
VERIFIER="$(node_eval 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')"
CHALLENGE="$(node_eval 'process.stdout.write(require("crypto").createHash("sha256").update(process.argv[1]).digest("base64url"))' "$VERIFIER")"
STATE="st-$RANDOM$RANDOM"
NONCE="n-$RANDOM$RANDOM"
SCOPE="openid profile email groups"

auth_url() { # client_id redirect_uri [extra query]
  printf '%s?client_id=%s&redirect_uri=%s&response_type=code&scope=%s&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256%s' \
    "$AUTH_ENDPOINT" "$(urlencode "$1")" "$(urlencode "$2")" "$(urlencode "$SCOPE")" "$STATE" "$NONCE" "$CHALLENGE" "${3:-}"
}

# PKCE is required
http GET "$AUTH_ENDPOINT?client_id=$(urlencode "$CLIENT_ID")&redirect_uri=$(urlencode "$CB")&response_type=code&scope=openid&state=x"
[[ "$STATUS" == 303 && "$LOCATION" == "$CB"* ]] || fail "no-PKCE request: $STATUS $LOCATION"
[[ "$(query_param "$LOCATION" error)" == invalid_request ]] || fail "no-PKCE error: $LOCATION"
pass "authorization without PKCE is refused (invalid_request)"

http GET "$(auth_url "$CLIENT_ID" "$CB")"
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/interaction/"* ]] || fail "authorize: $STATUS $LOCATION"
INTERACTION="$LOCATION"
http GET "$(abs "$INTERACTION")"
[[ "$STATUS" == 200 ]] || fail "login page status $STATUS"
grep -q 'id="login"' "$WORK/body" || fail "login field"
grep -q 'id="password"' "$WORK/body" || fail "password field"
grep -q 'id="sign-in"' "$WORK/body" || fail "sign-in button"
grep -q '<label for="login">' "$WORK/body" || fail "login label"
pass "login page (login, password, sign-in)"

http POST "$(abs "$INTERACTION")" --data-urlencode login=alice --data-urlencode password=wrong
[[ "$STATUS" == 401 ]] || fail "wrong password status $STATUS"
grep -q 'Wrong username or password' "$WORK/body" || fail "wrong password message"
grep -q 'id="login"' "$WORK/body" || fail "form not re-rendered"
pass "wrong password re-renders the form with an error"

http POST "$(abs "$INTERACTION")" --data-urlencode login=alice --data-urlencode password=demo
[[ "$STATUS" == 303 ]] || fail "login status $STATUS: $(head -c 300 "$WORK/body")"
follow_until "$CB"
[[ "$LOCATION" == "$CB"* ]] || fail "did not reach the redirect URI: $STATUS $LOCATION $(head -c 300 "$WORK/body")"
CODE="$(query_param "$LOCATION" code)"
[[ -n "$CODE" ]] || fail "no code in $LOCATION"
[[ "$(query_param "$LOCATION" state)" == "$STATE" ]] || fail "state"
[[ "$(query_param "$LOCATION" iss)" == "$ISSUER" ]] || fail "iss parameter"
pass "login + automatic consent redirect with code, state and iss"

http POST "$TOKEN_ENDPOINT" -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=authorization_code \
  --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$CB" --data-urlencode "code_verifier=wrong-verifier-wrong-verifier-wrong-verifier"
[[ "$STATUS" == 400 ]] || fail "wrong code_verifier status $STATUS"
pass "token request with a wrong code_verifier is refused"

# A failed PKCE check does not consume the code (oidc-provider 9.13): the right verifier works.
http POST "$TOKEN_ENDPOINT" -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=authorization_code \
  --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$CB" --data-urlencode "code_verifier=$VERIFIER"
[[ "$STATUS" == 200 ]] || fail "code exchange: $STATUS $(cat "$WORK/body")"
cp "$WORK/body" "$WORK/tokens.json"
ID_TOKEN="$(json_get "$WORK/tokens.json" 'j.id_token')"
USER_AT="$(json_get "$WORK/tokens.json" 'j.access_token')"
jwt_part "$ID_TOKEN" 1 >"$WORK/id.json"
jwt_verify "$ID_TOKEN" "$WORK/jwks.json" || fail "id token signature"
[[ "$(json_get "$WORK/id.json" 'j.sub')" == alice ]] || fail "sub"
[[ "$(json_get "$WORK/id.json" 'j.aud')" == "$CLIENT_ID" ]] || fail "aud"
[[ "$(json_get "$WORK/id.json" 'j.nonce')" == "$NONCE" ]] || fail "nonce"
[[ "$(json_get "$WORK/id.json" 'j.groups')" == '["team-payments"]' ]] || fail "groups in id token: $(cat "$WORK/id.json")"
[[ "$(json_get "$WORK/id.json" 'j.email')" == alice@example.test ]] || fail "email"
[[ "$(json_get "$WORK/id.json" 'j.name')" == "Alice Payments" ]] || fail "name"
[[ "$(json_get "$WORK/id.json" 'j.preferred_username')" == alice ]] || fail "preferred_username"
pass "token response: signed ID token with sub, nonce, name, email, groups"

http GET "$USERINFO_ENDPOINT" -H "Authorization: Bearer $USER_AT"
[[ "$STATUS" == 200 ]] || fail "userinfo $STATUS $(cat "$WORK/body")"
[[ "$(json_get "$WORK/body" 'j.groups')" == '["team-payments"]' ]] || fail "userinfo groups"
pass "userinfo with the access token"

# Single sign-on: the provider session is remembered, no login form this time.
http GET "$(auth_url "$CLIENT_ID" "$CB")"
follow_until "$CB"
[[ "$LOCATION" == "$CB"* && -n "$(query_param "$LOCATION" code)" ]] || fail "SSO: $STATUS $LOCATION"
pass "second authorization signs in without the form (provider session)"

# Logout (RP-initiated), no confirmation page
http GET "$END_SESSION_ENDPOINT?id_token_hint=$ID_TOKEN&post_logout_redirect_uri=$(urlencode "$POST_LOGOUT")&state=bye"
[[ "$STATUS" == 303 ]] || fail "end_session status $STATUS $(head -c 300 "$WORK/body")"
[[ "$LOCATION" == "$POST_LOGOUT?state=bye" ]] || fail "end_session redirect: $LOCATION"
http GET "$USERINFO_ENDPOINT" -H "Authorization: Bearer $USER_AT"
[[ "$STATUS" == 401 ]] || fail "access token still valid after logout: $STATUS"
http GET "$(auth_url "$CLIENT_ID" "$CB")"
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/interaction/"* ]] || fail "after logout: $STATUS $LOCATION"
http GET "$(abs "$LOCATION")"
[[ "$STATUS" == 200 ]] || fail "after logout: login page status $STATUS"
grep -q 'id="sign-in"' "$WORK/body" || fail "after logout the login form should show"
pass "end_session logs out at once (tokens revoked) and redirects to post_logout_redirect_uri with state"

http GET "$END_SESSION_ENDPOINT?client_id=$(urlencode "$CLIENT_ID")&post_logout_redirect_uri=$(urlencode "$POST_LOGOUT")&state=again"
[[ "$STATUS" == 303 && "$LOCATION" == "$POST_LOGOUT?state=again" ]] || fail "end_session without session: $STATUS $LOCATION"
http GET "$END_SESSION_ENDPOINT"
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/session/end/success" ]] || fail "end_session without anything: $STATUS $LOCATION"
http GET "$(abs "$LOCATION")"
[[ "$STATUS" == 200 ]] || fail "signed-out page status $STATUS"
grep -q 'Signed out' "$WORK/body" || fail "signed-out page"
pass "end_session without a provider session redirects too (post_logout_redirect_uri or signed-out page)"

# Static web client `demarc` and the user without groups
rm -f "$JAR"
http GET "$(auth_url demarc http://127.0.0.1:3000/auth/callback)"
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/interaction/"* ]] || fail "demarc authorize: $STATUS $LOCATION $(head -c 300 "$WORK/body")"
INTERACTION="$LOCATION"
http POST "$(abs "$INTERACTION")" --data-urlencode login=nobody --data-urlencode password=demo
follow_until "http://127.0.0.1:3000/auth/callback"
CODE="$(query_param "$LOCATION" code)"
[[ -n "$CODE" ]] || fail "demarc: no code ($LOCATION)"
http POST "$TOKEN_ENDPOINT" -u demarc:demarc-dev-secret -d grant_type=authorization_code \
  --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=http://127.0.0.1:3000/auth/callback" --data-urlencode "code_verifier=$VERIFIER"
[[ "$STATUS" == 200 ]] || fail "demarc code exchange: $STATUS $(cat "$WORK/body")"
jwt_part "$(json_get "$WORK/body" 'j.id_token')" 1 >"$WORK/id2.json"
[[ "$(json_get "$WORK/id2.json" 'j.groups')" == '[]' ]] || fail "nobody groups: $(cat "$WORK/id2.json")"
[[ "$(json_get "$WORK/id2.json" 'j.sub')" == nobody ]] || fail "nobody sub"
pass "static client demarc: user nobody gets an empty groups array"

http POST "$TOKEN_ENDPOINT" -u demarc:wrong -d grant_type=authorization_code -d code=x -d code_verifier=x
[[ "$STATUS" == 401 ]] || fail "demarc wrong secret: $STATUS"
pass "static client demarc: wrong secret is rejected"

# A user's JWT access token for the API: resource indicator at authorization and token requests.
rm -f "$JAR"
SCOPE="openid groups demarc:read"
http GET "$(auth_url demarc http://127.0.0.1:3000/auth/callback "&resource=$(urlencode urn:demarc:api)")"
[[ "$STATUS" == 303 && "$LOCATION" == "$ISSUER/interaction/"* ]] || fail "resource authorize: $STATUS $LOCATION"
http POST "$(abs "$LOCATION")" --data-urlencode login=pat --data-urlencode password=demo
follow_until "http://127.0.0.1:3000/auth/callback"
CODE="$(query_param "$LOCATION" code)"
[[ -n "$CODE" ]] || fail "resource flow: no code ($LOCATION)"
http POST "$TOKEN_ENDPOINT" -u demarc:demarc-dev-secret -d grant_type=authorization_code \
  --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=http://127.0.0.1:3000/auth/callback" \
  --data-urlencode "code_verifier=$VERIFIER" --data-urlencode "resource=urn:demarc:api"
[[ "$STATUS" == 200 ]] || fail "resource code exchange: $STATUS $(cat "$WORK/body")"
jwt_part "$(json_get "$WORK/body" 'j.access_token')" 1 >"$WORK/at4.json"
[[ "$(json_get "$WORK/at4.json" 'j.aud')" == demarc-api ]] || fail "user API token aud: $(cat "$WORK/at4.json")"
[[ "$(json_get "$WORK/at4.json" 'j.sub')" == pat ]] || fail "user API token sub"
[[ "$(json_get "$WORK/at4.json" 'j.groups')" == '["platform-engineers"]' ]] || fail "user API token groups"
[[ "$(json_get "$WORK/at4.json" 'j.scope')" == demarc:read ]] || fail "user API token scope"
pass "user login with resource=urn:demarc:api gets a JWT access token (aud demarc-api, groups)"

stop_provider
pass "SIGTERM stops the provider with status 0"

# Restart with the same key file: same key.
start_provider OIDC_KEY_FILE="$KEY_FILE" OIDC_QUIET=1
http GET "$ISSUER/jwks"
cp "$WORK/body" "$WORK/jwks2.json"
[[ "$(json_get "$WORK/jwks2.json" 'j.keys[0].kid')" == "$KID" ]] || fail "key changed across restart"
stop_provider
pass "restart with OIDC_KEY_FILE keeps the signing key"

# OIDC_EXIT_ON_STDIN_EOF=1: exits when stdin closes.
START=$SECONDS
rc=0
sleep 2 | OIDC_PORT=0 OIDC_EXIT_ON_STDIN_EOF=1 OIDC_QUIET=1 timeout 60 node provider.mjs >"$WORK/eof.out" 2>&1 || rc=$?
[[ "$rc" == 0 ]] || fail "stdin EOF exit status $rc (124 = did not exit)"
grep -q '^oidc-provider ready at ' "$WORK/eof.out" || fail "no ready line before stdin EOF"
pass "OIDC_EXIT_ON_STDIN_EOF=1 exits 0 when stdin closes ($((SECONDS - START)) s)"

echo "selftest: $CHECKS passed, 0 failed"
