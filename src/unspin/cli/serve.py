"""``unspin serve``: run the HTTP service and web page with uvicorn.

A thin adapter: it builds :class:`~unspin.service.limits.Limits` and a
:class:`~unspin.config.Config` from the options and hands them to
:func:`unspin.service.app.create_app`. The default host is 127.0.0.1; binding
anything else is a deliberate choice made on the command line.

Run standalone as ``python -m unspin.cli.serve``; the main ``unspin`` command
mounts it with :func:`register`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from unspin.service.limits import Limits

_D = Limits()


def serve(
    host: Annotated[str, typer.Option("--host", help="interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    index: Annotated[str | None, typer.Option(
        "--index", help="trace index directory; enables POST /v1/trace.")] = None,
    cache: Annotated[str | None, typer.Option("--cache", help="resource cache directory.")] = None,
    lm: Annotated[str | None, typer.Option(
        "--lm", help="n-gram model from `unspin lm build` (default: the shipped one).")] = None,
    workers: Annotated[int, typer.Option("--workers", help="threads running the core.")] = (
        _D.workers),
    max_in_flight: Annotated[int, typer.Option(
        "--max-in-flight", help="requests in the core at once; beyond: 503 + Retry-After.")] = (
        _D.max_in_flight),
    timeout: Annotated[float, typer.Option(
        "--timeout", help="seconds per request; beyond: 504.")] = _D.timeout_s,
    max_body: Annotated[int, typer.Option(
        "--max-body", help="bytes per JSON request body; beyond: 413.")] = _D.max_body_bytes,
    max_upload: Annotated[int, typer.Option(
        "--max-upload", help="bytes per uploaded file; beyond: 413.")] = _D.max_upload_bytes,
    max_chars: Annotated[int, typer.Option(
        "--max-chars", help="characters per text; beyond: 422.")] = _D.max_text_chars,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API and the web page (http://HOST:PORT/)."""
    import uvicorn

    from unspin.config import Config
    from unspin.service.app import ServiceSettings, create_app

    limits = Limits(max_body_bytes=max_body, max_upload_bytes=max_upload,
                    max_text_chars=max_chars, timeout_s=timeout, max_in_flight=max_in_flight,
                    workers=workers)
    settings = ServiceSettings(limits=limits, config=Config(cache_dir=cache, ngram_path=lm),
                               index_dir=index)
    typer.echo(f"unspin: serving on http://{host}:{port}/ (loading resources in the background;"
               " GET /health says when ready)", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                access_log=False, server_header=False)


def register(root: typer.Typer) -> None:
    """Add ``serve`` to the main ``unspin`` command."""
    root.command("serve")(serve)


if __name__ == "__main__":
    _app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    _app.command()(serve)
    _app()
