"""The HTTP service: a thin FastAPI adapter over ``unspin.check``.

Design, in the order a request meets it:

1. :class:`~unspin.service.limits.BodyLimit` refuses an oversized body (413)
   on the raw bytes, before FastAPI parses any JSON, for declared and chunked
   uploads alike.
2. FastAPI validates the JSON shape (422 with a one-line reason).
3. Until the resources have loaded and one warm-up text per mode has been
   analysed (a background thread started with the app), analysis endpoints
   answer 503 ``loading`` and ``GET /health`` says so.
4. The request takes a concurrency slot or gets 503 with ``Retry-After``.
5. The core runs in a small thread pool (it is CPU-bound Python; the event
   loop stays free to answer health checks and refuse work) under a timeout
   (504). A timed-out call keeps its slot until its thread finishes.
6. ``unspin.InputError`` from the core becomes 422 with the core's message;
   anything unexpected becomes a JSON 500 with an error id, never a trace.

The service never opens a path a client names and never unpickles or loads a
model from request data: the only files it reads are its own static page,
the resource cache, and the trace index chosen by whoever started it.

Nothing here decides anything about spinning; every number in a response is
``Analysis.to_json()`` exactly as the library returns it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from unspin import __version__
from unspin.config import MODES, Config
from unspin.core import require_unicode
from unspin.errors import InputError, ResourceError, UnspinError
from unspin.service.limits import BodyLimit, Limits, Slots
from unspin.types import ANALYSIS_SCHEMA, Analysis

log = logging.getLogger("unspin.service")

STATIC = Path(__file__).resolve().with_name("static")
T = TypeVar("T")

#: Content-Security-Policy of the web page: everything from this origin, no
#: inline script, nothing from anywhere else.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")
#: The downloadable report has inline CSS only and no script at all.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"


def _valid_unicode(text: str) -> str:
    """JSON can carry lone UTF-16 surrogates; refuse them at the boundary (the core's rule)."""
    try:
        require_unicode(text)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return text


class CheckRequest(BaseModel):
    """A text to analyse and the speed/accuracy mode."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="The text to analyse (a str; the service never reads files).")
    mode: Literal["screen", "full"] = Field(
        "full", description="screen: fast, for crawls; full: every token examined.")

    _unicode = field_validator("text")(_valid_unicode)


class TraceRequest(BaseModel):
    """A (possibly spun) text to trace to its source in the server's index."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="The text whose source to look for.")

    _unicode = field_validator("text")(_valid_unicode)


class ApiError(Exception):
    """An error with an HTTP status and a reason a client can act on."""

    def __init__(self, status: int, error: str, reason: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.headers = headers or {}


def error_body(status: int, error: str, reason: str) -> dict[str, Any]:
    return {"status": status, "error": error, "reason": reason}


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the service is started with (the CLI builds this)."""

    limits: Limits = field(default_factory=Limits)
    #: Base analysis config (cache dir, sources, ...); ``mode`` and
    #: ``max_chars`` are set per request from the body and the limits.
    config: Config = field(default_factory=Config)
    #: Trace index directory; ``None`` means ``POST /v1/trace`` does not exist.
    index_dir: str | None = None


class _Readiness:
    """What the background loader has achieved so far (thread-safe reads)."""

    def __init__(self) -> None:
        self.status = "loading"
        self.reason = ""
        self.seconds = 0.0
        self.ready = threading.Event()


#: Analysed once per mode at startup. ``get_bundle`` opens the tables, but some
#: libraries load on first use (lemminflect, and through it spaCy/thinc when
#: they are installed); without this the first client pays seconds for it.
WARMUP_TEXT = "The dying toll rose to 68, the ministry stated."


def _load_resources(config: Config) -> None:
    from unspin.core import analyze
    from unspin.resources.bundle import get_bundle

    get_bundle(config)
    for mode in MODES:
        analyze(WARMUP_TEXT, config.merged(mode=mode))


def _extract_text(data: bytes, kind: str) -> str:
    """Bytes of an uploaded file to text: the same extraction as ``unspin scan``."""
    from unspin.io.records import extract_text

    try:
        return extract_text(data, kind)
    except InputError as exc:
        raise InputError(f"upload: {exc}") from None


def _trace_api() -> tuple[Callable[[str | Path], Any], Callable[[str, Any], Any]]:
    """``(Index, trace)`` from :mod:`unspin.trace`; ImportError if not there yet."""
    import importlib

    mod = importlib.import_module("unspin.trace")
    try:
        return mod.Index, mod.trace
    except AttributeError as exc:
        raise ImportError(f"unspin.trace has no {exc.name!r}") from None


def create_app(settings: ServiceSettings | None = None, *,
               load: Callable[[Config], object] = _load_resources,
               analyze: Callable[[str, Config], Analysis] | None = None) -> FastAPI:
    """Build the ASGI app. ``load`` and ``analyze`` are the core's functions
    unless a test swaps them (e.g. a loader that blocks, to observe
    ``loading``)."""
    settings = settings or ServiceSettings()
    limits = settings.limits
    configs = {m: settings.config.merged(mode=m, max_chars=limits.max_text_chars)
               for m in MODES}
    if analyze is None:
        from unspin.core import analyze as core_analyze

        analyze = core_analyze
    run_core: Callable[[str, Config], Analysis] = analyze
    readiness = _Readiness()
    slots = Slots(limits.max_in_flight)
    executor = concurrent.futures.ThreadPoolExecutor(limits.workers,
                                                     thread_name_prefix="unspin-core")
    trace_state: dict[str, Any] = {"index": None, "trace": None,
                                   "reason": "trace index is still opening"}

    def background_load() -> None:
        t0 = time.perf_counter()
        try:
            load(settings.config)
        except Exception as exc:  # the reason goes to /health, not a stack trace
            log.exception("resource loading failed")
            readiness.reason = f"{type(exc).__name__}: {exc}"
            readiness.status = "error"
            return
        readiness.seconds = time.perf_counter() - t0
        readiness.status = "ready"
        readiness.ready.set()
        if settings.index_dir is not None:
            try:
                index_cls, trace_fn = _trace_api()
            except ImportError as exc:
                trace_state["reason"] = (f"tracing is not available in this install "
                                         f"(unspin.trace: {exc}); upgrade unspin")
                return
            try:
                trace_state["index"] = index_cls(settings.index_dir)
                trace_state["trace"] = trace_fn
            except (UnspinError, OSError) as exc:
                trace_state["reason"] = f"trace index could not be opened: {exc}"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=background_load, name="unspin-load", daemon=True).start()
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="unspin",
        version=__version__,
        description="Find machine-spun text (tortured phrases) and restore the original "
                    "wording. Limits and errors: docs/service.md.",
        lifespan=lifespan,
        docs_url=None,  # the Swagger/ReDoc pages load assets from a CDN; the
        redoc_url=None,  # OpenAPI document itself is at /openapi.json
    )

    def limit_for(path: str) -> int:
        return limits.max_upload_bytes if path == "/v1/extract" else limits.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=limit_for)

    @app.middleware("http")
    async def security_headers(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path == "/" or request.url.path.startswith("/static/"):
            response.headers["Content-Security-Policy"] = PAGE_CSP
        return response

    # --- errors: always JSON with a reason, never a stack trace -------------

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.error, exc.reason), exc.status,
                            headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(exc.status_code, name, str(exc.detail)), exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        reason = "; ".join(parts) + (
            ' (expected JSON like {"text": "...", "mode": "screen"})' if parts else "")
        return JSONResponse(error_body(422, "invalid_request", reason), 422)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.error("unexpected error %s: %r", error_id, exc, exc_info=exc)
        return JSONResponse(error_body(500, "internal_error",
                                       f"unexpected server error (id {error_id}); "
                                       "the server log has the details"), 500)

    # --- running the core --------------------------------------------------

    def busy() -> ApiError:
        return ApiError(503, "busy", f"all {slots.size} analysis slots are busy; retry in "
                        f"{limits.retry_after_s} s",
                        {"Retry-After": str(limits.retry_after_s)})

    async def run(fn: Callable[..., T], *args: Any) -> T:
        if not readiness.ready.is_set():
            if readiness.status == "error":
                raise ApiError(503, "resources_unavailable",
                               f"resources failed to load: {readiness.reason}")
            raise ApiError(503, "loading", "resources are still loading; retry shortly",
                           {"Retry-After": str(limits.retry_after_s)})
        if not slots.try_take():
            raise busy()
        try:
            future = executor.submit(fn, *args)
        except RuntimeError:  # executor shut down
            slots.give_back()
            raise busy() from None
        future.add_done_callback(lambda _: slots.give_back())
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), limits.timeout_s)
        except TimeoutError:
            raise ApiError(504, "timeout",
                           f"analysis took longer than {limits.timeout_s:g} s; send a "
                           "shorter text or use mode=screen") from None
        except InputError as exc:
            raise ApiError(422, "invalid_input", str(exc)) from None
        except ResourceError as exc:
            raise ApiError(503, "resources_unavailable", str(exc)) from None
        except UnspinError as exc:
            raise ApiError(422, "invalid_input", str(exc)) from None

    async def analysis_of(body: CheckRequest) -> Analysis:
        return await run(run_core, body.text, configs[body.mode])

    # --- endpoints ----------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/health", summary="Readiness: 200 once resources are loaded, else 503")
    async def health() -> JSONResponse:
        if readiness.status == "ready":
            return JSONResponse({"status": "ready", "load_seconds": round(readiness.seconds, 3),
                                 "in_flight": slots.taken, "max_in_flight": slots.size})
        body: dict[str, Any] = {"status": readiness.status}
        if readiness.reason:
            body["reason"] = readiness.reason
        return JSONResponse(body, 503, headers={"Retry-After": str(limits.retry_after_s)})

    @app.get("/version", summary="Package version and the JSON schema tag")
    async def version() -> dict[str, Any]:
        return {"unspin": __version__, "analysis_schema": ANALYSIS_SCHEMA, "api": "v1",
                "trace": settings.index_dir is not None}

    @app.get("/v1/limits", summary="The limits this server enforces")
    async def get_limits() -> dict[str, Any]:
        return {"max_body_bytes": limits.max_body_bytes,
                "max_upload_bytes": limits.max_upload_bytes,
                "max_text_chars": limits.max_text_chars, "timeout_s": limits.timeout_s,
                "max_in_flight": limits.max_in_flight}

    @app.post("/v1/check", summary="Analyse a text: exactly Analysis.to_json()")
    async def check(body: CheckRequest) -> dict[str, Any]:
        return (await analysis_of(body)).to_json()

    @app.post("/v1/restore", summary="Just the restored text")
    async def restore(body: CheckRequest) -> dict[str, str]:
        return {"restored_text": (await analysis_of(body)).restored_text}

    @app.post("/v1/report", summary="A self-contained HTML report of one analysis",
              response_class=HTMLResponse)
    async def report(body: CheckRequest) -> HTMLResponse:
        from unspin.report.html_page import render_page

        html = render_page(await analysis_of(body))
        return HTMLResponse(html, headers={
            "Content-Disposition": 'attachment; filename="unspin-report.html"',
            "Content-Security-Policy": REPORT_CSP})

    @app.post(
        "/v1/extract",
        summary="Text of an uploaded .txt/.html/.pdf (the raw file is the request body)",
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
    )
    async def extract(
        request: Request,
        kind: Literal["txt", "html", "pdf"] = Query(
            description="file type: txt (strict UTF-8/UTF-16 with BOM), html or pdf"),
    ) -> dict[str, Any]:
        data = await request.body()  # already bounded by BodyLimit
        if not data:
            raise ApiError(422, "invalid_input", "upload is empty: choose a non-empty file")
        text = await run(_extract_text, data, kind)
        if len(text) > limits.max_text_chars:
            raise ApiError(413, "text_too_long",
                           f"the file holds {len(text):,} characters, over the "
                           f"{limits.max_text_chars:,}-character limit; split it")
        return {"kind": kind, "chars": len(text), "text": text}

    if settings.index_dir is not None:

        @app.post("/v1/trace", summary="Find the source of a spun text in the server's index")
        async def trace(body: TraceRequest) -> Any:
            index, trace_fn = trace_state["index"], trace_state["trace"]
            if index is None or trace_fn is None:
                raise ApiError(503, "trace_unavailable", str(trace_state["reason"]))
            result = await run(trace_fn, body.text, index)
            return result.to_json() if hasattr(result, "to_json") else result

    return app
