"""A real ``scelle serve`` and Debian's chromium (headless, driven by Python playwright).

One server and one browser per module keep the browser tests within their
time budget; every test makes its own users (and browser context), so tests
do not see each other's keys, pins or sessions. The browser is launched from
``/usr/bin/chromium`` with the flags of ARCHITECTURE.md: nothing is
downloaded (never ``playwright install``).
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from scelle.config import Settings
from scelle.db.models import Role
from scelle.server.container import Services, build_services
from tests import factories
from tests.factories import PASSWORD, Member
from tests.integration.conftest import LiveServer, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_PASSPHRASE = "cheval agrafe batterie correcte"
RECOVERY_KEY = re.compile(r"^AGE-SECRET-KEY-1[0-9A-Z]{58}$")
_names = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("e2e") / "server-data")
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.fail("Debian chromium and node are needed: run scripts/setup.sh")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="fr-FR", accept_downloads=True)
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab whose console errors (a CSP violation, an exception) fail the test."""
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    yield tab
    # The wrong-passphrase step answers no error from the API; a 401/404 shows up as a
    # "Failed to load resource" line only when a test provokes one on purpose.
    assert [p for p in problems if "Failed to load resource" not in p] == []


@dataclass
class Orgs:
    lab: str
    cpam: str


@pytest.fixture
def orgs(server: LiveServer) -> Orgs:
    n = next(_names)
    names = Orgs(lab=f"lab-e2e-{n}", cpam=f"cpam-e2e-{n}")
    with server_services(server) as services:
        factories.org(services, names.lab)
        factories.org(services, names.cpam)
    return names


@contextmanager
def server_services(server: LiveServer) -> Iterator[Services]:
    """The real services on a running server's own stores (not migrated again), then closed."""
    services = build_services(Settings(data=server.data), migrate=False)
    try:
        yield services
    finally:
        services.database.dispose()


def make_member(server: LiveServer, org: str, *roles: Role, publish_key: bool) -> Member:
    """A user made by the real services on the server's own stores (enrolled, with TOTP)."""
    with server_services(server) as services:
        return factories.member(services, org, *roles, publish_key=publish_key)


def sign_in(page: Page, server: LiveServer, member: Member, code: str) -> None:
    """Through the sign-in page, as a person would (the page then asks for the key)."""
    page.goto(server.url + "/inbox")
    page.wait_for_url("**/login?next=/inbox")
    page.get_by_label("Adresse e-mail").fill(member.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Code à usage unique").fill(code)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/identity?next=*")


def create_identity(
    page: Page, passphrase: str = BROWSER_PASSPHRASE, then: str = "**/inbox"
) -> str:
    """Make the browser key on the identity page; returns the recovery key shown once."""
    page.get_by_label("Phrase secrète", exact=True).fill(passphrase)
    page.get_by_label("Confirmez la phrase secrète").fill(passphrase)
    page.get_by_role("button", name="Créer ma clé").click()
    return keep_recovery_key(page, then=then)


def keep_recovery_key(page: Page, screenshot: str | None = None, then: str = "**/inbox") -> str:
    """Read the recovery key the page shows once, confirm it is kept, and go on to ``then``."""
    shown = page.locator("#recovery-key")
    expect(shown).to_have_text(RECOVERY_KEY)
    recovery_key = shown.inner_text()
    if screenshot:
        shot(page, screenshot)
    page.get_by_label("J'ai conservé ma clé de secours").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(then)
    return recovery_key


def shot(page: Page, name: str) -> None:
    """A screenshot for docs/ of a page the tests check for accessibility first."""
    assert_accessible(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, the rules a public-sector site in France (RGAA) is held to.
_AXE_RUN = """async () => {
    const result = await axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
}"""


def assert_accessible(page: Page, what: str) -> None:
    """No WCAG 2.1 A/AA violation that axe-core finds on the page as it is now.

    axe-core (web/package.json, a dev dependency) is evaluated through the
    DevTools protocol, so the pages keep their CSP (no script is injected
    into them); it checks labels, names, contrast, landmarks, ARIA use...
    """
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/setup.sh (web/node_modules)")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(_AXE_RUN)
    assert violations == [], f"{what}: {violations}"


_LIST_SPILL = """async () => {
    const root = await navigator.storage.getDirectory();
    const names = [];
    for await (const name of root.keys()) names.push(name);
    return names.sort();
}"""


def spill_entries(page: Page) -> list[str]:
    """Every entry of the origin private file system (the pages' spill area) of ``page``."""
    entries: list[str] = page.evaluate(_LIST_SPILL)
    return entries


def expect_spill_empty(page: Page) -> None:
    """After this page's sweep of what earlier pages left, the spill area holds nothing."""
    expect(page.locator("body")).to_have_attribute("data-spill", "swept")
    assert spill_entries(page) == []
