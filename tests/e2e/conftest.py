"""End-to-end browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Run with `make e2e` (`pytest -m e2e -p no:xdist tests/e2e`); the default pytest run deselects them.
Never `playwright install`: the browser is Debian's `chromium` found on PATH.

Helpers (the `site` fixture): `site.login(username)`, `site.goto(path)`, `site.screenshot(name)`
(1280 px and 375 px wide, into test-artifacts/screenshots/) and `site.assert_accessible(name)`
(axe-core from node_modules; serious or critical violations fail the test).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, Page, Response, sync_playwright

from gongzhi.core.testing import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if connection.vendor == "sqlite" and not os.environ.get("GONGZHI_TEST_DATABASE_FILE"):
        pytest.fail(
            "The browser tests need a file database (the live server's threads must not share the test's "
            "in-memory connection): run `make e2e`, or set GONGZHI_TEST_DATABASE_FILE=var/e2e-test.sqlite3"
        )
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: apt-get install chromium fonts-noto-cjk")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # beside it are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # As gunicorn's --preload does in production: jieba's dictionary loaded before the first page needs it.
    from gongzhi.tickets.text import initialize

    initialize()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def _audit_log_flushable(transactional_db: None) -> Iterator[None]:
    """Let the transactional flush empty the audit table on SQLite.

    The audit log is append-only through triggers, and SQLite flushes with DELETE (PostgreSQL
    truncates, which row triggers do not see). Set up after `transactional_db`, this fixture is
    torn down before its flush: it lifts the triggers for the flush and restores them for the next
    test.
    """
    triggers = importlib.import_module("gongzhi.audit.migrations.0002_append_only_triggers")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in triggers.SQLITE:
                cursor.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in triggers.SQLITE_REVERSE:
                cursor.execute(statement)


@dataclass
class Site:
    """One browser tab on the live server, with the journeys' helpers."""

    page: Page
    context: BrowserContext
    base_url: str
    failed_requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Response:
        response = self.page.goto(self.url(path))
        assert response is not None, path
        return response

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/accounts/login/")
        form = self.page.locator("form:has(input[name=password])")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            form.locator("[type=submit]").first.click()
        assert "/accounts/login/" not in self.page.url, f"login as {username} failed: {self.page.url}"

    def screenshot(self, name: str) -> list[Path]:
        """Full-page screenshots at 1280 and 375 px wide: `<name>-1280.png`, `<name>-375.png`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths = []
        for viewport in (DESKTOP, PHONE):
            self.page.set_viewport_size(viewport)
            self.page.wait_for_load_state("networkidle")
            # Let Chromium paint the resized page before the capture: captured at once, a full-page
            # shot below the fold sometimes lacked the last repainted bits (a button's label, a focus
            # ring) although the page itself showed them (5 of 12 shots at 375 px; 0 of 12 with this).
            self.page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            path = SCREENSHOTS / f"{name}-{viewport['width']}.png"
            self.page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        self.page.set_viewport_size(DESKTOP)
        return paths

    def axe_violations(self) -> list[dict[str, Any]]:
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE_SCRIPT))
        result = self.page.evaluate(
            """async () => {
                const results = await axe.run(document, {resultTypes: ['violations']});
                return results.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary, html: n.html})),
                }));
            }"""
        )
        return list(result)

    def assert_accessible(self, name: str) -> None:
        """Fail on any axe-core violation of serious or critical impact, printed readably."""
        for viewport in (DESKTOP, PHONE):
            self.page.set_viewport_size(viewport)
            blocking = [v for v in self.axe_violations() if v["impact"] in BLOCKING_IMPACTS]
            assert not blocking, f"axe-core on {name} at {viewport['width']} px:\n" + format_violations(
                blocking
            )
        self.page.set_viewport_size(DESKTOP)


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'], ensure_ascii=False)}: {node['html'][:160]}")
            for summary_line in (node["summary"] or "").splitlines():
                lines.append(f"      {summary_line}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)


@pytest.fixture
def site(browser: Browser, live_server: Any, _audit_log_flushable: None) -> Iterator[Site]:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    current = Site(page=page, context=context, base_url=live_server.url)

    def record_failure(response: Response) -> None:
        # A missing stylesheet or script is a broken page even when the test's own checks pass.
        if response.status >= 400 and "/static/" in response.url:
            current.failed_requests.append(f"{response.status} {response.url}")

    page.on("response", record_failure)
    yield current
    context.close()
    assert not current.failed_requests, "static files failed to load:\n" + "\n".join(current.failed_requests)


def last_sms_code(mobile: str) -> str:
    """The one-time code last sent to `mobile` (the development SMS gateway: read from the outbox)."""
    import re

    from gongzhi.core.personal import mask_phone
    from gongzhi.notifications.models import Notification

    message = Notification.objects.filter(
        phone__in=[mobile, mask_phone(mobile)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\b\d{6}\b", message.subject)
    assert match, message.subject
    return match.group()


def photo_upload(name: str, colour: tuple[int, int, int] = (180, 190, 200)) -> dict[str, Any]:
    """A JPEG as the browser's file picker hands it over (with a stripe: not one flat colour)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (1200, 900), colour)
    image.paste((40, 60, 140), (300, 400, 900, 460))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def describe_matter(
    page: Page, *, description: str, category: str, answers: dict[str, str], photo: str
) -> None:
    """On a resident's new-ticket page: type the description, tap the suggested `category`, answer
    its text questions and choose a photo (through the page's own photo button's input)."""
    from playwright.sync_api import expect

    page.wait_for_function("() => window.htmx !== undefined")  # htmx is deferred
    page.locator("textarea[name=description]").fill(description)
    chip = page.locator(f"#suggestions [data-pick={category}]")
    expect(chip).to_be_visible()
    chip.click()
    expect(page.locator(f"input[name=category][value={category}]")).to_be_checked()
    for code, answer in answers.items():
        field = page.locator(f"[name=answer_{code}]")
        expect(field).to_be_visible()
        field.fill(answer)
    page.locator("input[type=file][name=photos]").set_input_files(files=[photo_upload(photo)])  # type: ignore[list-item]
    expect(page.locator("#id_photos-count")).to_contain_text("1")


def verify_phone(page: Page, mobile: str) -> None:
    """The phone box: send a code to `mobile`, type it in, see the number verified (masked)."""
    from playwright.sync_api import expect

    from gongzhi.core.personal import mask_phone

    page.locator("#id_phone").fill(mobile)
    page.locator("#phone-box button[value=send_code]").click()
    expect(page.locator("#id_code")).to_be_visible()
    page.locator("#id_code").fill(last_sms_code(mobile))
    page.locator("#phone-box button[value=verify_code]").click()
    expect(page.locator("#phone-box .verified")).to_contain_text(mask_phone(mobile))
