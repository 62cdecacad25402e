"""Random valid changes during a live run (the short version of perf/live_changes.py)."""

from perf.live_changes import run


def test_random_live_changes_show_within_two_frames_and_capture_goes_on(face_models: object) -> None:
    result = run(seconds=4.0, changes=12, seed=3)
    assert result["error"] is None and result["state"] == "stopped" and result["closed"]
    assert result["max_frames_late"] <= 2, result
    assert result["pixel_checks_failed"] == []
    assert result["indices_continuous"], result
    assert result["refused_invalid"] == 5
    assert len(result["kinds"]) >= 4  # several kinds of change were made
