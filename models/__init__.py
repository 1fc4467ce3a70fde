"""Model adapters, one per stage kind; they know nothing about processes or rings."""

import accel  # noqa: F401  (onnxruntime's telemetry off before any model loads it: see accel/__init__.py)
