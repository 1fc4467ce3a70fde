"""kioskd daemon: supervisor, worker runtime, rings, messages, config and command-line tools."""
