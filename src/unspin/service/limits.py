"""The service's limits, in one frozen record, and the raw-body size guard.

Every limit is stated here with its default and the status code a client
sees when it is crossed (docs/service.md repeats this table):

===================  ===========  =================================================
limit                default      beyond it
===================  ===========  =================================================
``max_body_bytes``   1,000,000    413, checked on the raw bytes *before* JSON parsing,
                                  for ``Content-Length`` and chunked uploads alike
``max_upload_bytes`` 10,000,000   413 for ``POST /v1/extract`` (a PDF is bigger than
                                  the text inside it)
``max_text_chars``   200,000      422 with the core's reason (``Config.max_chars``)
``timeout_s``        10.0         504; the worker thread finishes in the background
                                  and keeps its concurrency slot until it does
``max_in_flight``    32           503 with ``Retry-After`` when every slot is taken
``workers``          2            threads that run the (CPU-bound) core
===================  ===========  =================================================

Why a slot is held until the *thread* finishes rather than until the response
is sent: Python threads cannot be cancelled, so a request that timed out is
still burning CPU. Releasing its slot early would let a client that sends
slow inputs pile up unbounded work behind a stream of 504s.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """Every bound the service puts on a request (see the module docstring)."""

    #: Largest raw request body for JSON endpoints, in bytes.
    max_body_bytes: int = 1_000_000
    #: Largest raw upload for ``POST /v1/extract``, in bytes.
    max_upload_bytes: int = 10_000_000
    #: Longest text the core is asked to analyse, in characters.
    max_text_chars: int = 200_000
    #: Wall-clock budget of one request's core call, in seconds.
    timeout_s: float = 10.0
    #: Requests allowed in the core (queued or running) at once.
    max_in_flight: int = 32
    #: Threads running the core. More than the number of cores buys nothing:
    #: the core is CPU-bound Python.
    workers: int = 2
    #: Seconds a client is told to wait (``Retry-After``) when saturated.
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_upload_bytes", "max_text_chars", "max_in_flight",
                     "workers", "retry_after_s"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {self.timeout_s}")


class Slots:
    """A non-blocking counting semaphore: take a slot now or be told to retry."""

    def __init__(self, size: int) -> None:
        self._sem = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._taken = 0
        self.size = size

    def try_take(self) -> bool:
        if not self._sem.acquire(blocking=False):
            return False
        with self._lock:
            self._taken += 1
        return True

    def give_back(self) -> None:
        with self._lock:
            self._taken -= 1
        self._sem.release()

    @property
    def taken(self) -> int:
        with self._lock:
            return self._taken


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


def too_large(limit: int) -> dict[str, Any]:
    return {"status": 413, "error": "payload_too_large",
            "reason": f"request body is over the {limit:,}-byte limit; send less text per "
                      "request (split the document) or run `unspin check` locally"}


class BodyLimit:
    """ASGI middleware: refuse oversized bodies before anything parses them.

    A declared ``Content-Length`` over the limit is refused without reading a
    byte. Otherwise (including ``Transfer-Encoding: chunked``, which declares
    nothing) the body is read chunk by chunk and refused the moment the
    running total crosses the limit; a body within the limit is buffered
    (it is at most the limit) and replayed to the application.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, {"status": 400, "error": "bad_request",
                                                 "reason": "Content-Length is not a number"})
                    return
                if declared > limit:
                    await _send_json(send, 413, too_large(limit))
                    return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                await _send_json(send, 413, too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
