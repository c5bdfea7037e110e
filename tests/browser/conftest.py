"""Browser tests: Debian's chromium, driven by Playwright, against the real app served on a
loopback port (a migrated SQLite file with the demo data, real Redis).

- `live_server` (one per test module): the app, its URL, and the demo users' passwords.
- `sign_in(page, live_server, email)`: through the sign-in form, as a person would.
- `assert_accessible(page)`: axe-core (bundled by axe-playwright-python, injected into the
  page; nothing is fetched) finds no serious or critical violation.
- `start_live_worker(live_server)`: a real `python -m workers` on the same database and
  Redis, for pages that wait on a background job (packets).

Every test here is marked `browser`; they run in `make test` like the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.browser.live import LiveServer, serve_demo
from tests.integration.conftest import REDIS_URL

CHROMIUM = "/usr/bin/chromium"
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, not a browser downloaded by Playwright (none can be here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing; `scripts/install-system-deps.sh` installs it.",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The app with the demo data on a loopback port, jobs enqueued to real Redis."""
    redis = Redis.from_url(REDIS_URL)
    try:
        redis.flushdb()
    except RedisConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}).", pytrace=False)
    try:
        with serve_demo(tmp_path_factory.mktemp("live"), REDIS_URL) as server:
            yield server
    finally:
        redis.flushdb()


def sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    """Sign in through the form; ends on the user's first page."""
    page.goto(f"{live_server.url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(live_server.password(email))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"{page.url}\n{report}"


def start_live_worker(live_server: LiveServer):
    """A real worker process on the live server's database and Redis; stop it with
    `os.killpg(worker.pid, signal.SIGTERM)` and `worker.wait()`."""
    from tests.integration.conftest import start_worker

    return start_worker(live_server.app)
