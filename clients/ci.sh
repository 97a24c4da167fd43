#!/usr/bin/env bash
# The client libraries, checked and run against the real server.
#
# Python: installed from clients/python into a fresh venv, then ruff, mypy --strict and pytest.
# JavaScript: npm ci (the committed lockfile), build, lint (eslint + tsc --strict) and node --test.
# Both test suites include the whole flow against one real server process started here (the
# root .venv that bin/test creates, development mode, SQLite, the SMS simulator): create, the
# SMS through the simulator webhook, `verified` by long poll and by SSE, cancel, and a signed
# callback received on 127.0.0.1 and verified by each client's helper (a tampered one refused).
# Each suite also compares the client with the server's live /openapi.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
server_exe="$root/.venv/bin/reverse-otp"
[ -x "$server_exe" ] || { echo "ci.sh: $server_exe missing; run bin/test first" >&2; exit 1; }
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true # still there after 10 s
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

random() { python3 -c "import base64, os, sys; print(sys.argv[1] + base64.b64encode(os.urandom(32)).decode().rstrip('='))" "$1"; }
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
api_key="$(random key_)"
simulator_secret="$(random sim_)"
test_number="+12025550142" # NANP 555-01xx: reserved for fiction, reaches nobody
test_code="$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
callback_secret="whsec_$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"

echo "== server: development mode on $url"
mkdir "$work/server"
# ./config.toml of the server's folder: development mode, and one test number for /check.
printf '[server]\nmode = "development"\n\n[[test_numbers]]\nphone = "%s"\ncode = "%s"\n' \
  "$test_number" "$test_code" >"$work/server/config.toml"
# Only the variables below configure the server (none inherited from the caller's shell).
# Callbacks go to the tests' receivers on 127.0.0.1: loopback destinations are refused unless
# [callbacks] allow_private is set, which only this throwaway development server does.
(
  cd "$work/server"
  for name in $(compgen -e | grep '^REVERSE_OTP_' || true); do unset "$name"; done
  export REVERSE_OTP_SERVER__PUBLIC_URL="$url"
  export REVERSE_OTP_API__KEYS="[\"$api_key\"]"
  export REVERSE_OTP_PROVIDERS__SIMULATOR__SECRET="$simulator_secret"
  export REVERSE_OTP_CALLBACKS__SECRET="$callback_secret"
  export REVERSE_OTP_CALLBACKS__ALLOW_PRIVATE=true
  export REVERSE_OTP_CALLBACKS__POLL_INTERVAL=0.2
  export REVERSE_OTP_PAGE__RETURN_ORIGINS='["https://shop.example"]'
  exec "$server_exe" serve --port "$port" --workers 1
) >"$work/server.log" 2>&1 &
server_pid=$!
python3 - "$url" <<'PY' || { cat "$work/server.log" >&2; exit 1; }
import sys, time, urllib.error, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=1).close()
        sys.exit(0)
    except (urllib.error.URLError, OSError):
        time.sleep(0.1)
sys.exit("server did not start within 20 s")
PY
export REVERSE_OTP_CLIENT_TEST_URL="$url"
export REVERSE_OTP_CLIENT_TEST_API_KEY="$api_key"
export REVERSE_OTP_CLIENT_TEST_SIMULATOR_SECRET="$simulator_secret"
export REVERSE_OTP_CLIENT_TEST_CALLBACK_SECRET="$callback_secret"
export REVERSE_OTP_CLIENT_TEST_NUMBER="$test_number"
export REVERSE_OTP_CLIENT_TEST_CODE="$test_code"

python_client() {
  python3 -m venv "$work/venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/python" -m pip install --quiet --no-compile \
    "$root/clients/python[test]"
  cd "$root/clients/python"
  "$work/venv/bin/ruff" check --no-cache .
  "$work/venv/bin/ruff" format --check --no-cache .
  "$work/venv/bin/mypy" --strict --cache-dir "$work/mypy" src tests
  timeout 300 "$work/venv/bin/pytest" -q -p no:cacheprovider tests
}

js_client() {
  cd "$root/clients/js"
  npm ci --no-audit --no-fund --loglevel=error --prefer-offline
  npm run --silent build
  npm run --silent lint
  timeout 300 npm test
}

# The two clients in parallel (one core each), each against the same server.
echo "== python client (fresh venv, ruff, mypy --strict, pytest) and javascript client (npm ci, build, lint, test)"
(set -e; python_client) >"$work/python.log" 2>&1 &
python_pid=$!
(set -e; js_client) >"$work/js.log" 2>&1 &
js_pid=$!
python_rc=0 js_rc=0
wait "$python_pid" || python_rc=$?
wait "$js_pid" || js_rc=$?
echo "== python client: exit $python_rc"
cat "$work/python.log"
echo "== javascript client: exit $js_rc"
cat "$work/js.log"
if [ "$python_rc" -ne 0 ] || [ "$js_rc" -ne 0 ]; then
  echo "== clients: FAILED (python $python_rc, javascript $js_rc)" >&2
  exit 1
fi
echo "== clients: all passed (${SECONDS} s)"
