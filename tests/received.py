"""What a stage run in-process reported, as the supervisor would receive it (a LocalPort's `reported`)."""

from __future__ import annotations

import time
from typing import Any


class Received(list[dict[str, Any]]):
    """Reports in order; `first` waits, for a stage that reports from a thread of its own."""

    def first(self, **fields: Any) -> dict[str, Any]:
        """The first message with these field values (or values a callable accepts), waiting up to 5 s for it."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for msg in list(self):
                if all(k in msg and v(msg[k]) if callable(v) else msg.get(k) == v for k, v in fields.items()):
                    return msg
            time.sleep(0.02)
        raise AssertionError(f"no message with {fields} in 5 s")
