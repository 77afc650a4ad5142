"""The real server on 127.0.0.1: JSON API over HTTP, safety rules, pages in headless Chromium."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="the web test dependencies are not installed")
pytest.importorskip("fastapi", reason="the web extra is not installed")
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, settings  # noqa: E402

from samestory import Document, Index  # noqa: E402
from samestory.samples import load as load_samples  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
XSS_TEXT = (
    "Officials said the <script>window.__pwned = 1</script> plan would change nothing. "
    '<img src=x onerror="window.__pwned = 2"> The council met on <b onmouseover="window.__pwned=3">'
    "Tuesday</b> and voted for the budget after a long debate about roads and schools."
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(db: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "samestory.cli", "serve", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen([*cmd, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"server exited: {out}")
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web") / "index.db"
    with Index(path) as index:
        index.add(load_samples())
        index.add([Document(XSS_TEXT, id="xss", title='<script>alert("t")</script> Council')])
    return path


@pytest.fixture(scope="module")
def server(db: Path) -> Iterator[str]:
    proc, base = _start(db)
    yield base
    _stop(proc)


def test_compare_api_matches_the_cli_json(server):
    a, b = load_samples()[0], load_samples()[1]
    r = httpx.post(server + "/api/compare", json={"a": a.text, "b": b.text}, timeout=60)
    assert r.status_code == 200
    body = r.json()
    assert {"verdict", "scores", "origin", "passages", "unique_a", "unique_b", "cleaning"} <= set(
        body
    )
    from samestory import compare

    assert body["verdict"] == compare(a.text, b.text).verdict


def test_query_add_get_delete_roundtrip(server):
    original = load_samples()[0]
    r = httpx.post(server + "/api/query", json={"text": original.text, "top": 5})
    assert r.status_code == 200
    matches = r.json()["matches"]
    assert matches and matches[0]["id"] == original.id
    new = {"text": "A brand new article about a bridge opening in a small town. " * 5, "id": "n1"}
    r = httpx.post(server + "/api/documents", json=[new])
    assert r.status_code == 201 and r.json()["ids"] == ["n1"]
    assert httpx.get(server + "/api/documents/n1").json()["text"] == new["text"]
    assert httpx.delete(server + "/api/documents/n1").status_code == 200
    r = httpx.get(server + "/api/documents/n1")
    assert r.status_code == 404 and "n1" in r.json()["error"]


def test_query_api_answers_fast_verdicts_and_every_score_on_request(server):
    wire = {d.id: d for d in load_samples()}["fish-wire"]
    fast = httpx.post(server + "/api/query", json={"text": wire.text, "top": 5}).json()["matches"]
    body = {"text": wire.text, "top": 5, "detail": True}
    full = httpx.post(server + "/api/query", json=body).json()["matches"]
    assert {m["id"]: m["verdict"] for m in fast} == {m["id"]: m["verdict"] for m in full}
    assert all(isinstance(m["overall"], float) for m in full)
    itself = next(m for m in fast if m["id"] == "fish-wire")
    assert itself["verdict"] == "duplicate" and itself["overall"] is None
    assert set(itself["scores"]) == {"jaccard", "containment_a", "containment_b"}


def test_worker_processes_share_the_pasted_queries(db):
    wire = {d.id: d for d in load_samples()}["fish-wire"]
    proc, base = _start(db, "--workers", "2")
    try:
        # a fresh process loads word lists and compiles kernels on its first query: be patient
        page = httpx.post(base + "/results", data={"text": wire.text}, timeout=120)
        link = re.search(r'href="(/compare\?q=[^"]+)"', page.text)
        assert page.status_code == 200 and link is not None
        for _ in range(6):  # new connections, answered by either process
            r = httpx.get(base + link.group(1).replace("&amp;", "&"), timeout=120)
            assert r.status_code == 200 and "expired" not in r.text
        r = httpx.post(base + "/api/query", json={"text": wire.text}, timeout=120)
        assert r.json()["matches"][0]["id"] == "fish-wire"
    finally:
        _stop(proc)


def test_stats_and_clusters(server):
    stats = httpx.get(server + "/api/stats").json()
    # samples whose cleaned text is identical are stored once
    assert len(load_samples()) - 3 <= stats["documents"] <= len(load_samples()) + 1
    assert "clusters" in httpx.get(server + "/api/clusters").json()
    assert "stories" in httpx.get(server + "/api/stories").json()


def test_errors_are_json_without_traces(server):
    r = httpx.post(
        server + "/api/compare", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "error" in r.json()
    r = httpx.post(server + "/api/compare", json={"a": "x"})
    assert r.status_code == 422 and "b" in r.json()["error"]
    r = httpx.post(server + "/api/compare", content=b"x" * (3 * 1024 * 1024))
    assert r.status_code == 413 and "too large" in r.json()["error"]
    r = httpx.get(server + "/api/documents/..%2F..%2Fetc%2Fpasswd")
    assert r.status_code == 404
    assert "Traceback" not in r.text


def test_openapi_schema_lists_the_api(server):
    paths = httpx.get(server + "/openapi.json").json()["paths"]
    for path in ("/api/compare", "/api/query", "/api/documents", "/api/stats", "/api/clusters"):
        assert path in paths


def test_token_and_read_only(db, tmp_path):
    assert (
        subprocess.run(
            [sys.executable, "-m", "samestory.cli", "serve", "--db", str(db), "--host", "0.0.0.0"],
            capture_output=True,
            text=True,
            timeout=60,
        ).returncode
        == 2
    )
    proc, base = _start(db, "--token", "s3cret", "--read-only")
    try:
        assert httpx.get(base + "/api/stats").status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        assert httpx.get(base + "/api/stats", headers=auth).status_code == 200
        r = httpx.post(base + "/api/documents", json={"text": "x y z"}, headers=auth)
        assert r.status_code == 403 and "read-only" in r.json()["error"]
    finally:
        _stop(proc)


def test_no_input_makes_the_api_fail_with_a_server_error(db):
    """schemathesis generates requests from the OpenAPI schema: none may get a 5xx."""
    from hypothesis import given

    from samestory.web.app import create_app

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(db))
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):  # type: ignore[no-untyped-def]
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text[:200])
            if response.status_code >= 400:
                assert "error" in response.json()

        check()


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(server):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()


def test_paste_results_compare_and_hover(page, server, tmp_path):
    wire = {d.id: d for d in load_samples()}["fish-wire"]
    page.goto(server + "/")
    page.screenshot(path=str(tmp_path / "home.png"))
    page.fill("#title", wire.title)
    page.fill("#text", wire.text)
    page.click("#search")
    page.wait_for_selector("#matches")
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    badges = page.locator("#matches .badge").all_inner_texts()
    assert badges and badges[0] == "duplicate"
    # open the comparison with the best match
    page.click("#matches a.compare-link >> nth=0")
    page.wait_for_selector("mark[data-p]")
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    first = page.locator("mark[data-side='a'][data-p]").first
    pair = first.get_attribute("data-p")
    first.hover()
    partner = page.locator(f"mark[data-side='b'][data-p='{pair}']").first
    assert "hot" in (partner.get_attribute("class") or "")


def test_article_html_never_executes(page, server, tmp_path):
    page.goto(server + "/documents/xss")
    page.wait_for_selector(".doc-text")
    page.screenshot(path=str(tmp_path / "xss.png"))
    assert page.evaluate("window.__pwned === undefined")
    assert "<script>window.__pwned = 1</script>" in page.inner_text(".doc-text")
    page.goto(server + "/compare?a=xss&doc=xss")
    assert page.evaluate("window.__pwned === undefined")
    page.goto(server + "/stories")
    assert page.evaluate("window.__pwned === undefined")


def test_warm_models_loads_what_a_first_comparison_needs():
    from samestory import cross, embed
    from samestory.web.app import warm_models

    if not cross.available():
        pytest.skip("the embed extra (with onnx) is not installed")
    warm_models().join(timeout=120)
    assert embed.default_embedder()._session is not None
    assert cross.default_cross_encoder()._session is not None
