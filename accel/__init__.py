"""Execution providers and device probing; imports nothing from the rest of kioskd.

Importing it switches onnxruntime's telemetry off: onnxruntime 1.32 looks up Microsoft's telemetry host
(mobile.events.data.microsoft.com) from every process that makes a session, unless ORT_DISABLE_TELEMETRY is
set before onnxruntime is imported (setting it later does nothing), and nothing may leave the kiosk. The
packages that load models (models, bench) import this first.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
