"""What a test's stand-in for the supervisor received from a worker run in-process (tests/conftest.py's
supervisor_messages fixture fills it)."""

from __future__ import annotations

import time
from typing import Any


class Received(list[dict[str, Any]]):
    """Messages a drain thread appends to, in order."""

    def first(self, **fields: Any) -> dict[str, Any]:
        """The first message with these field values (or values a callable accepts), waiting up to 5 s for it."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for msg in list(self):
                if all(k in msg and v(msg[k]) if callable(v) else msg.get(k) == v for k, v in fields.items()):
                    return msg
            time.sleep(0.02)
        raise AssertionError(f"no message with {fields} in 5 s")
