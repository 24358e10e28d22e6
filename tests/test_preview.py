"""`publisher preview`, driven in Debian's headless Chromium: the page shows the issue, an edit
shows up without a reload, a broken edit shows its error instead of the pages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOTS

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 300_000  # a build on a busy two-core machine


@pytest.fixture
def preview(tmp_path):
    """`publisher preview` of a copy of a small issue on a free port of 127.0.0.1: (issue, URL).
    The server is stopped after the test."""
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "epub-elements", issue)
    server = subprocess.Popen(
        [sys.executable, "-m", "publisher.cli", "preview", str(issue), "-o", str(tmp_path / "out"),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = server.stdout.readline()  # printed once the port is open
        url = first.split(" at ")[-1].strip()
        assert url.startswith("http://127.0.0.1:"), first
        yield issue, url
    finally:
        server.terminate()
        server.wait(30)


def test_the_preview_shows_the_issue_follows_edits_and_shows_errors(preview):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "install Debian's chromium (make setup)"
    issue, url = preview
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#toc a", timeout=WAIT_MS)
            assert "一条简讯的标题" in page.inner_text("#toc")
            labels = page.locator("#pages figcaption").all_inner_texts()
            assert labels == ["封面", "封二", "1", "2", "3", "4"]
            cover = page.locator("#pages img").first
            cover.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=cover.element_handle(), timeout=WAIT_MS)
            page.evaluate("window.sameDocument = true")  # gone if the page were reloaded

            brief = issue / "articles" / "01-brief.md"
            brief.write_text(brief.read_text(encoding="utf-8").replace(
                "title: 一条简讯的标题", "title: 改过的简讯标题"), encoding="utf-8")
            page.wait_for_function(
                "document.getElementById('toc').innerText.includes('改过的简讯标题')",
                timeout=WAIT_MS)
            assert page.evaluate("window.sameDocument")

            brief.write_text("---\nkind: brief\ncolumn: nowhere\ntitle: 标题\n---\n\n正文。\n",
                             encoding="utf-8")
            page.wait_for_selector("#error:not(:empty)", timeout=WAIT_MS)
            error = page.inner_text("#error")
            assert error.startswith(f"{brief}:3: ") and "nowhere" in error
            assert page.locator("#pages figure").count() == 0  # no stale pages
            assert page.evaluate("window.sameDocument")
            # A link with a query, as a bookmark or a chat app leaves it, was not found.
            shared = browser.new_page()
            shared.goto(url + "?from=chat")
            shared.wait_for_selector("#error:not(:empty)", timeout=WAIT_MS)
        finally:
            browser.close()


@pytest.mark.parametrize("command", ["watch", "preview"])
def test_a_missing_issue_folder_is_one_line(tmp_path, capsys, command):
    from publisher.cli import main

    assert main([command, str(tmp_path / "nowhere"), "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines() == [f"{tmp_path / 'nowhere'}: no such issue folder"]


def test_no_port_number_is_one_line(capsys, monkeypatch):
    from publisher.cli import main

    monkeypatch.setenv("PUBLISHER_WORKERS", os.environ.get("PUBLISHER_WORKERS", ""))
    assert main(["preview", str(ROOTS / "good-minimal"), "--port", "70000"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "cannot serve the preview on 127.0.0.1:70000: port must be 0-65535.; give another port "
        "with --port (make preview PORT=…)"]


def test_a_port_in_use_is_one_line(capsys, monkeypatch):
    import socket

    from publisher.cli import main

    # `preview` sets it for its own process: put back as it was after the test.
    monkeypatch.setenv("PUBLISHER_WORKERS", os.environ.get("PUBLISHER_WORKERS", ""))

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["preview", str(ROOTS / "good-minimal"), "--port", str(port)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"cannot serve the preview on 127.0.0.1:{port}: Address already in use; give another "
        "port with --port (make preview PORT=…)"]


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1:{port}", 200), ("localhost:{port}", 200),
    ("attacker.example:{port}", 421), ("attacker.example", 421), (None, 421)])
def test_the_preview_answers_only_requests_addressed_to_it(host, status):
    """A web page whose name an attacker pointed at 127.0.0.1 (DNS rebinding) could read the
    unpublished issue's pages and text: its browser names that page's host, not ours."""
    import http.client
    import threading
    from http.server import ThreadingHTTPServer

    from publisher.preview import HOST, Handler, Proof

    server = ThreadingHTTPServer((HOST, 0), type("ProofHandler", (Handler,), {"proof": Proof()}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection(HOST, server.server_port, timeout=30)
        connection.putrequest("GET", "/state", skip_host=True)
        if host is not None:
            connection.putheader("Host", host.format(port=server.server_port))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == status
        assert (b'"version"' in response.read()) == (status == 200)
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
