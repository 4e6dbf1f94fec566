"""Browser tests: Playwright driving Debian's Chromium (headless) against a real edgeward with its credentials
listener. Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing (never
`playwright install`: the tests use the system's browser). Every step's screenshot is saved under
test-artifacts/browser/<test>/ (gitignored; CI keeps it as an artifact)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.mtls import Provider, start_provider

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 30_000  # a loaded CI machine; never a performance threshold


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an event loop running on this thread,
def chromium() -> Iterator[Browser]:  # and tests of other modules run on it too (asyncio.run() would refuse)
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install playwright; not `playwright install`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


@dataclass
class Steps:
    """A browser tab on the console, saving a numbered screenshot of each step."""

    page: Page
    base: str
    folder: Path
    taken: list[Path] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', step)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path

    def text(self, selector: str = "main") -> str:
        return " ".join(self.page.inner_text(selector).split())


def open_steps(browser: Browser, base: str, folder: Path, viewport: dict[str, int] | None = None) -> Steps:
    context = browser.new_context(viewport=viewport or LAPTOP, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return Steps(context.new_page(), base, folder)


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def steps(chromium: Browser, provider: Provider, artifacts: Path) -> Iterator[Steps]:
    tab = open_steps(chromium, provider.server.endpoint, artifacts)
    try:
        yield tab
    finally:
        tab.page.context.close()


def sign_in_with_key(steps: Steps, key_id: str, secret: str) -> None:
    steps.go("/console/signin")
    steps.page.get_by_label("Access key", exact=True).check()
    steps.page.get_by_label("Access key ID").fill(key_id)
    steps.page.get_by_label("Secret access key").fill(secret)
    steps.page.get_by_role("button", name="Sign in").click()
    steps.page.wait_for_url(re.compile(r"/console/$"))


def sign_in_with_password(steps: Steps, user: str, password: str) -> None:
    steps.go("/console/signin")
    steps.page.get_by_label("IAM user name and password").check()
    steps.page.get_by_label("IAM user name", exact=True).fill(user)
    steps.page.get_by_label("Password", exact=True).fill(password)
    steps.page.get_by_role("button", name="Sign in").click()
    steps.page.wait_for_url(re.compile(r"/console/$"))


def no_horizontal_scroll(page: Page) -> Any:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
