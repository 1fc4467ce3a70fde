# The Debian packages kioskd needs (sourced by scripts/setup.sh and scripts/bundle.sh).
# A checkout installs all three lists; an offline bundle, whose wheels are built already, only the first.
APT_RUNTIME=(
  python3 python3-venv                           # the virtualenv
  libportaudio2 libspeexdsp1 libgomp1            # what the pyaudio, speexdsp and llama.cpp wheels link to
  systemd                                        # the service; systemd-sysusers for kioskctl install
  fonts-noto-cjk                                 # captions in Chinese (pygame's own font has no CJK glyphs)
  cage libwayland-egl1 libwayland-cursor0 libgl1-mesa-dri  # boot-to-kiosk: the cage compositor; SDL's
                                                 # Wayland driver loads these (EGL, software GL without a GPU)
  xwayland                                       # Debian's cage is built with XWayland and will not start
                                                 # without its server ("Cannot create XWayland server")
)
APT_BUILD=(
  build-essential cmake pkg-config git python3-dev   # llama-cpp-python and kioskd's ring core, from source
  portaudio19-dev libspeexdsp-dev swig libsystemd-dev  # pyaudio, speexdsp, systemd-python, from source
  dpkg-dev                                       # dpkg-scanpackages: the offline bundle's package index
)
APT_DEV=(
  espeak-ng                                      # synthetic test speech
  codec2-examples alsa-utils                     # real recorded speech for tests
  curl                                           # the sdists with recorded Mandarin in their test data
  asterisk-core-sounds-en asterisk-core-sounds-en-g722   # recorded prompts + transcripts (bench.turn_set)
  xvfb imagemagick grim                          # screenshots of the kiosk window, and of cage
  openssh-client openssh-server                  # kioskctl push (its tests start a real sshd on 127.0.0.1)
  chromium chromium-driver                       # the studio's page in a real browser (tests/test_studio.py)
)
