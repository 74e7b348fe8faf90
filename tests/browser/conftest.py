"""Browser-test fixtures: the web chat served in-process over the fixture corpus, and Chromium.

The index is built once per module with the fake HashEmbedder (no model download); the app
is launched through ``ui.app.launch`` on a free 127.0.0.1 port. Chromium is Debian's
(``make browser-deps`` installs it); these fixtures never install anything. Without it the
tests fail when $CI is set and skip otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers.served import serving

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def _root_conftest() -> ModuleType:
    """tests/conftest.py (for HashEmbedder and the fixture corpus path)."""
    path = TESTS / "conftest.py"
    for mod in list(sys.modules.values()):
        if getattr(mod, "__file__", None) == str(path):
            return mod
    spec = importlib.util.spec_from_file_location("_ef_root_conftest", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def chromium_path() -> str | None:
    for cand in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium",
                 shutil.which("chromium-browser")):
        if cand and Path(cand).is_file():
            return cand
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (browser tests must run in CI: run `make browser-deps` first)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def ui_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """(settings, embedder) of a fresh index of the fixture corpus for this module."""
    from evidence_finder.index.build import ingest
    from evidence_finder.settings import Settings

    root = _root_conftest()
    base = tmp_path_factory.mktemp("ui")
    corpus = base / "corpus"
    shutil.copytree(root.FIXTURE_CORPUS, corpus)
    settings = Settings(data_dir=base / "data", corpus_dir=corpus)  # type: ignore[call-arg]
    embedder = root.HashEmbedder()
    report = ingest([corpus], settings, embedder=embedder)
    assert report.documents == 3, report.summary()
    return settings, embedder


@pytest.fixture(scope="module")
def app_url(ui_index: tuple[Any, Any]) -> Iterator[str]:
    """URL of the web chat serving the module's index."""
    from evidence_finder.answer.service import AnswerService
    from evidence_finder.retrieval.search import Searcher
    from evidence_finder.ui.app import build

    settings, embedder = ui_index
    searcher = Searcher(settings, embedder=embedder)
    with serving(settings, build(settings, searcher, AnswerService(searcher, settings))) as url:
        yield url


@pytest.fixture(scope="module")
def empty_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the web chat over a data directory that has no index yet."""
    from evidence_finder.settings import Settings
    from evidence_finder.ui.app import build

    base = tmp_path_factory.mktemp("ui-empty")
    settings = Settings(data_dir=base / "data", corpus_dir=base / "corpus")  # type: ignore[call-arg]
    with serving(settings, build(settings, embedder=_root_conftest().HashEmbedder())) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        _unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def open_chat(context: Any, app_url: str) -> Any:
    """A page of ``context`` with the chat loaded; page errors collect in ``page.js_errors``."""
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(20_000)
    pg.goto(app_url)
    pg.wait_for_selector("#ef-transcript .ef-chat")
    pg.js_errors = errors
    return pg


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="nl-NL",
                                  accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        yield open_chat(context, app_url)
    finally:
        context.close()
