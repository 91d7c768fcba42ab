"""Where the browser tests find Chromium, and how they start it: the system's, never a download."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def launched_chromium() -> Iterator[Any]:
    """A fixture's body: the system's Chromium, headless, while the fixture lasts (`yield from`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def desktop_page(browser: Any, base: str) -> Iterator[Any]:
    """A fixture's body: a desktop window that fails the test on any request leaving `base`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    context.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    yield context.new_page()
    context.close()
    assert outside == []


def serious_violations(browser: Any, url: str) -> list[str]:
    """axe-core's serious and critical violations on the page at `url`, one line each.

    axe is the test's own script, put into the page inline: the page's policy would refuse it.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    # Only violations are collected in full; the passes would cost most of the run on a large page.
    options = "{runOnly: ['wcag2a', 'wcag2aa', 'best-practice'], resultTypes: ['violations']}"
    results = page.evaluate(f"async () => await axe.run(document, {options})")
    context.close()
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def answered(page: Any) -> None:
    """Wait for the answer page a run opened: its results table, then its load event, so that the page's
    scripts (the history, the views) have run; the table alone is there before them."""
    page.wait_for_selector("table.readable")
    page.wait_for_load_state("load")
