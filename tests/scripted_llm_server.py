"""A real OpenAI-compatible HTTP server on loopback that streams a scripted reply: what a remote LLM says,
when it says it, and where it dies, chosen by the test (llama-cpp-python's own server is tested in
test_llm_remote.py; this one makes a reply's words exact)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    pieces: list[str] = field(default_factory=list)
    first_delay_s: float = 0.0
    piece_delay_s: float = 0.0  # between pieces: a slow model
    die_after: int | None = None  # close the connection after this many pieces, without finishing
    requests: list[dict] = field(default_factory=list)


@contextmanager
def scripted_server(script: Script) -> Iterator[str]:
    """Serve `script` on 127.0.0.1; yields the base URL (http://127.0.0.1:PORT/v1)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/chat/completions":
                self.send_error(404, "no such endpoint")
                return
            script.requests.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            time.sleep(script.first_delay_s)
            for i, piece in enumerate(script.pieces):
                if script.die_after is not None and i >= script.die_after:
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                if i:
                    time.sleep(script.piece_delay_s)
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
