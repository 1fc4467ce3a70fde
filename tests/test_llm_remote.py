"""The remote LLM backend against a real OpenAI-compatible server on loopback: llama-cpp-python's own
server with the small embedded GGUF. Streams, names what went wrong, and notices a server that dies
mid-answer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from models.llm_prompt import ReplyCut
from models.llm_remote import LlmUnavailable, RemoteLlm
from models.prepare import gemma_path

CHAT = [{"role": "system", "content": "You are a helpful bank receptionist."},
        {"role": "user", "content": "Tell me about the bank's history in a long story."}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gemma_path()), "--host",
                             "127.0.0.1", "--port", str(port), "--n_ctx", "512", "--n_threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start in 60 s")
    try:
        yield url, proc
    finally:
        proc.kill()
        proc.wait()


def test_a_real_server_streams_the_reply(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, _ = server
    llm = RemoteLlm(url, "default", connect_timeout_s=1.0, first_token_timeout_s=20.0)
    pieces = []
    with pytest.raises(ReplyCut, match="limit of 12 tokens"):  # a long story does not fit in 12 tokens
        for piece in llm.stream(CHAT, max_tokens=12, temperature=0.0):
            pieces.append(piece)
    assert len(pieces) >= 3 and "".join(pieces).strip()  # streamed: several pieces, not one at the end


def test_a_server_that_dies_mid_answer_is_noticed(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, proc = server
    llm = RemoteLlm(url, "default", connect_timeout_s=1.0, first_token_timeout_s=20.0)
    pieces = []
    began = time.monotonic()
    with pytest.raises(LlmUnavailable):
        for piece in llm.stream(CHAT, max_tokens=200, temperature=0.0):
            pieces.append(piece)
            if len(pieces) == 2:
                os.kill(proc.pid, signal.SIGKILL)
    assert len(pieces) >= 2 and time.monotonic() - began < 30


def test_no_server_is_a_quick_clear_error() -> None:
    llm = RemoteLlm(f"http://127.0.0.1:{_free_port()}/v1", "default", connect_timeout_s=0.5, first_token_timeout_s=0.5)
    began = time.monotonic()
    with pytest.raises(LlmUnavailable, match="ConnectError"):
        list(llm.stream(CHAT, max_tokens=8, temperature=0.0))
    assert time.monotonic() - began < 2


def test_an_error_status_is_named() -> None:
    from tests.scripted_llm_server import Script, scripted_server

    with scripted_server(Script(["hi"])) as url:
        llm = RemoteLlm(url.replace("/v1", "/nowhere"), "default", 1.0, 1.0)
        with pytest.raises(LlmUnavailable, match="HTTP 404"):
            list(llm.stream(CHAT, max_tokens=8, temperature=0.0))
