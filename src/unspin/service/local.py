"""Run the service in a child process on 127.0.0.1 (tests, benchmarks, demos).

:class:`LocalServer` starts ``python -m unspin.cli.serve`` on a free loopback
port, waits until ``GET /health`` answers (ready, or at least listening), and
stops the process it started, by its pid, on exit. Only loopback addresses
are ever used.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` of a GET; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status), dict(json.load(resp))
    except urllib.error.HTTPError as err:
        return int(err.code), dict(json.load(err))


class LocalServer:
    """``with LocalServer("--max-in-flight", "1") as srv: srv.url``."""

    def __init__(self, *args: str, wait_ready: bool = True, startup_timeout: float = 120.0,
                 log: Path | None = None) -> None:
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_ready = wait_ready
        self.startup_timeout = startup_timeout
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        #: Every /health status seen while waiting, in order.
        self.health_seen: list[tuple[int, dict[str, Any]]] = []

    def __enter__(self) -> LocalServer:
        cmd = [sys.executable, "-m", "unspin.cli.serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--log-level", "warning", *self.args]
        self._log_file = open(self.log, "wb") if self.log else None
        self.proc = subprocess.Popen(
            cmd, stdout=self._log_file or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log_file else subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"unspin serve exited with {self.proc.returncode}"
                                   + (f"; see {self.log}" if self.log else ""))
            try:
                status, body = get_json(self.url + "/health", timeout=2.0)
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            self.health_seen.append((status, body))
            if status == 200 or not self.wait_ready:
                return
            if body.get("status") == "error":
                raise RuntimeError(f"service failed to load resources: {body.get('reason')}")
            time.sleep(0.05)
        raise TimeoutError(f"service at {self.url} not ready after {self.startup_timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
