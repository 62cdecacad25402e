"""The panel's HTTP API on a real run: recording, photo stepping, clicking a face, the frames list."""

from __future__ import annotations

import time
from pathlib import Path

import av
from panel_client import PanelRun


def test_record_start_and_stop_write_a_complete_file(panel_run: PanelRun) -> None:
    started = panel_run.call("POST", "/api/record", {"file": "take1.mp4"})
    assert started.status == 200, started.body
    path = Path(started.body["recording"])
    assert panel_run.state()["recording"] == str(path)
    assert panel_run.call("POST", "/api/record", {"file": "../escape.mp4"}).status == 400
    time.sleep(1.0)
    stopped = panel_run.call("DELETE", "/api/record", {})
    assert stopped.status == 200 and stopped.body["stopped"] == str(path)
    with av.open(str(path)) as recording:
        frames = sum(1 for _ in recording.decode(video=0))
    assert frames >= 15, f"{frames} frames in a 1 s recording at 30 fps"
    assert str(path) not in panel_run.state()["settings"]["output"]["sinks"]


def test_photo_steps_and_a_click_change_the_settings(panel_run: PanelRun) -> None:
    photos = panel_run.state()["photos"]
    assert any(name.endswith("hopper.jpg") for name in photos) and any(name.endswith("collins.jpg") for name in photos)
    face = panel_run.state()["settings"]["swap"]["face"]
    stepped = panel_run.call("POST", "/api/photos/step", {"step": 1})
    assert stepped.status == 200 and stepped.body["face"] != face
    assert panel_run.call("POST", "/api/photos/step", {"step": -1}).body["face"] == face
    clicked = panel_run.call("POST", "/api/click", {"x": 0.5, "y": 0.4})
    assert clicked.status == 200
    assert clicked.body["settings"]["swap"]["select"] == "clicked"
    assert clicked.body["settings"]["swap"]["select_point"] == [0.5, 0.4]
    assert panel_run.call("POST", "/api/click", {"x": 2, "y": 0.4}).status == 400
    assert panel_run.call("PATCH", "/api/settings", {"swap": {"select": "all"}}).status == 200


def test_frames_list_the_output_in_capture_order(panel_run: PanelRun) -> None:
    frames = panel_run.call("GET", "/api/frames").body["frames"]
    indices = [frame["index"] for frame in frames]
    assert len(indices) > 10 and indices == sorted(set(indices))
    later = panel_run.call("GET", f"/api/frames?since={indices[-1]}").body["frames"]
    assert all(frame["index"] > indices[-1] for frame in later)
    assert panel_run.call("GET", "/api/frames?since=x").status == 400
