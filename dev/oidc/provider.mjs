// Demarc development OpenID provider (oidc-provider ~9.13). NOT FOR PRODUCTION.
//
// A real OpenID Connect provider for local development and the integration tests:
// discovery, JWKS, authorization code + PKCE (S256, required), client credentials with JWT
// access tokens for the Demarc API, dynamic client registration, RP-initiated logout, and a
// small login form with fixed demo users (password "demo").
//
// Configured entirely by environment variables (see README.md beside this file):
//   OIDC_HOST (127.0.0.1), OIDC_PORT (5556), OIDC_ISSUER (http://127.0.0.1:${OIDC_PORT}),
//   OIDC_KEY_FILE, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS, OIDC_POST_LOGOUT_URIS,
//   OIDC_AUTOMATION_SECRET, OIDC_AUTOMATION_GROUPS, OIDC_API_AUDIENCE, OIDC_API_RESOURCE,
//   OIDC_TOKEN_TTL, OIDC_EXIT_ON_STDIN_EOF, OIDC_QUIET.
//
// stdout carries exactly one line, `oidc-provider ready at <issuer>`, once it listens;
// everything else (demo users, logs, warnings) goes to stderr.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

// oidc-provider prints notices with console.info (stdout) and a Node-version warning at import
// time: route console.info/console.log to stderr so stdout only carries the ready line.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

function env(name, fallback) {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

function list(value) {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function positiveInt(name, fallback) {
  const raw = env(name, String(fallback));
  const value = Number.parseInt(raw, 10);
  if (!Number.isSafeInteger(value) || value <= 0 || String(value) !== raw.trim()) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const HOST = env('OIDC_HOST', '127.0.0.1');
const PORT = Number.parseInt(env('OIDC_PORT', '5556'), 10);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  throw new Error(`OIDC_PORT must be a port number, got ${JSON.stringify(process.env.OIDC_PORT)}`);
}
// OIDC_PORT=0 picks a free port; the issuer then defaults to the port actually bound.
let ISSUER = process.env.OIDC_ISSUER ? process.env.OIDC_ISSUER.replace(/\/+$/, '') : undefined;
const KEY_FILE = env('OIDC_KEY_FILE', undefined);
const TOKEN_TTL = positiveInt('OIDC_TOKEN_TTL', 3600);

const WEB_CLIENT_ID = 'demarc';
const WEB_CLIENT_SECRET = env('OIDC_CLIENT_SECRET', 'demarc-dev-secret');
const REDIRECT_URIS = list(env('OIDC_REDIRECT_URIS', 'http://127.0.0.1:3000/auth/callback'));
const POST_LOGOUT_URIS = list(env('OIDC_POST_LOGOUT_URIS', 'http://127.0.0.1:3000/'));

const AUTOMATION_CLIENT_ID = 'demarc-automation';
const AUTOMATION_SECRET = env('OIDC_AUTOMATION_SECRET', 'demarc-automation-secret');
const AUTOMATION_GROUPS = list(env('OIDC_AUTOMATION_GROUPS', 'platform-engineers'));

// The `aud` of JWT access tokens for the Demarc API. oidc-provider requires a resource
// indicator (RFC 8707) to be an absolute URI, so the indicator clients may send as `resource`
// is OIDC_API_RESOURCE (default urn:demarc:api) while the token's `aud` is OIDC_API_AUDIENCE.
// Sending `resource=<audience>` is accepted too when the audience itself is an absolute URI.
const API_AUDIENCE = env('OIDC_API_AUDIENCE', 'demarc-api');
const API_RESOURCE = env('OIDC_API_RESOURCE', URL.canParse(API_AUDIENCE) ? API_AUDIENCE : `urn:demarc:api`);
const API_SCOPE = 'demarc:read demarc:write';

const QUIET = env('OIDC_QUIET', '0') === '1';

// ---------------------------------------------------------------------------------------------
// Demo users (password "demo" for all)
// ---------------------------------------------------------------------------------------------

const DEMO_PASSWORD = 'demo';

const USERS = [
  { login: 'admin', name: 'Ada Admin', role: 'Demarc administrator', groups: ['demarc-admins'] },
  { login: 'pat', name: 'Pat Platform', role: 'platform engineer', groups: ['platform-engineers'] },
  { login: 'alice', name: 'Alice Payments', role: 'team payments', groups: ['team-payments'] },
  { login: 'bob', name: 'Bob Search', role: 'team search', groups: ['team-search'] },
  { login: 'audrey', name: 'Audrey Auditor', role: 'auditor', groups: ['auditors'] },
  { login: 'nobody', name: 'Nobody Noaccess', role: 'no groups (no access)', groups: [] },
].map((user) => ({ ...user, email: `${user.login}@example.test` }));

const USERS_BY_LOGIN = new Map(USERS.map((user) => [user.login, user]));

function findUser(login) {
  return USERS_BY_LOGIN.get(String(login ?? '').trim().toLowerCase());
}

// Account model for oidc-provider: `sub` is the login name (stable across restarts).
async function findAccount(_ctx, sub) {
  const user = USERS_BY_LOGIN.get(sub);
  if (!user) return undefined;
  return {
    accountId: user.login,
    async claims() {
      const [givenName, ...rest] = user.name.split(' ');
      return {
        sub: user.login,
        name: user.name,
        given_name: givenName,
        family_name: rest.join(' ') || undefined,
        preferred_username: user.login,
        email: user.email,
        email_verified: true,
        groups: [...user.groups],
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Signing key (RS256)
// ---------------------------------------------------------------------------------------------

function generateJwks() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint as key id.
  const thumbprint = crypto
    .createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { keys: [{ ...jwk, kid: thumbprint, alg: 'RS256', use: 'sig' }] };
}

function loadOrCreateJwks() {
  if (!KEY_FILE) {
    log('OIDC_KEY_FILE not set: using an ephemeral signing key');
    return generateJwks();
  }
  if (fs.existsSync(KEY_FILE)) {
    const jwks = JSON.parse(fs.readFileSync(KEY_FILE, 'utf8'));
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      throw new Error(`${KEY_FILE} holds no JWKS ({"keys": [...]})`);
    }
    log(`signing keys loaded from ${KEY_FILE}`);
    return jwks;
  }
  const jwks = generateJwks();
  fs.mkdirSync(path.dirname(path.resolve(KEY_FILE)), { recursive: true, mode: 0o700 });
  const tmp = `${KEY_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, KEY_FILE);
  log(`new signing key written to ${KEY_FILE}`);
  return jwks;
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

function esc(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
    font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f4f7;color:#1d2530}
  main{width:100%;max-width:380px;margin:24px;padding:28px 32px;background:#fff;border-radius:10px;
    box-shadow:0 1px 3px rgba(16,24,40,.12),0 8px 24px rgba(16,24,40,.06)}
  h1{font-size:1.35rem;margin:0 0 4px}
  .sub{margin:0 0 20px;color:#5b6573;font-size:.9rem}
  label{display:block;font-weight:600;font-size:.9rem;margin:14px 0 4px}
  input{width:100%;padding:9px 11px;border:1px solid #c4cad3;border-radius:6px;font:inherit}
  input:focus{outline:2px solid #2f6fed;outline-offset:0;border-color:#2f6fed}
  button{margin-top:20px;width:100%;padding:10px;border:0;border-radius:6px;background:#2f6fed;
    color:#fff;font:inherit;font-weight:600;cursor:pointer}
  button:hover{background:#2259c9}
  .error{margin:0 0 12px;padding:9px 11px;border-radius:6px;background:#fdecec;color:#9b1c1c;font-size:.9rem}
  details{margin-top:22px;font-size:.85rem;color:#5b6573}
  table{border-collapse:collapse;margin-top:6px;width:100%}
  td{padding:2px 6px 2px 0}
  code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage({ uid, clientName, login = '', error }) {
  const users = USERS.map(
    (u) => `<tr><td><code>${esc(u.login)}</code></td><td>${esc(u.role)}</td></tr>`,
  ).join('');
  return page(
    'Sign in - Demarc development identity provider',
    `<h1>Sign in</h1>
<p class="sub">Development identity provider${clientName ? ` for <strong>${esc(clientName)}</strong>` : ''}</p>
${error ? `<p class="error" id="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}" autocomplete="off">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" value="${esc(login)}" required ${login ? '' : 'autofocus'}
    autocapitalize="none" spellcheck="false">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required ${login ? 'autofocus' : ''}>
  <button id="sign-in" type="submit">Sign in</button>
</form>
<details>
  <summary>Demo users (password <code>${esc(DEMO_PASSWORD)}</code>)</summary>
  <table>${users}</table>
</details>`,
  );
}

function messagePage(title, message) {
  return page(title, `<h1>${esc(title)}</h1><p class="sub">${esc(message)}</p>`);
}

// ---------------------------------------------------------------------------------------------
// Provider configuration
// ---------------------------------------------------------------------------------------------

const jwks = loadOrCreateJwks();
const ttl = () => TOKEN_TTL;

const configuration = {
  jwks,
  findAccount,

  clients: [
    {
      client_id: WEB_CLIENT_ID,
      client_secret: WEB_CLIENT_SECRET,
      client_name: 'Demarc',
      redirect_uris: REDIRECT_URIS,
      post_logout_redirect_uris: POST_LOGOUT_URIS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: AUTOMATION_CLIENT_ID,
      client_secret: AUTOMATION_SECRET,
      client_name: 'Demarc automation',
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: API_SCOPE,
      groups: AUTOMATION_GROUPS,
    },
  ],

  // Custom client metadata: `groups` for client-credentials clients (static or registered by a
  // test), copied into their JWT access tokens.
  extraClientMetadata: {
    properties: ['groups'],
    validator(_ctx, key, value) {
      if (key !== 'groups' || value === undefined) return;
      if (!Array.isArray(value) || !value.every((g) => typeof g === 'string' && g.length > 0)) {
        throw new errors.InvalidClientMetadata('groups must be an array of non-empty strings');
      }
    },
  },

  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', ...API_SCOPE.split(' ')],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Put the scope-requested claims in the ID token too (the app reads groups from it).
  conformIdTokenClaims: false,

  pkce: {
    required: () => true,
  },

  cookies: {
    names: {
      session: 'op_session',
      interaction: 'op_interaction',
      resume: 'op_interaction_resume',
    },
    keys: [crypto.randomBytes(32).toString('base64url')],
  },

  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: {
      enabled: true,
      initialAccessToken: false,
    },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: logoutWithoutConfirmation,
      postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = messagePage('Signed out', 'You are signed out of the development identity provider.');
      },
    },
    resourceIndicators: {
      enabled: true,
      // Client credentials tokens are for the Demarc API unless another resource is asked for;
      // user logins (authorization code) keep opaque access tokens for the userinfo endpoint.
      async defaultResource(ctx, _client, oneOf) {
        if (oneOf) return oneOf;
        if (ctx.oidc.params?.grant_type === 'client_credentials') {
          // No scope asked for: grant every API scope the client is allowed.
          if (!ctx.oidc.params.scope) {
            ctx.oidc.params.scope = ctx.oidc.client?.scope || API_SCOPE;
          }
          return API_RESOURCE;
        }
        return undefined;
      },
      async useGrantedResource() {
        return false;
      },
      async getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator === API_RESOURCE || resourceIndicator === API_AUDIENCE) {
          return {
            scope: API_SCOPE,
            audience: API_AUDIENCE,
            accessTokenTTL: TOKEN_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
      },
    },
  },

  // Extra claims in (JWT) access tokens: the user's groups, or the client's `groups` metadata
  // for client credentials tokens.
  async extraTokenClaims(_ctx, token) {
    if (token.accountId) {
      const user = USERS_BY_LOGIN.get(token.accountId);
      return user ? { groups: [...user.groups] } : undefined;
    }
    const groups = token.client?.groups ?? token.client?.metadata?.().groups;
    return Array.isArray(groups) ? { groups: [...groups] } : undefined;
  },

  ttl: {
    AccessToken: ttl,
    ClientCredentials: ttl,
    IdToken: ttl,
    // Library defaults, spelled out so it does not warn about them.
    AuthorizationCode: 60,
    Interaction: 60 * 60,
    Session: 14 * 24 * 60 * 60,
    Grant: 14 * 24 * 60 * 60,
    RefreshToken: 14 * 24 * 60 * 60,
  },

  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },

  async renderError(ctx, out) {
    ctx.type = 'html';
    const details = Object.entries(out)
      .map(([key, value]) => `<p class="sub"><strong>${esc(key)}</strong>: ${esc(value)}</p>`)
      .join('');
    ctx.body = page('Sign-in error', `<h1>Something went wrong</h1>${details}`);
  },
};

// RP-initiated logout without a confirmation page: the end_session endpoint ends the provider
// session right away (as if the user had pressed "Yes, sign me out") and redirects (303) to the
// validated post_logout_redirect_uri (with `state`), or to the "Signed out" page. This mirrors
// what oidc-provider's own confirm step does (lib/actions/end_session.js) with logout=yes; it
// gives up the CSRF check of that step, which is fine for a development-only provider.
async function logoutWithoutConfirmation(ctx) {
  const { session } = ctx.oidc;
  const { state } = session;
  const provider = ctx.oidc.provider;

  if (session.authorizations) {
    await Promise.all(
      Object.entries(session.authorizations).map(async ([clientId, { grantId } = {}]) => {
        if (!grantId || session.authorizationFor(clientId).persistsLogout) return;
        await Promise.all([
          provider.AccessToken.revokeByGrantId(grantId),
          provider.RefreshToken.revokeByGrantId(grantId),
          provider.AuthorizationCode.revokeByGrantId(grantId),
          provider.Grant.adapter.destroy(grantId),
        ]);
      }),
    );
  }

  const target = state.postLogoutRedirectUri
    ? withQuery(state.postLogoutRedirectUri, state.state != null ? { state: state.state } : {})
    : ctx.oidc.urlFor('end_session_success');

  await session.destroy();
  ctx.cookies.set(provider.cookieName('session'), null, configuration.cookies.long);

  provider.emit('end_session.success', ctx);
  ctx.body = null;
  ctx.status = 303;
  ctx.redirect(target);
}

function withQuery(uri, params) {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.href;
}

let provider;
let providerCallback;

function createProvider() {
  provider = new Provider(ISSUER, configuration);
  provider.on('server_error', (_ctx, err) => log(`server_error: ${err?.stack || err}`));
  if (!QUIET) {
    for (const event of ['grant.error', 'authorization.error', 'end_session.error', 'registration_create.error', 'introspection.error']) {
      provider.on(event, (_ctx, err) => log(`${event}: ${err?.message}${err?.error_description ? ` (${err.error_description})` : ''}`));
    }
  }
  // end_session without a signed-in provider session: oidc-provider answers with a page that
  // auto-submits (JavaScript) to its confirm step; redirect straight away instead, so plain HTTP
  // clients end up at the post_logout_redirect_uri too.
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx;
    if (oidc?.route === 'end_session' && ctx.status === 200 && oidc.session && !oidc.session.accountId) {
      const state = oidc.session.state || {};
      const target = state.postLogoutRedirectUri
        ? withQuery(state.postLogoutRedirectUri, state.state != null ? { state: state.state } : {})
        : oidc.urlFor('end_session_success');
      ctx.body = null;
      ctx.status = 303;
      ctx.redirect(target);
    }
  });
  providerCallback = provider.callback();
}

// ---------------------------------------------------------------------------------------------
// Interactions: login form, then consent granted automatically
// ---------------------------------------------------------------------------------------------

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function grantConsent(details) {
  const {
    prompt: { details: missing },
    params,
    session: { accountId },
  } = details;
  let grant;
  if (details.grantId) {
    grant = await provider.Grant.find(details.grantId);
  }
  if (!grant) {
    grant = new provider.Grant({ accountId, clientId: params.client_id });
  }
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return details.grantId ? {} : { grantId };
}

async function handleInteraction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      send(res, 400, messagePage('Sign-in expired', 'This sign-in request has expired or was already used. Go back to the application and sign in again.'));
      return;
    }
    throw err;
  }
  if (details.uid !== uid) {
    send(res, 400, messagePage('Sign-in expired', 'This sign-in request does not match your browser session. Go back to the application and sign in again.'));
    return;
  }

  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName || details.params.client_id;
  const promptName = details.prompt.name;

  if (promptName === 'consent') {
    // Consent is implied: grant whatever was requested.
    const consent = await grantConsent(details);
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  if (promptName !== 'login') {
    send(res, 400, messagePage('Unsupported request', `Unsupported interaction prompt: ${promptName}`));
    return;
  }

  if (req.method === 'GET') {
    send(res, 200, loginPage({ uid, clientName, login: details.params.login_hint || '' }));
    return;
  }
  if (req.method !== 'POST') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, POST');
    res.end();
    return;
  }

  const form = await readForm(req);
  const login = form.get('login') ?? '';
  const password = form.get('password') ?? '';
  const user = findUser(login);
  if (!user || !crypto.timingSafeEqual(Buffer.from(sha256(password)), Buffer.from(sha256(DEMO_PASSWORD)))) {
    send(res, 401, loginPage({ uid, clientName, login, error: 'Wrong username or password.' }));
    return;
  }
  log(`login: ${user.login} for client ${details.params.client_id}`);
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.login, remember: false } },
    { mergeWithLastSubmission: false },
  );
}

function sha256(value) {
  return crypto.createHash('sha256').update(String(value)).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// HTTP server
// ---------------------------------------------------------------------------------------------

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/;

const server = http.createServer(async (req, res) => {
  if (!providerCallback) {
    res.statusCode = 503;
    res.end();
    return;
  }
  const { pathname } = new URL(req.url, 'http://localhost');
  const match = INTERACTION_PATH.exec(pathname);
  if (!match) {
    providerCallback(req, res);
    return;
  }
  try {
    await handleInteraction(req, res, match[1]);
  } catch (err) {
    log(`interaction error: ${err?.stack || err}`);
    if (!res.headersSent) {
      send(res, 500, messagePage('Sign-in error', 'The identity provider failed to handle this sign-in.'));
    } else {
      res.end();
    }
  }
});
server.keepAliveTimeout = 5_000;

function log(message) {
  if (!QUIET || message.startsWith('server_error') || message.startsWith('interaction error')) {
    process.stderr.write(`oidc-provider: ${message}\n`);
  }
}

let shuttingDown = false;
function shutdown(reason) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`stopping (${reason})`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

if (env('OIDC_EXIT_ON_STDIN_EOF', '0') === '1') {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.on('data', () => {});
  process.stdin.resume();
}

server.on('error', (err) => {
  process.stderr.write(`oidc-provider: cannot listen on ${HOST}:${PORT}: ${err.message}\n`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  ISSUER ??= `http://127.0.0.1:${port}`;
  createProvider();
  if (!QUIET) {
    const width = Math.max(...USERS.map((u) => u.login.length));
    const rows = USERS.map(
      (u) => `  ${u.login.padEnd(width)}  / ${DEMO_PASSWORD}  ${u.role} (groups: ${u.groups.join(', ') || 'none'})`,
    );
    process.stderr.write(
      [
        `oidc-provider: issuer ${ISSUER}, listening on http://${HOST}:${port}`,
        `oidc-provider: clients: ${WEB_CLIENT_ID} (authorization code + PKCE), ${AUTOMATION_CLIENT_ID} (client credentials, aud ${API_AUDIENCE})`,
        'oidc-provider: demo users (user / password  role):',
        ...rows,
        '',
      ].join('\n'),
    );
  }
  process.stdout.write(`oidc-provider ready at ${ISSUER}\n`);
});
