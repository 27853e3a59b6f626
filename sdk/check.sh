#!/usr/bin/env bash
# Checks that openapi/openapi.json is exact enough for generated SDKs (issue 12, docs/sdks.md):
#
#   1. redocly lint (recommended ruleset, ../redocly.yaml): 0 errors (warnings are listed in
#      docs/sdks.md);
#   2. TypeScript: openapi-typescript generates sdk/typescript/generated/schema.d.ts without
#      errors or warnings, and `tsc --noEmit` (strict) accepts sdk/typescript/example.ts;
#   3. Python: openapi-python-client generates the client without a single warning;
#   4. the Python scenario (sdk/python/scenario.py) passes with that client against a server
#      started here from the debug binary, on a fresh SQLite database.
#
# Usage: sdk/check.sh            (from anywhere; needs target/debug/vestibule, node, python3)
# Env:   VESTIBULE_BIN           the server binary (default: $CARGO_TARGET_DIR or target/debug/vestibule)
#        SDK_CHECK_KEEP=1        keep the temporary folder (server log, mail, generated client)
#
# It downloads only from the npm registry (npm ci) and PyPI (pip). Every step runs even when
# an earlier one failed (except those that need its output); the last line sums up, and the exit
# status is non-zero when any step failed.
set -uo pipefail

sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$sdk")
spec="$root/openapi/openapi.json"
bin=${VESTIBULE_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/vestibule}
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/vestibule-sdk.XXXXXX")
server_pid=""
start=$(date +%s)

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
    if [ "${SDK_CHECK_KEEP:-}" = 1 ]; then
        echo "sdk: kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=()
failed=()
ok() { passed+=("$1"); echo "== sdk: $1: ok"; }
bad() { failed+=("$1"); echo "== sdk: $1: FAILED${2:+ ($2)}"; }
section() { echo; echo "== sdk: $1"; }

# No telemetry, update checks or funding notices: nothing but the registries is contacted.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# --- TypeScript tools (pinned in sdk/typescript/package-lock.json) --------------------------
section "npm ci"
npm_ok=0
if (cd "$sdk/typescript" && npm ci --no-audit --no-fund --loglevel=error); then
    npm_ok=1
    ok "npm ci"
else
    bad "npm ci"
fi

# --- 1. redocly lint --------------------------------------------------------------------
section "redocly lint (recommended) openapi/openapi.json"
if [ "$npm_ok" = 1 ]; then
    # Exit status 1 means errors; warnings alone pass. The JSON report is printed one line
    # per problem (severity, rule, JSON pointer, message), then the totals.
    (cd "$sdk/typescript" && ./node_modules/.bin/redocly lint --config "$root/redocly.yaml" \
        --format=json "$spec") >"$work/redocly.json" 2>"$work/redocly.err"
    status=$?
    node -e '
        const fs = require("fs");
        let report;
        try { report = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
        catch { console.log(fs.readFileSync(process.argv[2], "utf8")); process.exit(0); }
        for (const p of report.problems) {
            const at = (p.location && p.location[0] && p.location[0].pointer) || "";
            console.log(`${p.severity.padEnd(5)} ${p.ruleId}  ${at}  ${p.message}`);
        }
        const t = report.totals;
        console.log(`redocly lint: ${t.errors} error(s), ${t.warnings} warning(s), ${t.ignored} ignored`);
    ' "$work/redocly.json" "$work/redocly.err"
    if [ "$status" = 0 ]; then ok "redocly lint"; else bad "redocly lint" "errors above"; fi
else
    bad "redocly lint" "npm ci failed"
fi

# --- 2. TypeScript: generate the types, type-check the example ----------------------------
section "openapi-typescript -> sdk/typescript/generated/schema.d.ts"
ts_generated=0
if [ "$npm_ok" = 1 ] && (cd "$sdk/typescript" && rm -rf generated && node generate.mjs "$spec"); then
    ts_generated=1
    ok "openapi-typescript"
else
    bad "openapi-typescript"
fi

section "tsc --noEmit sdk/typescript/example.ts"
if [ "$ts_generated" = 1 ] && (cd "$sdk/typescript" && ./node_modules/.bin/tsc --noEmit -p tsconfig.json); then
    ok "tsc"
else
    bad "tsc" "$([ "$ts_generated" = 1 ] || echo "no generated types")"
fi

# --- 3. Python: the generator in a venv, the client without warnings ---------------------
section "pip install -r sdk/python/requirements.txt (venv)"
venv="$work/venv"
py_ok=0
if python3 -m venv "$venv" \
        && "$venv/bin/python" -m pip install --quiet --no-input -r "$sdk/python/requirements.txt" \
        && "$venv/bin/python" -m pip check >/dev/null; then
    py_ok=1
    ok "pip install"
else
    bad "pip install"
fi

section "openapi-python-client generate"
client_dir="$work/python-client"
py_generated=0
if [ "$py_ok" = 1 ]; then
    mkdir -p "$client_dir"
    # PATH: the generator's post hooks run the ruff from the venv.
    (cd "$work" && PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate \
        --path "$spec" --meta none --config "$sdk/python/openapi-python-client.yaml" \
        --output-path "$client_dir/vestibule_client" --fail-on-warning) >"$work/generate.log" 2>&1
    status=$?
    cat "$work/generate.log"
    # --fail-on-warning makes a warning fail; anything else the generator complains about
    # (a skipped post hook, an error) fails as well.
    if [ "$status" = 0 ] && ! grep -q -i -E 'warning|error|skipping' "$work/generate.log" \
            && [ -f "$client_dir/vestibule_client/__init__.py" ]; then
        py_generated=1
        ok "openapi-python-client"
    else
        bad "openapi-python-client" "warnings or errors above"
        # Still run the scenario when a client was written despite warnings, to find out more.
        if [ -f "$client_dir/vestibule_client/__init__.py" ]; then py_generated=2; fi
    fi
else
    bad "openapi-python-client" "pip install failed"
fi

# --- 4. the Python scenario against a fresh server -------------------------------------
section "python scenario against ${bin#"$root"/}"
free_port() {
    "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_server() {
    local port=$1 data="$work/data"
    mkdir -p "$data"
    # A clean environment (nothing from the caller's .env or shell leaks in), run from the
    # temporary folder so that no .env file is found either.
    (cd "$work" && exec env -i PATH="$PATH" HOME="$work" \
        DATABASE_URL="sqlite://$data/vestibule.db" DATA_DIR="$data" \
        BIND_ADDRESS="127.0.0.1:$port" PUBLIC_BASE_URL="http://127.0.0.1:$port" \
        MAIL_TRANSPORT=folder BLOB_STORE=fs DISPATCH_POLL_MS=200 WORKERS=2 \
        LOG_FORMAT=text RUST_LOG=info \
        "$bin" serve --demo) >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server exited early:"; tail -n 40 "$work/server.log"; server_pid=""; return 1
        fi
        if "$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
                "http://127.0.0.1:$port/readyz" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "the server did not get ready in time:"; tail -n 40 "$work/server.log"
    return 1
}
if [ "$py_generated" = 0 ]; then
    bad "python scenario" "no generated client"
elif [ ! -x "$bin" ]; then
    bad "python scenario" "no server binary at $bin; build it with: cargo build --locked -p vestibule-server"
else
    port=$(free_port)
    if start_server "$port"; then
        if PYTHONPATH="$client_dir" "$venv/bin/python" "$sdk/python/scenario.py" \
                --base-url "http://127.0.0.1:$port" --mail-dir "$work/data/mail"; then
            ok "python scenario"
        else
            echo "last lines of the server log:"; tail -n 20 "$work/server.log"
            bad "python scenario"
        fi
    else
        bad "python scenario" "the server did not start"
    fi
fi

elapsed=$(( $(date +%s) - start ))
echo
join() { local out="" item; for item in "$@"; do out="${out:+$out, }$item"; done; echo "$out"; }
if [ "${#failed[@]}" = 0 ]; then
    echo "sdk check: ok ($(join "${passed[@]}"); ${elapsed}s)"
    exit 0
fi
echo "sdk check: FAILED ($(join "${failed[@]}"); ${#passed[@]} of $(( ${#passed[@]} + ${#failed[@]} )) steps ok; ${elapsed}s)"
exit 1
