"""Headless Chromium driven by Selenium, for the control panel's browser test and cost figures.

Uses Debian's ``chromium`` and ``chromium-driver`` packages (``/usr/bin/chromium``,
``/usr/bin/chromedriver``) or whatever ``$CHROMIUM`` / ``$CHROMEDRIVER`` name; nothing is
downloaded. ``missing_browser()`` says what is absent, so tests can skip with that reason.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver", "chromium-driver")


def _find(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    return next((path for name in names if (path := shutil.which(name))), None)


def missing_browser() -> str | None:
    """Why a headless browser cannot be started here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install 'livefake[dev]'"
    if _find("CHROMIUM", BROWSERS) is None:
        return "no Chromium: apt-get install chromium (or set $CHROMIUM)"
    if _find("CHROMEDRIVER", DRIVERS) is None:
        return "no chromedriver: apt-get install chromium-driver (or set $CHROMEDRIVER)"
    return None


def headless_chromium(width: int = 1400, height: int = 1000) -> Any:
    """A started headless Chromium WebDriver with the browser console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.binary_location = _find("CHROMIUM", BROWSERS) or "chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(_find("CHROMEDRIVER", DRIVERS) or "chromedriver"), options=options)
