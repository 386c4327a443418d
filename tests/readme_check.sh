#!/usr/bin/env bash
# Checks the README as a newcomer meets it: in a fresh clone of this repository, run its two set-up
# commands as written (each makes .venv and installs into it), then its library example from the
# clone's root, whose output must be the README's sample output. Slow (installs torch, runs the whole
# test suite): run it by hand, `bash tests/readme_check.sh [WORKDIR]`; exit status 0 when all holds.
# .ci/run must be the README's test command: checked first.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/looper-readme-XXXXXX)}"

# The fenced block right after `<!-- readme-check: NAME -->` in README.md.
block() {
    python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
found = re.search(r"<!-- readme-check: %s -->\n```\w*\n(.*?)```" % re.escape(sys.argv[2]), text, re.S)
if not found:
    sys.exit(f"README.md has no block marked readme-check: {sys.argv[2]}")
print(found.group(1), end="")
PY
}

step() { printf '\n== %s\n' "$*"; }

step "CI runs the README's test command"
if ! grep -qxF -- "$(block "$repo/README.md" tests)" "$repo/.ci/run"; then
    echo "FAIL: .ci/run does not contain the README's test command" >&2
    exit 1
fi

step "fresh clone of $repo in $work/looper"
rm -rf "$work/looper"
git clone --quiet "$repo" "$work/looper"
cd "$work/looper"
readme="$work/looper/README.md"

step "the README's first command (install, optimize, verify, time)"
bash -euo pipefail -c "$(block "$readme" main)"

step "the library example, from the repository root"
block "$readme" library > "$work/example.py"
block "$readme" library-output > "$work/expected.txt"
.venv/bin/python - < "$work/example.py" > "$work/printed.txt"   # as if typed at the root
if ! diff -u "$work/expected.txt" "$work/printed.txt"; then
    echo "FAIL: the library example printed something else than the README shows" >&2
    exit 1
fi

step "the README's test command"
bash -euo pipefail -c "$(block "$readme" tests)"

step "README check passed ($work)"
