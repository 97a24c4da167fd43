#!/usr/bin/env bash
# The production install, checked end to end:
#  1. build the wheel from a copy of the checkout and install it, with the PostgreSQL extra,
#     into a fresh virtualenv outside the checkout;
#  2. run `reverse-otp serve` from it (no source tree around) with deploy/config.toml on
#     a PostgreSQL database of its own and Redis (keys and channel of its own), secrets in
#     an env file as systemd would pass them;
#  3. verify one challenge over HTTP: create it with an API key, deliver the SMS as a
#     Twilio webhook signed with the auth token, read the status: verified;
#  4. check deploy/reverse-otp.service (systemd-analyze verify, exposure score),
#     deploy/nginx.conf (nginx -t) and deploy/Caddyfile (caddy validate).
# Needs: python3 (3.11+), PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth), Redis
# on 127.0.0.1:6379, curl, openssl, and the Debian packages systemd, nginx and caddy (installed when missing).
# Usage: deploy/ci-check.sh   (exit status 0 when every check passes)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
PG_HOST=127.0.0.1
PG_PORT=5432
DB="reverse_otp_ci_$$"
WORK=$(mktemp -d /tmp/reverse-otp-ci.XXXXXX)
SERVER_PID=""
DB_MADE=""

say() { printf 'ci-check: %s\n' "$*"; }
fail() { printf 'ci-check: FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$WORK/server.log" ]]; then
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 "$WORK/server.log" >&2 || true
  fi
  if [[ -n "$DB_MADE" ]]; then
    "$WORK/venv/bin/python" - "$DB" <<'PY' || true
import sys, psycopg
with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{sys.argv[1]}" WITH (FORCE)')
PY
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT

install_missing() {
  local missing=()
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v caddy >/dev/null || missing+=(caddy)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

build_and_install() {
  say "building the wheel from a copy of $ROOT"
  mkdir -p "$WORK/source" "$WORK/dist"
  tar -C "$ROOT" --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./dist \
    --exclude='*.egg-info' --exclude=./instance --exclude='__pycache__' -cf - . |
    tar -C "$WORK/source" -xf -
  "$PYTHON" -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" wheel -q --no-deps -w "$WORK/dist" "$WORK/source"
  rm -rf "$WORK/source"
  local wheel
  wheel=$(ls "$WORK"/dist/reverse_otp-*.whl)
  say "installing $(basename "$wheel")[postgres,redis] into a fresh virtualenv"
  "$WORK/venv/bin/pip" install -q "$wheel[postgres,redis]"
  local where
  where=$(cd "$WORK" && "$WORK/venv/bin/python" -c 'import app; print(app.__file__)')
  [[ "$where" == "$WORK/venv/"* ]] || fail "app imported from $where, not the virtualenv"
}

free_port() {
  "$WORK/venv/bin/python" -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config() {
  mkdir -p "$WORK/etc" "$WORK/state"
  # The shipped production template, served on a loopback port instead of its example host.
  # The state directory is the work folder's own.
  sed -e "s#^public_url = .*#public_url = \"http://127.0.0.1:$PORT\"#" \
    -e "s#^instance_dir = .*#instance_dir = \"$WORK/state\"#" \
    "$ROOT/deploy/config.toml" >"$WORK/etc/config.toml"
  grep -q "^public_url = \"http://127.0.0.1:$PORT\"" "$WORK/etc/config.toml" ||
    fail "deploy/config.toml has no public_url line"
  grep -q "^instance_dir = \"$WORK/state\"" "$WORK/etc/config.toml" ||
    fail "deploy/config.toml has no instance_dir line"
  SECRET=$(openssl rand -hex 32)
  TWILIO_TOKEN=$(openssl rand -hex 16)
  umask 077
  cat >"$WORK/etc/secrets.env" <<EOF
REVERSE_OTP_SERVER__SECRET_KEY=$SECRET
REVERSE_OTP_DATABASE__URL=postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/$DB
REVERSE_OTP_PROVIDERS__TWILIO__AUTH_TOKEN=$TWILIO_TOKEN
REVERSE_OTP_LIMITS__KEY_PREFIX=$DB:limits:
REVERSE_OTP_EVENTS__REDIS_CHANNEL=$DB:events
EOF
  umask 022
}

# Run the installed command the way the systemd unit does: config path and secrets from
# the environment, from the state folder, nothing of the checkout in reach.
rotp_exec() {
  cd "$WORK/state"
  set -a
  # shellcheck disable=SC1091
  . "$WORK/etc/secrets.env"
  set +a
  REVERSE_OTP_CONFIG="$WORK/etc/config.toml" exec "$WORK/venv/bin/reverse-otp" "$@"
}
rotp() { (rotp_exec "$@"); }

create_database() {
  "$WORK/venv/bin/python" - "$DB" <<'PY'
import sys, psycopg
with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as c:
    c.execute(f'CREATE DATABASE "{sys.argv[1]}"')
PY
  DB_MADE=1
}

start_server() {
  say "starting reverse-otp serve on 127.0.0.1:$PORT"
  # One subshell that execs the server (which re-executes itself in place): $! is its pid.
  rotp_exec serve --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited"
    if curl -sf -o /dev/null --max-time 2 "$BASE/readyz"; then
      return 0
    fi
    sleep 0.1
  done
  fail "the server was not ready within 30 s"
}

field() {
  "$WORK/venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

verify_one() {
  local key challenge body token to page status
  key=$(rotp create-api-key --name ci-check | tail -n 1)
  challenge=$(curl -sS --fail-with-body --max-time 10 -X POST "$BASE/api/v1/challenges" \
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    -d '{"phone": "+33612345678"}') || fail "create: $challenge"
  body=$(field body <<<"$challenge")
  token=$(field token <<<"$challenge")
  to=$(field to <<<"$challenge")
  page=$(field verify_url <<<"$challenge")
  say "challenge created; sending \"$body\" to $to as a signed Twilio webhook"
  local account="AC$(printf '%032d' 0)" message="SM$(printf '%032d' 1)" signature
  signature=$("$WORK/venv/bin/python" - "$TWILIO_TOKEN" "$BASE/webhooks/twilio" \
    "$account" "$body" "$message" "$to" <<'PY'
import base64, hashlib, hmac, sys
token, url, account, body, message, to = sys.argv[1:]
params = {"AccountSid": account, "Body": body, "From": "+33612345678",
          "MessageSid": message, "To": to}
payload = url + "".join(k + v for k, v in sorted(params.items()))
print(base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode())
PY
  )
  curl -sS --fail-with-body --max-time 10 -o /dev/null "$BASE/webhooks/twilio" \
    -H "X-Twilio-Signature: $signature" \
    --data-urlencode "AccountSid=$account" --data-urlencode "Body=$body" \
    --data-urlencode "From=+33612345678" --data-urlencode "MessageSid=$message" \
    --data-urlencode "To=$to" || fail "the webhook was refused"
  status=$(curl -sS --fail-with-body --max-time 10 "$BASE/api/v1/status/$token" | field status)
  [[ "$status" == "verified" ]] || fail "status is $status, not verified"
  curl -sf -o /dev/null --max-time 10 "$page" || fail "the hosted page failed"
  curl -sf -o /dev/null --max-time 10 "$BASE/static/page.js" || fail "static files missing"
  grep -qF "instance folder: $WORK/state ([server] instance_dir in $WORK/etc/config.toml)" \
    "$WORK/server.log" || fail "the server did not say which instance folder it uses"
  say "verified over HTTP; hosted page and static files served from the wheel"
}

check_unit() {
  local unit="$WORK/reverse-otp.service" out
  # The unit as installed, but with the virtualenv just made in place of /opt/reverse-otp.
  sed "s#/opt/reverse-otp/#$WORK/venv/#g" "$ROOT/deploy/reverse-otp.service" >"$unit"
  # systemd-analyze verify reports unknown keys and bad values on stderr, yet exits 0.
  out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify: $out"
  systemd-analyze security --offline=true --threshold=20 "$unit" >"$WORK/security.txt" 2>&1 ||
    fail "unit exposure above 2.0: $(tail -n 1 "$WORK/security.txt")"
  say "systemd unit: verified; $(tail -n 1 "$WORK/security.txt" | sed 's/^→ //')"
}

check_nginx() {
  local dir="$WORK/nginx" nginx_bin
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=verify.example.com \
    -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
  sed "s#/etc/letsencrypt/live/verify.example.com/#$dir/#" "$ROOT/deploy/nginx.conf" \
    >"$dir/site.conf"
  printf 'pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n    include %s/site.conf;\n}\n' \
    "$dir" "$dir" >"$dir/nginx.conf"
  "$nginx_bin" -t -q -p "$dir" -e stderr -c "$dir/nginx.conf" || fail "nginx -t"
  say "nginx: configuration valid"
}

check_caddy() {
  local dir="$WORK/caddy"
  mkdir -p "$dir"
  HOME="$dir" XDG_CONFIG_HOME="$dir" XDG_DATA_HOME="$dir" timeout 60 \
    caddy validate --adapter caddyfile --config "$ROOT/deploy/Caddyfile" >"$dir/out" 2>&1 ||
    fail "caddy validate: $(tail -n 5 "$dir/out")"
  say "caddy: configuration valid"
}

install_missing
build_and_install
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
write_config
create_database
say "migrating database $DB"
rotp db upgrade
start_server
verify_one
check_unit
check_nginx
check_caddy
say "all checks passed"
