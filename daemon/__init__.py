"""kioskd daemon, wiring only: supervisor and turn tracker, stages and their runner, rings, the message,
command and event vocabulary, config and command-line tools."""
