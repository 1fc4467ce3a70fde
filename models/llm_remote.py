"""An OpenAI-compatible chat-completions server as the LLM (vLLM, Ollama, llama.cpp's server), streamed.

A fleet can answer from one bigger model on a server instead of each kiosk's small one. The kiosk must
still answer within a second when that server is slow or gone, so the connection and the first piece of
text each have a deadline, and any failure is `LlmUnavailable`: the brain then asks the local model (or
keeps what was already said, when the server died mid-answer). The same reply check applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
from httpx_sse import SSEError, connect_sse

from models.llm_prompt import ReplyCut


class LlmUnavailable(RuntimeError):
    """The server could not be reached, answered with an error, or stopped sending in time."""


class RemoteLlm:
    def __init__(self, url: str, model: str, connect_timeout_s: float, first_token_timeout_s: float) -> None:
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        # The read timeout bounds every wait for the next piece: the first token, and a server that stalls
        # mid-answer.
        self._timeout = httpx.Timeout(first_token_timeout_s, connect=connect_timeout_s)
        self._client = httpx.Client(timeout=self._timeout)

    def stream(self, chat: list[dict[str, str]], max_tokens: int, temperature: float) -> Iterator[str]:
        body = {"model": self.model, "messages": chat, "max_tokens": max_tokens, "temperature": temperature,
                "stream": True}
        try:
            with connect_sse(self._client, "POST", self.url, json=body) as source:
                if source.response.status_code != 200:
                    source.response.read()
                    raise LlmUnavailable(f"{self.url}: HTTP {source.response.status_code}: "
                                         f"{source.response.text[:200]}")
                for event in source.iter_sse():
                    if event.data.strip() == "[DONE]":
                        return
                    choices = json.loads(event.data).get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    if text:
                        yield text
                    if choices[0].get("finish_reason") == "length":
                        raise ReplyCut(f"the reply reached the limit of {max_tokens} tokens")
                    if choices[0].get("finish_reason"):
                        return
        except (httpx.HTTPError, SSEError, ValueError) as exc:
            raise LlmUnavailable(f"{self.url}: {type(exc).__name__}: {exc}") from None
        raise LlmUnavailable(f"{self.url}: the stream ended without finishing the answer")

    def close(self) -> None:
        self._client.close()
