# shellcheck shell=bash
# Shared setup for scripts/run and scripts/test. Source it, do not run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Functions:
#   ensure_tools            Rust wasm target, cargo-leptos, wasm-bindgen-cli, PostgreSQL, npm deps
#   ensure_test_tools       chromium + chromedriver, kubectl
#   ensure_database NAME    private PostgreSQL cluster in .data/pg (or DATABASE_URL as given)
#   start_oidc_provider     development OpenID provider (unless DEMARC_OIDC_ISSUER is set)
#   ensure_secret_key       DEMARC_SECRET_KEY from the environment or .data/secret_key
#
# Everything started here is stopped again, in reverse order, when the calling script exits
# (EXIT, INT, TERM). Settings (environment variables):
#   DATABASE_URL            use this database instead of the private cluster
#   DEMARC_PG_PORT          private cluster port (default 54329, on 127.0.0.1 only)
#   DEMARC_PG_DATA          private cluster data folder (default .data/pg)
#   DEMARC_PG_FSYNC         "off" turns fsync off (default: off when CI is set, else on)
#   DEMARC_OIDC_ISSUER      use this OpenID provider instead of starting dev/oidc
#   OIDC_PORT               port of the development provider (default 5556)

# ------------------------------------------------------------------------------------------------
# Basics
# ------------------------------------------------------------------------------------------------

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$REPO/.data"

# Pinned tool versions (see shared/STACK.md).
CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_DEFAULT_VERSION="0.2.130"
NODE_MIN_MAJOR=20

if [[ -t 2 ]]; then
  _C_STEP=$'\033[1;34m' _C_WARN=$'\033[1;33m' _C_ERR=$'\033[1;31m' _C_OFF=$'\033[0m'
else
  _C_STEP="" _C_WARN="" _C_ERR="" _C_OFF=""
fi

log() { printf '%s==>%s %s\n' "$_C_STEP" "$_C_OFF" "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_C_WARN" "$_C_OFF" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_C_ERR" "$_C_OFF" "$*" >&2
  exit 1
}

# as_root CMD...: runs a command as root (sudo when needed).
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (install sudo or run as root)"
  fi
}

_APT_UPDATED=0
# apt_install PKG...: installs Debian packages (apt-get update once per script run).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
  if [[ "$_APT_UPDATED" -eq 0 ]]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ------------------------------------------------------------------------------------------------
# Cleanup stack: push_cleanup CMD... registers a command; all run in reverse order on exit.
# ------------------------------------------------------------------------------------------------

_CLEANUP=()
EXIT_STATUS=0 # the exit status of the script, for cleanup functions

push_cleanup() {
  local quoted
  printf -v quoted '%q ' "$@"
  _CLEANUP+=("$quoted")
}

run_cleanups() {
  local i
  for ((i = ${#_CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${_CLEANUP[i]}" || true
  done
  _CLEANUP=()
}

_on_exit() {
  local rc=$?
  EXIT_STATUS=$rc
  run_cleanups
  exit "$rc"
}

_on_signal() {
  local sig="$1" code="$2"
  trap - INT TERM
  # shellcheck disable=SC2034 # read by cleanup functions of the calling scripts
  EXIT_STATUS=$code
  printf '\n' >&2
  log "caught SIG$sig: stopping"
  run_cleanups
  exit "$code"
}

trap _on_exit EXIT
trap '_on_signal INT 130' INT
trap '_on_signal TERM 143' TERM

# ------------------------------------------------------------------------------------------------
# Tools
# ------------------------------------------------------------------------------------------------

_ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
    # shellcheck source=/dev/null
    source "$HOME/.cargo/env"
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup (https://rustup.rs)"
  command -v rustup >/dev/null 2>&1 || die "rustup not found: install Rust with rustup"
}

# The wasm-bindgen version in Cargo.lock (the CLI must be exactly the same).
wasm_bindgen_version() {
  local version=""
  if [[ -f "$REPO/Cargo.lock" ]]; then
    version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$REPO/Cargo.lock")"
  fi
  printf '%s' "${version:-$WASM_BINDGEN_DEFAULT_VERSION}"
}

# The newest PostgreSQL server binaries folder, or nothing.
pg_bindir() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] || continue
    if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$dir" | sort -V | tail -n 1)" == "$dir" ]]; then
      best="$dir"
    fi
  done
  printf '%s' "$best"
}

ensure_node() {
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js $NODE_MIN_MAJOR or newer"
  command -v npm >/dev/null 2>&1 || die "npm not found: install npm (Node.js $NODE_MIN_MAJOR or newer)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if ((major < NODE_MIN_MAJOR)); then
    die "Node.js $major is too old: need $NODE_MIN_MAJOR or newer"
  fi
}

# npm dependencies of the development OpenID provider (npm ci when missing or outdated).
# wasm-opt for release builds: npm binaryen 132 at the repository root (package.json), which
# cargo-leptos finds in node_modules/.bin (without it cargo-leptos would download one, which the
# machines without general network access cannot). Debian's binaryen produces a wasm that never
# hydrates.
ensure_wasm_opt() {
  ensure_node
  local stamp="$REPO/node_modules/.package-lock.json"
  if [[ ! -x "$REPO/node_modules/.bin/wasm-opt" || ! -f "$stamp" || "$REPO/package-lock.json" -nt "$stamp" ||
    "$REPO/package.json" -nt "$stamp" ]]; then
    log "npm ci at the repository root (wasm-opt from npm binaryen, for the release wasm)"
    (cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  note "wasm-opt: $("$REPO/node_modules/.bin/wasm-opt" --version)"
}

ensure_oidc_deps() {
  ensure_node
  local dir="$REPO/dev/oidc"
  local stamp="$dir/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$dir/package-lock.json" -nt "$stamp" || "$dir/package.json" -nt "$stamp" ]]; then
    log "npm ci in dev/oidc"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_tools() {
  log "checking tools"
  _ensure_cargo

  # Rust links with the system C compiler, and a few crates (ring, mimalloc) build C code.
  # cargo-leptos builds OpenSSL from source (through cargo-generate's vendored-openssl), which
  # needs make and Perl with its core modules (IPC::Cmd is not in perl-base).
  local missing=()
  command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  command -v make >/dev/null 2>&1 || missing+=(make)
  perl -MIPC::Cmd -e1 >/dev/null 2>&1 || missing+=(perl)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
  fi

  if ! rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi

  if ! cargo leptos --version 2>/dev/null | grep -qF "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; 20 to 40 minutes on 2 cores)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi

  local wbg
  wbg="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -qF "wasm-bindgen $wbg"; then
    # No --locked: its lock file wants a webpki-roots version the registry lacks.
    log "installing wasm-bindgen-cli $wbg (once; about 2 minutes)"
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi

  if [[ -z "$(pg_bindir)" ]]; then
    log "installing PostgreSQL server binaries"
    apt_install postgresql
    [[ -n "$(pg_bindir)" ]] || die "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin after install"
  fi

  ensure_oidc_deps
  note "cargo-leptos $CARGO_LEPTOS_VERSION, wasm-bindgen $wbg, PostgreSQL $(basename "$(dirname "$(pg_bindir)")"), node $(node --version)"
}

ensure_test_tools() {
  _ensure_cargo
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    log "rustup component add rustfmt clippy"
    rustup component add rustfmt clippy
  fi

  local missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  [[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
  # kubectl lists from the Kubernetes API test server in the tests (that proves the API's shape).
  # Debian's kubernetes-client is old (1.20) but speaks the same list API; any kubectl will do.
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} for the browser tests"
    apt_install "${missing[@]}"
  fi

  # A real SMTP server on loopback receives the maintenance notices in the tests.
  # Debian ships it as a package; pip is the fallback where the package is missing, or where
  # the python3 on the PATH is not Debian's (pyenv, a virtualenv) and so does not see it.
  if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    apt_install python3 python3-aiosmtpd 2>/dev/null || true
    if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
      python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
      log "pip install aiosmtpd (the SMTP server of the e-mail tests)"
      python3 -m pip install --quiet --disable-pip-version-check aiosmtpd 2>/dev/null ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages aiosmtpd
    fi
  fi
}

# ------------------------------------------------------------------------------------------------
# PostgreSQL: private development cluster
# ------------------------------------------------------------------------------------------------

PG_USER=""
PG_BIN=""

# _pg_as_owner CMD...: runs a command as the cluster owner (initdb/pg_ctl refuse to run as root).
_pg_as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

# Picks the operating-system user that owns the cluster: the current user, or when root the
# `postgres` system user (created by the postgresql package), else a `demarc` system user.
_pg_pick_user() {
  if [[ "$(id -u)" -ne 0 ]]; then
    PG_USER="$(id -un)"
  elif id -u postgres >/dev/null 2>&1; then
    PG_USER=postgres
  else
    if ! id -u demarc >/dev/null 2>&1; then
      log "creating system user 'demarc' to own the development database (initdb refuses root)"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin demarc
    fi
    PG_USER=demarc
  fi
}

# Makes every folder from $1 up to / traversable by $PG_USER (chmod o+x where needed).
_pg_make_traversable() {
  local dir="$1"
  [[ "$(id -u)" -eq 0 ]] || return 0
  while [[ "$dir" != "/" && -n "$dir" ]]; do
    if ! runuser -u "$PG_USER" -- test -x "$dir" 2>/dev/null; then
      chmod o+x "$dir"
      warn "made $dir traversable (chmod o+x) so that user '$PG_USER' can reach the database folder"
    fi
    dir="$(dirname "$dir")"
  done
}

# Port of the running cluster in $1 (from postmaster.pid), or nothing.
_pg_running_port() {
  local pgdata="$1"
  [[ -f "$pgdata/postmaster.pid" ]] || return 0
  sed -n '4p' "$pgdata/postmaster.pid" 2>/dev/null || true
}

ensure_database() {
  local name="${1:?ensure_database needs a database name}"

  if [[ -n "${DATABASE_URL:-}" ]]; then
    log "database: using DATABASE_URL from the environment"
    return 0
  fi
  [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "invalid database name: $name"

  PG_BIN="$(pg_bindir)"
  [[ -n "$PG_BIN" ]] || die "PostgreSQL server binaries not found (run ensure_tools or apt-get install postgresql)"
  _pg_pick_user

  local port="${DEMARC_PG_PORT:-54329}"
  local pgdata="${DEMARC_PG_DATA:-$DATA_DIR/pg}"
  local rundir="$pgdata-run" # socket folder and server log
  local sockdir="$rundir"

  mkdir -p "$(dirname "$pgdata")"
  pgdata="$(cd "$(dirname "$pgdata")" && pwd)/$(basename "$pgdata")"
  rundir="$pgdata-run"
  sockdir="$rundir"
  # Unix socket paths are limited to about 107 bytes: fall back to a short folder.
  if ((${#sockdir} > 80)); then
    sockdir="/tmp/demarc-pg-$(id -u "$PG_USER")-$port"
  fi

  mkdir -p "$pgdata" "$rundir" "$sockdir"
  chmod 700 "$pgdata"
  if [[ "$(id -u)" -eq 0 ]]; then
    if [[ "$(stat -c %U "$pgdata")" != "$PG_USER" ]]; then
      chown -R "$PG_USER:" "$pgdata"
    fi
    chown "$PG_USER:" "$rundir" "$sockdir"
    _pg_make_traversable "$(dirname "$pgdata")"
  fi

  if [[ ! -f "$pgdata/PG_VERSION" ]]; then
    log "database: creating a private PostgreSQL cluster in ${pgdata#"$REPO"/} (owner $PG_USER)"
    _pg_as_owner "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$rundir/initdb.log" 2>&1 ||
      { cat "$rundir/initdb.log" >&2; die "initdb failed"; }
  fi

  local running_port
  if _pg_as_owner "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    running_port="$(_pg_running_port "$pgdata")"
    if [[ -n "$running_port" && "$running_port" != "$port" ]]; then
      warn "the cluster in $pgdata already runs on port $running_port (not $port): using it"
      port="$running_port"
    fi
    log "database: reusing the PostgreSQL cluster already running on 127.0.0.1:$port (left running)"
  else
    local fsync="${DEMARC_PG_FSYNC:-}"
    if [[ -z "$fsync" ]]; then
      if [[ -n "${CI:-}" ]]; then fsync=off; else fsync=on; fi
    fi
    log "database: starting PostgreSQL on 127.0.0.1:$port (log: ${rundir#"$REPO"/}/postgres.log)"
    if ! _pg_as_owner "$PG_BIN/pg_ctl" -D "$pgdata" -l "$rundir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $sockdir -c max_connections=200 -c fsync=$fsync -c synchronous_commit=off" \
      start >/dev/null; then
      tail -n 20 "$rundir/postgres.log" >&2 || true
      die "PostgreSQL did not start (is port $port taken? set DEMARC_PG_PORT)"
    fi
    push_cleanup _pg_stop "$pgdata"
  fi

  local psql=("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres)
  if [[ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]]; then
    log "database: creating database $name"
    "${psql[@]}" -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null
  fi

  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$name"
  note "DATABASE_URL=$DATABASE_URL"
}

_pg_stop() {
  local pgdata="$1"
  log "database: stopping PostgreSQL"
  _pg_as_owner "$PG_BIN/pg_ctl" -D "$pgdata" stop -m fast -w >/dev/null 2>&1 ||
    warn "pg_ctl stop failed (data folder $pgdata)"
}

# ------------------------------------------------------------------------------------------------
# Development OpenID provider
# ------------------------------------------------------------------------------------------------

OIDC_PID=""

print_demo_logins() {
  cat >&2 <<'EOF'
    Demo logins (password "demo" for all):
      user     role                    groups
      admin    Demarc administrator    demarc-admins
      pat      platform engineer       platform-engineers
      alice    team payments           team-payments
      bob      team search             team-search
      audrey   auditor                 auditors
      nobody   no access               (none)
    alice and bob see "No access" until their team exists in Demarc: start with --demo-data,
    or sign in as admin or pat and create the teams payments and search.
EOF
}

start_oidc_provider() {
  if [[ -n "${DEMARC_OIDC_ISSUER:-}" ]]; then
    log "OpenID provider: using DEMARC_OIDC_ISSUER=$DEMARC_OIDC_ISSUER"
    return 0
  fi
  ensure_oidc_deps

  local port="${OIDC_PORT:-5556}"
  local issuer="http://127.0.0.1:$port"
  local public_url="${DEMARC_PUBLIC_URL:-http://127.0.0.1:3000}"
  public_url="${public_url%/}"
  local dir="$DATA_DIR/oidc"
  mkdir -p "$dir"
  chmod 700 "$dir"

  # A provider left over from an earlier run (killed without cleanup) holds the port: reuse it.
  if curl -fsS --max-time 2 "$issuer/.well-known/openid-configuration" 2>/dev/null |
    grep -qE "\"issuer\": ?\"$issuer\""; then
    warn "an OpenID provider already answers at $issuer: reusing it (it is not stopped on exit)"
  else
    log "OpenID provider: starting dev/oidc on $issuer (log: ${dir#"$REPO"/}/provider.log)"
    : >"$dir/provider.out"
    OIDC_PORT="$port" OIDC_HOST=127.0.0.1 OIDC_ISSUER="$issuer" \
      OIDC_KEY_FILE="$dir/jwks.json" \
      OIDC_REDIRECT_URIS="${OIDC_REDIRECT_URIS:-$public_url/auth/callback}" \
      OIDC_POST_LOGOUT_URIS="${OIDC_POST_LOGOUT_URIS:-$public_url/}" \
      node "$REPO/dev/oidc/provider.mjs" >"$dir/provider.out" 2>"$dir/provider.log" </dev/null &
    OIDC_PID=$!
    push_cleanup _oidc_stop

    local deadline=$((SECONDS + 20))
    until grep -q '^oidc-provider ready at ' "$dir/provider.out" 2>/dev/null; do
      if ! kill -0 "$OIDC_PID" 2>/dev/null; then
        tail -n 20 "$dir/provider.log" >&2 || true
        OIDC_PID=""
        die "the OpenID provider exited during start (port $port taken? set OIDC_PORT)"
      fi
      ((SECONDS < deadline)) || die "the OpenID provider was not ready within 20 s (see $dir/provider.log)"
      sleep 0.2
    done
  fi

  export DEMARC_OIDC_ISSUER="$issuer"
  export DEMARC_OIDC_CLIENT_ID="demarc"
  export DEMARC_OIDC_CLIENT_SECRET="${OIDC_CLIENT_SECRET:-demarc-dev-secret}"
  note "DEMARC_OIDC_ISSUER=$DEMARC_OIDC_ISSUER (client $DEMARC_OIDC_CLIENT_ID)"
  print_demo_logins
}

_oidc_stop() {
  [[ -n "$OIDC_PID" ]] || return 0
  if kill -0 "$OIDC_PID" 2>/dev/null; then
    log "OpenID provider: stopping"
    kill -TERM "$OIDC_PID" 2>/dev/null || true
    wait "$OIDC_PID" 2>/dev/null || true
  fi
  OIDC_PID=""
}

# ------------------------------------------------------------------------------------------------
# Secret key for the app's cookies/sessions
# ------------------------------------------------------------------------------------------------

ensure_secret_key() {
  if [[ -n "${DEMARC_SECRET_KEY:-}" ]]; then
    return 0
  fi
  local file="$DATA_DIR/secret_key"
  if [[ ! -s "$file" ]]; then
    log "generating a development secret key in ${file#"$REPO"/}"
    mkdir -p "$DATA_DIR"
    (umask 077 && head -c 32 /dev/urandom | base64 >"$file.tmp" && mv "$file.tmp" "$file")
  fi
  chmod 600 "$file"
  DEMARC_SECRET_KEY="$(tr -d '\n' <"$file")"
  export DEMARC_SECRET_KEY
}
