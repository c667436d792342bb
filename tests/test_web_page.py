"""End to end: the real service in a child process, the page in headless Chromium.

Uses Debian's ``chromium`` through Python ``playwright`` (never
``playwright install``). Screenshots go to the test's tmp dir; with
``UNSPIN_UPDATE_SCREENSHOTS=1`` they are also copied to ``docs/img/``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unspin.service.local import LocalServer

pytestmark = pytest.mark.engine

#: Spun sentences, the brief's example first. The core is being tuned, so the
#: test uses the first one it flags (and fails if it flags none of them).
DEMO_TEXTS = (
    "The dying toll rose to 68 on Saturday, the ministry said.",
    "The dying toll rose to 68, the ministry stated.",
    "A spokesman stated the dying toll rose to 68.",
    "Officers talked about that 183 other folks have been cured and discharged.",
)
#: Lightly spun texts: one substitution in otherwise clean prose, where the document
#: model's P(spun) keeps a likely substitution under the operating point, so the
#: core lists it as a suspect. The test uses the first one with a suspect.
REVIEW_TEXTS = (
    "The government said on Tuesday it would extend the lockdown until May 3, as the "
    "assortment of cases crossed 10,000.",
    "The company stated on Monday that profits rose in the third quarter, helped by strong "
    "demand for its phones in China and Europe.",
    "Officials said the assortment of people in hospital fell for a third day, and schools "
    "would reopen next week.",
)
DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path
           ) -> Iterator[LocalServer]:
    """The service with a newsroom n-gram model (``--lm``), as the README recommends."""
    from unspin.evaluation.harness import ensure_ngram

    with LocalServer("--lm", str(ensure_ngram()),
                     log=tmp_path_factory.mktemp("web") / "serve.log") as srv:
        yield srv


@pytest.fixture(scope="module")
def spun(server: LocalServer) -> str:
    for text in DEMO_TEXTS:
        if _api_check(server, text)["spans"]:
            return text
    raise AssertionError(f"the core flags none of {DEMO_TEXTS}")


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("chromium not found: apt-get install -y --no-install-recommends "
                           "chromium (never `playwright install`)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            accept_downloads=True, viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


def _save(shot: Path, name: str) -> None:
    if os.environ.get("UNSPIN_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_IMG / name)


def _api_check(server: LocalServer, text: str) -> dict[str, Any]:
    import urllib.request

    req = urllib.request.Request(server.url + "/v1/check",
                                 data=json.dumps({"text": text, "mode": "full"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return dict(json.load(resp))


def _run_check(page: Any, server: LocalServer, text: str) -> None:
    page.goto(server.url + "/")
    page.fill("#text", text)
    page.click("#check")
    page.wait_for_selector("#results:not([hidden])")


def test_page_end_to_end(server: LocalServer, browser_context: Any, tmp_path: Path,
                         spun: str) -> None:
    expected = _api_check(server, spun)
    page = browser_context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    _run_check(page, server, spun)

    # Highlighted spans, one focusable button per flagged span, with aria labels.
    buttons = page.locator("#spun-text button.span")
    assert buttons.count() == len(expected["spans"])
    first = expected["spans"][0]
    assert buttons.nth(0).inner_text() == first["text"]
    assert first["restored"] in (buttons.nth(0).get_attribute("aria-label") or "")
    assert page.inner_text("#verdict-prob") == f"P(spun) = {expected['score']:.3f}"
    assert page.inner_text("#verdict-label") == (
        "Likely spun" if expected["spun"] else "Probably not spun")

    # Keyboard: Tab reaches the span, Enter opens its candidates.
    page.focus("#check")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('span')"):
            break
    assert page.evaluate("document.activeElement.dataset.span") == "0"
    page.keyboard.press("Enter")
    page.wait_for_selector("#details:not([hidden])")
    assert buttons.nth(0).get_attribute("aria-expanded") == "true"
    rows = page.locator("#cand-table tbody tr")
    assert rows.count() == len(first["candidates"])
    assert rows.nth(0).locator("td").nth(0).inner_text() == first["candidates"][0]["text"]
    assert first["restored"] in page.inner_text("#details-title")
    shot = tmp_path / "web-desktop.png"
    page.screenshot(path=str(shot), full_page=True)
    _save(shot, "web-desktop.png")
    page.keyboard.press("Escape")
    assert page.locator("#details").is_hidden()

    # Restored view and side-by-side diff.
    page.click("button[data-view=restored]")
    assert page.locator("#view-restored").is_visible()
    assert page.locator("#view-spun").is_hidden()
    assert page.inner_text("#restored-text") == expected["restored_text"]
    assert page.locator("#restored-text button.span.ins").count() == len(expected["edits"])
    page.click("button[data-view=diff]")
    assert page.locator("#diff-spun del").count() == len(expected["edits"])
    assert page.inner_text("#diff-restored") == expected["restored_text"]
    shot = tmp_path / "web-diff.png"
    page.screenshot(path=str(shot), full_page=True)
    _save(shot, "web-diff.png")

    # Downloads: the exact JSON, and the self-contained report.
    with page.expect_download() as dl:
        page.click("#dl-json")
    downloaded = json.loads(Path(dl.value.path()).read_text())
    assert downloaded["schema"] == "unspin.analysis/1"
    assert downloaded == expected
    with page.expect_download() as dl:
        page.click("#dl-html")
    report = Path(dl.value.path()).read_text()
    assert report.startswith("<!doctype html>") and "P(spun)" in report
    assert "<script" not in report

    # Nothing was fetched from anywhere but this server.
    assert requests and all(u.startswith(server.url) or u.startswith(("blob:", "data:"))
                            for u in requests), requests
    page.close()


def test_page_at_phone_width(server: LocalServer, browser_context: Any, tmp_path: Path,
                             spun: str) -> None:
    page = browser_context.new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    _run_check(page, server, spun)
    page.locator("#spun-text button.span").nth(0).click()
    page.wait_for_selector("#details:not([hidden])")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot = tmp_path / "web-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    _save(shot, "web-phone.png")
    page.close()


def test_upload_and_error_messages(server: LocalServer, browser_context: Any,
                                   tmp_path: Path) -> None:
    page = browser_context.new_page()
    page.goto(server.url + "/")
    good = tmp_path / "story.txt"
    good.write_text(DEMO_TEXTS[0], encoding="utf-8")
    page.set_input_files("#file", str(good))
    # the page's CSP forbids eval, so no string predicates: poll with a locator
    from playwright.sync_api import expect

    expect(page.locator("#text")).to_have_value(DEMO_TEXTS[0])
    assert page.input_value("#text") == DEMO_TEXTS[0]
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café".encode("latin-1"))
    page.set_input_files("#file", str(bad))
    page.wait_for_selector("#error:not([hidden])")
    assert "not valid UTF-8" in page.inner_text("#error")
    page.fill("#text", "   ")
    page.click("#check")
    assert "Paste some text" in page.inner_text("#error")
    page.close()


def test_suspects_are_outlined_apart_from_flags_and_never_applied(
        server: LocalServer, browser_context: Any) -> None:
    found = [(t, a) for t in REVIEW_TEXTS if (a := _api_check(server, t))["suspects"]]
    assert found, f"the core lists no suspect in any of {REVIEW_TEXTS}"
    text, expected = found[0]
    page = browser_context.new_page()
    _run_check(page, server, text)

    suspects = page.locator("#spun-text button.suspect")
    assert suspects.count() == len(expected["suspects"])
    assert page.locator("#spun-text button.span").count() == len(expected["spans"])
    first = expected["suspects"][0]
    assert suspects.nth(0).inner_text() == first["text"]
    label = suspects.nth(0).get_attribute("aria-label") or ""
    assert label.startswith("not flagged, for review") and first["restored"] in label
    assert f"{len(expected['suspects'])} for review" in page.inner_text("#verdict-detail")

    suspects.nth(0).click()
    page.wait_for_selector("#details:not([hidden])")
    assert "(for review)" in page.inner_text("#details-title")
    summary = page.inner_text("#details-summary")
    given = next(e["value"] for e in first["evidence"] if e["kind"] == "suspect")
    assert summary.startswith("Not flagged and not applied") and f"{given:.3f}" in summary
    rows = page.locator("#cand-table tbody tr")
    assert rows.count() == len(first["candidates"])
    assert any(li.startswith("suspect: ") for li in page.locator("#evidence-list li")
               .all_inner_texts())
    page.keyboard.press("Escape")
    assert page.locator("#details").is_hidden()

    # Never applied: the restored view is the core's restored text, and no suspect
    # appears in it or in the diff.
    page.click("button[data-view=restored]")
    assert page.inner_text("#restored-text") == expected["restored_text"]
    assert page.locator("#restored-text button.suspect").count() == 0
    page.click("button[data-view=diff]")
    assert page.locator("#diff-spun del").count() == len(expected["edits"])
    page.close()


def test_the_verdict_shows_the_document_evidence(server: LocalServer,
                                                 browser_context: Any) -> None:
    """A spun autoblog footer moves P(spun); the page says so under the verdict."""
    text = "Shares rose 3 percent on Tuesday, the company stated.\n\nSupply hyperlink"
    expected = _api_check(server, text)
    assert any(e["kind"] == "verdict" for e in expected["evidence"])
    page = browser_context.new_page()
    _run_check(page, server, text)
    items = page.locator("#doc-evidence li").all_inner_texts()
    assert items == [f"{e['kind']}: {e['detail']}" for e in expected["evidence"]]
    assert page.locator("#doc-evidence").is_visible()
    _run_check(page, server, "Shares rose 3 percent on Tuesday.")
    assert page.locator("#doc-evidence li").count() == 0
    assert page.locator("#doc-evidence").is_hidden()
    page.close()
