"""The studio's "Kiosk status" tab: what a running kiosk is doing, read through its own HTTP API
(daemon/api.py) at the config's `api.listen` with the token in `api.token_file`: its state and health, the
last turns' timings, the frames a second it draws and a screenshot. Each failure becomes one plain sentence
(no kiosk answers, the API is off, the token cannot be read), never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from daemon.config import Config

TIMEOUT_S = 3.0  # the API answers from the supervisor in bounded time; longer means it is not there
SCREENSHOT_TIMEOUT_S = 10.0  # the face draws the frame for it


class KioskUnreachable(RuntimeError):
    """The kiosk's API cannot be asked; the message says why in one sentence."""


@dataclass(frozen=True)
class KioskApi:
    url: str | None  # http://HOST:PORT, None when the config turns the API off
    token_file: Path

    @classmethod
    def of(cls, config: Config) -> KioskApi:
        listen = config.api.listen
        if listen is None:
            return cls(None, config.api.token())
        host, _, port = listen.rpartition(":")
        # An API listening on every address is asked on loopback, the studio being on the same box.
        host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)
        return cls(f"http://{host}:{port}", config.api.token())

    def _token(self) -> str:
        try:
            return self.token_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise KioskUnreachable(f"The kiosk's API token {self.token_file} (api.token_file) does not exist: "
                                   "has kioskd started its API with this config?") from None
        except OSError as exc:
            raise KioskUnreachable(f"Cannot read the kiosk's API token {self.token_file} ({exc.strerror}): run the "
                                   "studio as the kiosk's user or root.") from None

    def _get(self, client: httpx.Client, path: str, timeout: float = TIMEOUT_S) -> httpx.Response:
        try:
            reply = client.get(path, timeout=timeout)
        except httpx.TransportError:
            raise KioskUnreachable(f"No kiosk answers at {self.url} (api.listen): kioskd is not running, or its "
                                   "API listens elsewhere.") from None
        if reply.status_code == 401:
            raise KioskUnreachable(f"The kiosk at {self.url} refused the token in {self.token_file}: is it this "
                                   "kiosk's api.token_file?")
        if reply.status_code != 200:
            try:
                detail = reply.json()["detail"]
            except (ValueError, KeyError, TypeError):
                detail = reply.text
            raise KioskUnreachable(f"The kiosk at {self.url} answered {path} with {reply.status_code}: {detail}")
        return reply

    def look(self) -> tuple[dict[str, Any], float | None, bytes]:
        """The kiosk's status (GET /v1/status), its frames a second (None before the face has reported any)
        and a PNG of its screen now; KioskUnreachable saying why not."""
        if self.url is None:
            raise KioskUnreachable("The kiosk's HTTP API is off in this config (api.listen: null): there is "
                                   "nothing to ask.")
        with httpx.Client(base_url=self.url, trust_env=False) as client:
            fps = _fps(self._get(client, "/metrics").text)  # needs no token: whether a kiosk answers at all
            client.headers["Authorization"] = f"Bearer {self._token()}"
            status = self._get(client, "/v1/status").json()
            png = self._get(client, "/v1/screenshot", SCREENSHOT_TIMEOUT_S).content
        return status, fps, png


def _fps(metrics: str) -> float | None:
    for family in text_string_to_metric_families(metrics):
        if family.name == "kioskd_fps" and family.samples and family.samples[0].value > 0:
            return family.samples[0].value
    return None


def summary(status: dict[str, Any], fps: float | None) -> str:
    """The status as Markdown: state, health, opening hours, frames a second, workers and recent turns."""
    health = "healthy" if status["healthy"] else f"**not healthy**: {status['reason']}"
    lines = [f"**{status['activity']}** · {health} · {status['opening']['note']}"
             + (f" · release {status['release']}" if status.get("release") else ""),
             "",
             f"Frames a second: **{fps:.1f}**" if fps is not None else "Frames a second: none reported yet",
             "",
             "| worker | state | restarts | up | status |", "|---|---|---|---|---|"]
    lines += [f"| {w['name']} | {w['state']} | {w['restarts']} | {w['uptime_s']:.0f} s | {w['status'] or ''} |"
              for w in status["workers"]]
    turns = status["recent_turns"]
    if not turns:
        return "\n".join([*lines, "", "No spoken question answered yet."])
    stages = list(turns[-1]["stages_ms"])
    lines += ["", "Spoken questions answered lately (milliseconds):", "",
              "| turn | source | voice to voice | " + " | ".join(stages) + " |",
              "|---" * (3 + len(stages)) + "|"]
    lines += [f"| {t['turn']} | {t['source'] or '?'} | {t['voice_to_voice_ms']:.0f} | "
              + " | ".join(f"{t['stages_ms'].get(s, 0):.0f}" for s in stages) + " |" for t in reversed(turns)]
    return "\n".join(lines)
