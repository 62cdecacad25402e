"""The real page in headless Chromium (Selenium) against a running
`livefake live --source demo --face hopper --sink null --ui --no-browser`.

Each control is used the way a person uses it (drag, pick, click, upload, keys). Each change
is then looked for in the frames the pipeline puts out: the first output frame made with the new
settings snapshot must come out within 0.5 s of the action, and the preview pictures (encoded
from those output frames, each tagged with its frame index) must show it where it is visible.
Capture indices run on without a restart throughout. The page's screenshot is checked and
kept in the test's folder; with ``LIVEFAKE_PANEL_SCREENSHOT=perf/results/panel.png`` it
refreshes the README's picture instead.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from panel_client import PanelRun

from livefake.sources.assets import bundled_photo
from perf.browser import headless_chromium, missing_browser

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))

MAX_DELAY_MS = 500.0
SCREENSHOT_ENV = "LIVEFAKE_PANEL_SCREENSHOT"  # where to keep the screenshot (default: the test's tmp_path)
LABEL_CORNER = (slice(-0.12, None), slice(-0.35, None))  # bottom-right: where the label is drawn


class OutputWatch:
    """Follows the run's output frames through `GET /api/frames`."""

    def __init__(self, run: PanelRun) -> None:
        self.run = run
        self.indices: list[int] = []
        self.versions: list[int] = []

    def poll(self) -> list[dict[str, Any]]:
        since = self.indices[-1] if self.indices else -1
        frames = self.run.call("GET", f"/api/frames?since={since}").body["frames"]
        self.indices += [frame["index"] for frame in frames]
        self.versions += [frame["settings_version"] for frame in frames]
        return frames  # type: ignore[no-any-return]

    def first_frame_after(self, action: Callable[[], None], timeout: float = 5.0) -> tuple[dict[str, Any], float]:
        """Do ``action``; the first output frame made with a newer snapshot, and its delay in ms."""
        self.poll()
        version = self.versions[-1]
        started_ms = time.time() * 1e3
        action()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in self.poll():
                if frame["settings_version"] > version:
                    return frame, frame["out_ms"] - started_ms
            time.sleep(0.02)
        raise AssertionError(f"no output frame with settings newer than version {version} within {timeout} s")


def preview_pair(run: PanelRun, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The "after" and "before" preview pictures of one output frame at or after ``index``."""
    for _ in range(50):
        before = run.call("GET", "/api/preview.jpg?view=before")
        after = run.call("GET", "/api/preview.jpg?view=after")
        same = before.headers["x-frame-index"] == after.headers["x-frame-index"]
        if same and int(after.headers["x-frame-index"]) >= index:
            return _decode(after.body), _decode(before.body)
        time.sleep(0.05)
    raise AssertionError(f"no preview pair of one frame at or after {index}")


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)


def corner_change(after: np.ndarray, before: np.ndarray) -> float:
    height, width = after.shape[:2]
    rows, cols = slice(int(height * 0.88), None), slice(int(width * 0.65), None)
    return float(np.abs(after[rows, cols] - before[rows, cols]).mean())


def change(after: np.ndarray, before: np.ndarray) -> float:
    return float(np.abs(after - before).mean())


def strongly_changed(after: np.ndarray, before: np.ndarray, levels: int = 30) -> float:
    """Share of pixels changed by more than ``levels`` grey levels (the swapped face, not the mark)."""
    return float(np.mean(np.abs(after - before).max(axis=2) > levels))


def canvas_digest(driver: Any) -> str:
    return str(driver.execute_script(
        "const c = document.getElementById('preview');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let h = 0; for (let i = 0; i < d.length; i += 97) h = (h * 31 + d[i]) | 0; return h + ':' + c.width;"
    ))


def settings_range(driver: Any, section: str, name: str) -> tuple[int, int]:
    slider = driver.find_element("id", f"setting-{section}-{name}")
    return int(slider.get_attribute("min")), int(slider.get_attribute("max"))


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_page_changes_the_running_pipeline(panel_run: PanelRun, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    watch = OutputWatch(panel_run)
    driver = headless_chromium()
    try:
        driver.get(panel_run.url)
        # the preview plays: pictures arrive and change
        wait_for(lambda: driver.execute_script("return window.livefakePreview.frames") >= 3, what="preview")
        first = canvas_digest(driver)
        wait_for(lambda: canvas_digest(driver) != first, what="the preview to change")
        shown = driver.execute_script("return window.livefakePreview.lastIndex")
        wait_for(lambda: driver.execute_script("return window.livefakePreview.lastIndex") > shown, what="newer frames")
        wait_for(lambda: driver.find_element(By.ID, "setting-merge-mask_blur"), what="the settings")

        delays: dict[str, float] = {}
        settings = panel_run.state()["settings"]

        # mask blur: drag the slider to the right
        slider = driver.find_element(By.ID, "setting-merge-mask_blur")
        blur_before = settings["merge"]["mask_blur"]
        low, high = settings_range(driver, "merge", "mask_blur")
        thumb = int((blur_before - low) / (high - low) * slider.size["width"] - slider.size["width"] / 2)
        drag = (ActionChains(driver, duration=20).move_to_element_with_offset(slider, thumb, 0).click_and_hold()
                .move_by_offset(slider.size["width"] // 12, 0).release())
        frame, delays["mask_blur"] = watch.first_frame_after(drag.perform)
        blur_after = panel_run.state()["settings"]["merge"]["mask_blur"]
        assert blur_before < blur_after <= blur_before + (high - low) // 6

        # colour transfer: pick lct
        frame, delays["color"] = watch.first_frame_after(
            lambda: Select(driver.find_element(By.ID, "setting-merge-color")).select_by_value("lct"))
        assert panel_run.state()["settings"]["merge"]["color"] == "lct"

        # the label: untick it; the output frames lose it
        with_label = preview_pair(panel_run, frame["index"])
        frame, delays["label"] = watch.first_frame_after(
            driver.find_element(By.ID, "setting-provenance-label").click)
        assert panel_run.state()["settings"]["provenance"]["label"] is False
        without_label = preview_pair(panel_run, frame["index"])
        assert corner_change(*with_label) > 3 * corner_change(*without_label) + 2.0

        # another face photo, uploaded through the file field
        photo = tmp_path / "another face.jpg"
        shutil.copy(bundled_photo("collins"), photo)
        hopper_change = strongly_changed(*preview_pair(panel_run, frame["index"]))
        frame, delays["photo"] = watch.first_frame_after(
            lambda: driver.find_element(By.ID, "photo-upload").send_keys(str(photo)))
        face = panel_run.state()["settings"]["swap"]["face"]
        assert face is not None and face.endswith(".png") and "another face" in Path(face).name
        collins_change = strongly_changed(*preview_pair(panel_run, frame["index"]))
        print(f"pixels changed by > 30 levels: hopper {hopper_change:.4f}, collins {collins_change:.4f}")
        assert hopper_change > 0.002 and collins_change < 0.5 * hopper_change  # the live face is Collins

        # space: swap off; the output frames are the captured frames, untouched
        driver.execute_script("document.activeElement.blur()")
        frame, delays["space"] = watch.first_frame_after(lambda: ActionChains(driver).send_keys(Keys.SPACE).perform())
        assert panel_run.state()["settings"]["swap"]["enabled"] is False
        after, before = preview_pair(panel_run, frame["index"])
        assert change(after, before) == 0.0

        for name, delay in delays.items():
            assert 0 < delay <= MAX_DELAY_MS, f"{name}: first output frame with the change came {delay:.0f} ms later"
        steps = np.diff(watch.indices)
        assert watch.indices[0] >= 0 and np.all(steps >= 1), "capture indices went back: the capture restarted"
        dropped = panel_run.state()["stats"]["dropped"]
        # a few frames of slack: the drop count is read at another moment than the frame log
        assert int(np.sum(steps - 1)) <= dropped + 4, "output frames missing beyond those counted as dropped"
        print("change -> first output frame with it (ms):", {k: round(v) for k, v in delays.items()})

        # swap back on, the right arrow steps to the next photo of the folder; then the screenshot
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        wait_for(lambda: panel_run.state()["settings"]["swap"]["enabled"], what="swap on again")
        ActionChains(driver).send_keys(Keys.ARROW_LEFT).perform()  # photos: collins.jpg, hopper.jpg, the upload
        wait_for(lambda: panel_run.state()["settings"]["swap"]["face"].endswith("hopper.jpg"), what="the photo before")
        driver.find_element(By.ID, "setting-provenance-label").click()
        wait_for(lambda: panel_run.state()["settings"]["provenance"]["label"], what="the label back on")
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(1.5)
        screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "panel.png")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(screenshot))
        picture = cv2.imread(str(screenshot))
        assert picture is not None and picture.shape[0] > 300 and picture.shape[1] > 600, screenshot
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        driver.quit()
