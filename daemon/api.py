"""The HTTP API (FastAPI): health, status, Prometheus metrics, say/ask/interrupt/reload, a screenshot and a
server-sent event stream. It holds no state of the kiosk: every call is a control-socket request to the
supervisor (daemon/control_calls.py), made from a thread so a slow call never holds up the others.

Every route but /healthz, /readyz and /metrics needs `Authorization: Bearer TOKEN`; bodies are JSON of at
most MAX_BODY bytes."""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field
from swagger_ui_bundle import swagger_ui_path

from daemon import control_calls
from daemon.bus import Bus
from daemon.commands import Report
from daemon.control import ControlError
from daemon.paths import control_socket

MAX_BODY = 64 * 1024
HEALTH_TIMEOUT_S = 2.0  # a supervisor that cannot answer this fast is not healthy
PROBE_THREADS = 4
KEEPALIVE_S = 15.0  # an idle event stream gets a comment this often, so proxies keep it open
FEED_QUEUE = 256  # events a slow event-stream client may fall behind by before it loses some

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="what to say, or the question to ask")


class EventFeed:
    """The supervisor's events (privacy applied before they were sent), read from the API's bus socket by
    a thread and handed to each /v1/events client's queue; a client that falls behind loses events, never
    the others."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._clients: set[asyncio.Queue[dict[str, Any]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        threading.Thread(target=self._read, name="event-feed", daemon=True).start()

    def _read(self) -> None:
        while True:
            msg = self._bus.recv(timeout=1.0)
            if isinstance(msg, Report) and self._loop is not None:
                self._loop.call_soon_threadsafe(self._hand_out, msg.record())

    def _hand_out(self, event: dict[str, Any]) -> None:
        for queue in self._clients:
            if queue.full():
                continue
            queue.put_nowait(event)

    async def stream(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(FEED_QUEUE)
        self._clients.add(queue)
        try:
            yield ": kioskd events\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event['event']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
        finally:
            self._clients.discard(queue)


class BodyLimit:
    """413 for a body over `limit` bytes, whether its Content-Length says so or it is streamed."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.limit:
            await JSONResponse({"detail": f"body too large ({int(length)} bytes, at most {self.limit})"},
                               status_code=413)(scope, receive, send)
            return
        seen = 0

        async def limited() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"body too large (over {self.limit} bytes)")
            return message

        await self.app(scope, limited, send)


def create_app(run_dir: Path, token: str, feed: EventFeed | None = None) -> FastAPI:
    sock = control_socket(run_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            feed.start(asyncio.get_running_loop())
        yield

    app = FastAPI(title="kioskd", summary="Control and watch one kiosk: health, metrics, speech, screenshots.",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    # The docs page from files installed with the kiosk: FastAPI's default fetches them from a CDN, and a
    # kiosk has no network.
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="kioskd API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    bearer = HTTPBearer(auto_error=False)

    def authorised(cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:  # noqa: B008
        if cred is None or not hmac.compare_digest(cred.credentials.encode(), token.encode()):
            raise HTTPException(401, "this call needs 'Authorization: Bearer TOKEN' with the token in the kiosk's "
                                "api.token_file", headers={"WWW-Authenticate": "Bearer"})

    def call(req: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        reply = control_calls.call(sock, req, timeout)
        reply.pop("ok")
        return reply

    @app.exception_handler(ControlError)
    async def _unreachable(_request: Request, exc: ControlError) -> JSONResponse:
        status = 400 if isinstance(exc, control_calls.Refused) else 503
        return JSONResponse({"detail": str(exc)}, status_code=status)

    # The probes get threads of their own: slow calls (ask, reload) filling the shared pool must not make
    # a healthy kiosk look dead to its monitoring.
    probes = anyio.CapacityLimiter(PROBE_THREADS)

    async def probe() -> dict[str, Any]:
        return await anyio.to_thread.run_sync(call, {"cmd": "status"}, HEALTH_TIMEOUT_S, limiter=probes)

    @app.get("/healthz", summary="200 while the pipeline is healthy, 503 with the reason otherwise")
    async def healthz() -> JSONResponse:
        try:
            status = await probe()
        except ControlError as exc:
            return JSONResponse({"healthy": False, "reason": str(exc)}, status_code=503)
        return JSONResponse({"healthy": status["healthy"], "reason": status["reason"]},
                            status_code=200 if status["healthy"] else 503)

    @app.get("/readyz", summary="200 once every worker has started (the kiosk has come up)")
    async def readyz() -> JSONResponse:
        try:
            ready = (await probe())["ready"]
        except ControlError as exc:
            return JSONResponse({"ready": False, "reason": str(exc)}, status_code=503)
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics", summary="Prometheus text exposition (kioskd_* series)")
    def metrics() -> Response:
        return Response(call({"cmd": "metrics"})["text"], media_type=CONTENT_TYPE_LATEST)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorised)])

    @v1.get("/status", summary="workers, state, restarts, current release, recent turn timings")
    def status() -> dict[str, Any]:
        return call({"cmd": "status"})

    @v1.post("/say", summary="speak this text now, as a new turn")
    def say(body: Text) -> dict[str, Any]:
        return call({"cmd": "say", "text": body.text})

    @v1.post("/ask", summary="ask as a visitor would; returns the answer once spoken: {source, text}")
    def ask(body: Text) -> dict[str, Any]:
        return control_calls.ask(sock, body.text)

    @v1.post("/interrupt", summary="stop speaking and drop every turn in flight")
    def interrupt() -> dict[str, Any]:
        return call({"cmd": "interrupt"})

    @v1.post("/reload", summary="validate the site config again and restart the workers whose sections changed")
    def reload() -> dict[str, Any]:
        return call({"cmd": "reload"}, timeout=60.0)

    @v1.get("/screenshot", summary="PNG of what the screen shows now", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
    def screenshot() -> Response:
        return Response(control_calls.screenshot(sock), media_type="image/png")

    @v1.get("/events", summary="server-sent events: timings always, words only where privacy.log_transcripts "
            "allows", response_class=StreamingResponse)
    def events() -> StreamingResponse:
        if feed is None:
            raise HTTPException(503, "this API was started without the supervisor's event feed")
        return StreamingResponse(feed.stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    app.include_router(v1)

    @app.exception_handler(404)
    async def _unknown(request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"no such call: {request.method} {request.url.path} (see /docs)"},
                            status_code=404)

    return app
