"""One-line errors for every ``unspin`` sub-command.

Expected failures (bad input, missing files, unparseable lists) become one
line on stderr, ``unspin: error: <reason>``, and a non-zero exit; nothing a
user does should produce a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from unspin.errors import UnspinError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print the one-line error; return the Exit to raise."""
    typer.echo(f"unspin: error: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into one stderr line and exit status 1 (130 on ^C)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except (UnspinError, ValueError) as exc:
            raise fail(str(exc)) from None
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            raise fail(f"{exc.strerror or exc}{where}") from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except Exception as exc:  # last resort: still one line, and say it is a bug
            raise fail(f"internal error ({type(exc).__name__}: {exc}); please report it",
                       2) from None

    return wrapper
