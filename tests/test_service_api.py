"""The HTTP service over real HTTP on 127.0.0.1.

Most tests talk to ``unspin serve`` started in a child process (so the
middleware, uvicorn and the thread pool are all the real ones). Two states
cannot be produced on demand from outside (resources still loading, an
unexpected exception), so those tests run the same app in-process under a
real uvicorn server on a loopback port with a swapped loader/core.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import unspin
from unspin.service.local import LocalServer, free_port, get_json

SPUN = "The dying toll rose to 68, the ministry stated."
EXAMPLE = (Path(unspin.__file__).parent / "examples" / "spun_news.txt").read_text()


def request(url: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None,
            timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post_json(url: str, path: str, obj: Any, timeout: float = 60.0
              ) -> tuple[int, dict[str, str], Any]:
    status, headers, raw = request(url, "POST", path, json.dumps(obj).encode(),
                                   {"Content-Type": "application/json"}, timeout)
    return status, headers, json.loads(raw)


def assert_json_error(status: int, body: Any, expected: int) -> None:
    assert status == expected, body
    assert body["status"] == expected
    assert isinstance(body["reason"], str) and body["reason"]
    text = json.dumps(body)
    assert "Traceback" not in text and 'File "' not in text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    log = tmp_path_factory.mktemp("svc") / "serve.log"
    with LocalServer("--max-chars", "5000", "--max-body", "20000", "--max-upload", "50000",
                     log=log) as srv:
        yield srv


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One slot, one worker, a 0.5 s budget: saturation and timeouts on demand."""
    log = tmp_path_factory.mktemp("svc") / "tight.log"
    with LocalServer("--max-in-flight", "1", "--workers", "1", "--timeout", "0.5",
                     "--max-chars", "400000", "--max-body", "2000000", log=log) as srv:
        yield srv


# --- contract ------------------------------------------------------------------


def test_health_version_openapi(server: LocalServer) -> None:
    status, body = get_json(server.url + "/health")
    assert status == 200 and body["status"] == "ready"
    status, body = get_json(server.url + "/version")
    assert status == 200
    assert body == {"unspin": unspin.__version__, "analysis_schema": "unspin.analysis/1",
                    "api": "v1", "trace": False}
    status, doc = get_json(server.url + "/openapi.json")
    assert status == 200
    assert {"/v1/check", "/v1/restore", "/v1/extract", "/v1/report", "/health",
            "/version"} <= set(doc["paths"])
    assert "/v1/trace" not in doc["paths"]  # only with --index


def test_check_is_exactly_analysis_to_json(server: LocalServer) -> None:
    for mode in ("full", "screen"):
        status, _, body = post_json(server.url, "/v1/check", {"text": SPUN, "mode": mode})
        assert status == 200
        assert body == json.loads(json.dumps(unspin.check(SPUN, mode=mode).to_json()))
        assert body["schema"] == "unspin.analysis/1"


def test_restore_and_report(server: LocalServer) -> None:
    status, _, body = post_json(server.url, "/v1/restore", {"text": SPUN})
    assert status == 200
    assert body == {"restored_text": unspin.restore(SPUN)}
    status, headers, raw = request(server.url, "POST", "/v1/report",
                                   json.dumps({"text": SPUN}).encode(),
                                   {"Content-Type": "application/json"})
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "attachment" in headers["content-disposition"]
    page = raw.decode()
    assert page.startswith("<!doctype html>") and "P(spun)" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_report_lists_suspects_apart_from_flags(server: LocalServer) -> None:
    import html

    expected = unspin.check(EXAMPLE).to_json()  # the server runs the same default model
    assert expected["suspects"], "the bundled example lists no suspect under the default model"
    status, _, raw = request(server.url, "POST", "/v1/report",
                             json.dumps({"text": EXAMPLE}).encode(),
                             {"Content-Type": "application/json"})
    assert status == 200
    page = raw.decode()
    # each suspect outlined once in the text and once in its table, never as a flag
    assert page.count('<mark class="review"') == 2 * len(expected["suspects"])
    assert "For review: not flagged, not applied" in page
    assert f"{len(expected['suspects'])} for review" in page
    for s in expected["suspects"]:
        assert f">{html.escape(s['text'])}</mark>" in page
    assert page.count("<ins ") == len(expected["spans"])  # restored text: flags only


def test_page_and_static_files_are_local(server: LocalServer) -> None:
    status, headers, raw = request(server.url, "GET", "/")
    assert status == 200 and "default-src 'self'" in headers["content-security-policy"]
    html = raw.decode()
    assert "/static/app.js" in html and "/static/style.css" in html
    assert "https://" not in html and "//cdn" not in html
    for path in ("/static/app.js", "/static/style.css"):
        status, _, raw = request(server.url, "GET", path)
        assert status == 200 and b"https://" not in raw


# --- input errors: 4xx with a reason, never a stack trace ------------------------


@pytest.mark.parametrize(("body", "needle"), [
    (b"not json", "expected JSON"),
    (b'{"mode": "full"}', "text"),
    (b'{"text": "x", "mode": "fast"}', "mode"),
    (b'{"text": 42}', "text"),
    (b'{"text": "x", "extra": 1}', "extra"),
    (b'{"text": "\\ud800 dying toll"}', "surrogate"),
    (b'{"text": "   "}', "empty"),
    (b'{"text": "\\u0000\\u0000 binary"}', "NUL"),
])
def test_bad_input_is_422_with_reason(server: LocalServer, body: bytes, needle: str) -> None:
    status, _, raw = request(server.url, "POST", "/v1/check", body,
                             {"Content-Type": "application/json"})
    payload = json.loads(raw)
    assert_json_error(status, payload, 422)
    assert needle in payload["reason"]


def test_text_over_max_chars_is_422_with_the_core_reason(server: LocalServer) -> None:
    status, _, body = post_json(server.url, "/v1/check", {"text": "word " * 1200})
    assert_json_error(status, body, 422)
    assert "over the cap of 5,000" in body["reason"]


def test_unknown_path_and_method_are_json(server: LocalServer) -> None:
    status, _, raw = request(server.url, "GET", "/nope")
    assert_json_error(status, json.loads(raw), 404)
    status, _, raw = request(server.url, "GET", "/v1/check")
    assert_json_error(status, json.loads(raw), 405)


# --- body size: 413 on the raw bytes, before JSON parsing ---------------------------


def test_declared_body_over_limit_is_413(server: LocalServer) -> None:
    body = json.dumps({"text": "a" * 30_000}).encode()
    status, _, raw = request(server.url, "POST", "/v1/check", body,
                             {"Content-Type": "application/json"})
    assert_json_error(status, json.loads(raw), 413)


def test_chunked_body_over_limit_is_413_and_not_parsed(server: LocalServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):  # 40 KB, no Content-Length: only the running count can stop it
            yield b"a" * 1000
        yield b'"}'

    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", "/v1/check", body=chunks(), encode_chunked=True,
                     headers={"Content-Type": "application/json",
                              "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        assert_json_error(resp.status, json.loads(resp.read()), 413)
    finally:
        conn.close()
    # A chunked body within the limit is replayed intact to the endpoint.
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", "/v1/restore", body=iter([b'{"text": ', json.dumps(SPUN).encode(),
                                                      b"}"]),
                     encode_chunked=True, headers={"Content-Type": "application/json",
                                                   "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read()) == {"restored_text": unspin.restore(SPUN)}
    finally:
        conn.close()


def test_oversized_non_json_is_413_before_any_parsing(server: LocalServer) -> None:
    status, _, raw = request(server.url, "POST", "/v1/check", b"\xff" * 25_000,
                             {"Content-Type": "application/json"})
    assert_json_error(status, json.loads(raw), 413)


# --- uploads ----------------------------------------------------------------------


def _minimal_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return bytes(out)


@pytest.mark.parametrize(("kind", "data", "expected"), [
    ("txt", SPUN.encode("utf-8"), SPUN),
    ("txt", "\ufeff".encode() + SPUN.encode(), SPUN),
    ("html", (f"<html><head><title>t</title></head><body><article><p>{SPUN} "
              "Officials gave no further details about the storm.</p></article>"
              "</body></html>").encode(), "dying toll"),
    ("pdf", _minimal_pdf(SPUN.replace(",", "")), "dying toll"),
])
def test_extract(server: LocalServer, kind: str, data: bytes, expected: str) -> None:
    status, _, raw = request(server.url, "POST", f"/v1/extract?kind={kind}", data,
                             {"Content-Type": "application/octet-stream"})
    body = json.loads(raw)
    assert status == 200, body
    assert expected in body["text"] and body["kind"] == kind


@pytest.mark.parametrize(("kind", "data", "needle"), [
    ("txt", "café".encode("latin-1"), "not valid UTF-8"),
    ("txt", b"", "empty"),
    ("pdf", b"%PDF-1.4 garbage that is not a pdf", "PDF"),
    ("pdf", b"hello", "not a PDF"),
    ("doc", b"hello", "kind"),
])
def test_extract_errors_are_4xx_with_reason(server: LocalServer, kind: str, data: bytes,
                                            needle: str) -> None:
    status, _, raw = request(server.url, "POST", f"/v1/extract?kind={kind}", data,
                             {"Content-Type": "application/octet-stream"})
    body = json.loads(raw)
    assert_json_error(status, body, 422)
    assert needle in body["reason"]


def test_upload_over_limit_is_413(server: LocalServer) -> None:
    status, _, raw = request(server.url, "POST", "/v1/extract?kind=txt", b"a" * 60_000,
                             {"Content-Type": "application/octet-stream"})
    assert_json_error(status, json.loads(raw), 413)


# --- trace ------------------------------------------------------------------------


def test_trace_without_a_usable_index_is_503_with_reason(tmp_path: Path) -> None:
    with LocalServer("--index", str(tmp_path / "no-index-here")) as srv:
        status, doc = get_json(srv.url + "/openapi.json")
        assert "/v1/trace" in doc["paths"]
        status, _, body = post_json(srv.url, "/v1/trace", {"text": SPUN})
        assert_json_error(status, body, 503)
        assert "trace" in body["reason"]


# --- saturation and timeouts ------------------------------------------------------


def _wait_in_flight(url: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get_json(url + "/health")[1].get("in_flight") == n:
            return
        time.sleep(0.02)
    raise AssertionError(f"in_flight never reached {n}")


def test_timeout_504_then_saturation_503_with_retry_after(tight: LocalServer) -> None:
    long_text = (EXAMPLE + "\n\n") * 120  # ~280k characters in full mode: seconds of work
    result: dict[str, Any] = {}

    def slow() -> None:
        started = time.monotonic()
        status, _, body = post_json(tight.url, "/v1/check", {"text": long_text, "mode": "full"})
        result.update(status=status, body=body, seconds=time.monotonic() - started)

    worker = threading.Thread(target=slow)
    worker.start()
    _wait_in_flight(tight.url, 1, 10)
    # The only slot is taken: refused at once, told when to retry.
    status, headers, body = post_json(tight.url, "/v1/check", {"text": SPUN, "mode": "screen"})
    assert_json_error(status, body, 503)
    assert headers["retry-after"] == "1"
    worker.join(30)
    assert_json_error(result["status"], result["body"], 504)
    assert result["seconds"] < 3  # answered at the budget, not when the work ended
    # The timed-out work still holds its slot until its thread finishes.
    status, body = get_json(tight.url + "/health")
    assert status == 200  # the event loop stays responsive while the core is busy
    if body["in_flight"] == 1:
        status, headers, body = post_json(tight.url, "/v1/check", {"text": SPUN})
        assert_json_error(status, body, 503)
        assert "retry-after" in headers
    _wait_in_flight(tight.url, 0, 120)
    status, _, body = post_json(tight.url, "/v1/check", {"text": SPUN, "mode": "screen"})
    assert status == 200 and body["schema"] == "unspin.analysis/1"


# --- in-process app under real uvicorn: loading state and the catch-all -------------


class _InProcessServer:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="critical"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _InProcessServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "in-process server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_health_says_loading_until_resources_are_ready() -> None:
    from unspin.service.app import ServiceSettings, create_app

    release = threading.Event()

    def slow_load(_: object) -> None:
        release.wait(20)

    with _InProcessServer(create_app(ServiceSettings(), load=slow_load)) as srv:
        status, body = get_json(srv.url + "/health")
        assert (status, body) == (503, {"status": "loading"})
        status, headers, payload = post_json(srv.url, "/v1/check", {"text": SPUN})
        assert_json_error(status, payload, 503)
        assert payload["error"] == "loading" and "retry-after" in headers
        release.set()
        deadline = time.monotonic() + 10
        while get_json(srv.url + "/health")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_failed_loading_is_reported_not_hidden() -> None:
    from unspin.errors import ResourceError
    from unspin.service.app import ServiceSettings, create_app

    def broken(_: object) -> None:
        raise ResourceError("resource cache missing: run `unspin resources build`")

    with _InProcessServer(create_app(ServiceSettings(), load=broken)) as srv:
        deadline = time.monotonic() + 10
        while (health := get_json(srv.url + "/health"))[1]["status"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert health[0] == 503 and "unspin resources build" in health[1]["reason"]
        status, _, body = post_json(srv.url, "/v1/check", {"text": SPUN})
        assert_json_error(status, body, 503)


def test_unexpected_exception_is_json_500_without_stack_trace() -> None:
    from unspin.service.app import ServiceSettings, create_app

    def crash(text: str, config: object) -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    app = create_app(ServiceSettings(), load=lambda _: None, analyze=crash)
    with _InProcessServer(app) as srv:
        deadline = time.monotonic() + 10
        while get_json(srv.url + "/health")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        status, _, body = post_json(srv.url, "/v1/check", {"text": SPUN})
        assert_json_error(status, body, 500)
        assert "secret" not in body["reason"] and "RuntimeError" not in body["reason"]


def test_import_unspin_stays_light() -> None:
    code = ("import sys, unspin; bad = [m for m in ('fastapi', 'uvicorn', 'starlette', "
            "'spacy', 'trafilatura', 'pypdf') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
