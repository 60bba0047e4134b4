#!/usr/bin/env bash
# Install Ralph (the xAPI LRS the demo and the integration tests run) into its own venv.
#
# Ralph gets a virtualenv of its own because its `lrs` extra pins fastapi, uvicorn and
# httpx versions the app must not inherit. Idempotent and quiet: a stamp file records
# what was installed, and a second run with the same pins does nothing.
#
#   CXA_RALPH_VENV   where the venv goes (default: <repo>/.venv-ralph)
#   PYTHON           interpreter to build it with (default: python3)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CXA_RALPH_VENV:-$repo_root/.venv-ralph}"
python="${PYTHON:-python3}"

# 5.1.0 has no `backend-fs` extra (the filesystem backend needs nothing extra), so only
# `lrs` is named. The `lrs` extra brings bcrypt (the auth file) and uvicorn, but not
# `requests`, which ralph.api imports unconditionally (ralph/api/auth/oidc.py).
requirements=(
  "ralph-malph[lrs]==5.1.0"
  "requests>=2.32,<3"
)
stamp="$venv/.cxa-ralph-installed"
wanted="$(printf '%s\n' "${requirements[@]}")"

# Import the app the way lti_tool/demo/ralph.py serves it: ralph.api builds its backend
# from the environment at import time, so it is pointed at the FS backend in a scratch dir.
imports_ok() {
  local scratch status
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/setup-ralph.XXXXXX")"
  (
    cd "$scratch" \
      && env RALPH_RUNSERVER_BACKEND=fs RALPH_APP_DIR="$scratch" \
        RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH="$scratch/lrs" \
        "$venv/bin/python" -c 'import bcrypt, requests, uvicorn, ralph.api'
  )
  status=$?
  rm -rf "$scratch"
  return "$status"
}

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] \
  && imports_ok 2>/dev/null; then
  exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/setup-ralph.XXXXXX.log")"
trap 'rm -f "$log"' EXIT
fail() {
  echo "setup-ralph: $1 (venv: $venv)" >&2
  cat "$log" >&2
  exit 1
}

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv" >"$log" 2>&1 || fail "cannot create the virtualenv with $python"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" \
  >"$log" 2>&1 || fail "pip install failed"
imports_ok >"$log" 2>&1 || fail "Ralph installed but its app does not import"
printf '%s\n' "$wanted" >"$stamp"
