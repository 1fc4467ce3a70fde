"""Benchmarks of the whole kiosk: `kioskctl bench` drives a real headless kioskd and measures it from its events."""

import accel  # noqa: F401  (onnxruntime's telemetry off before the Mandarin test voice loads it: see accel/__init__.py)
