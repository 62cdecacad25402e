"""Configuration: defaults < TOML file < flags, and one check of type and range for all three."""

import argparse
from pathlib import Path

import pytest

from livefake.commands import bench, live
from livefake.commands._options import config_from_args
from livefake.config import LiveConfig, MergeConfig, apply_changes, build, changed_keys, settings_tree
from livefake.errors import InputError, SettingsError


def live_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    live.add_arguments(parser)
    return parser.parse_args(list(argv))


def write_toml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "livefake.toml"
    path.write_text(text)
    return str(path)


def test_defaults_then_toml_then_flags(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, '[merge]\ncolor = "lct"\nmask_blur = 30\nmask_erode = 4\n[track]\nmax_faces = 2\n')
    defaults = config_from_args(live_args())
    assert (defaults.merge.color, defaults.merge.mask_blur, defaults.track.max_faces) == ("rct", 12, 4)
    from_file = config_from_args(live_args("--config", toml))
    assert (from_file.merge.color, from_file.merge.mask_blur, from_file.merge.mask_erode) == ("lct", 30, 4)
    assert from_file.track.max_faces == 2
    flagged = config_from_args(live_args("--config", toml, "--mask-blur", "5", "--color", "none"))
    assert (flagged.merge.color, flagged.merge.mask_blur, flagged.merge.mask_erode) == ("none", 5, 4)
    assert flagged.track.max_faces == 2  # the file's value stays where no flag says otherwise


def test_what_the_command_fixes_wins_over_the_file(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, '[output]\nsinks = ["window"]\n[source]\nrealtime = false\n')
    config = config_from_args(live_args("--config", toml), source={"realtime": True}, output={"sinks": ("null",)})
    assert config.output.sinks == ("null",) and config.source.realtime is True


@pytest.mark.parametrize(
    "text, message",
    [
        ("[source]\nsize = [8, 8]\n", "source.size[0] = 8 is out of range"),
        ("[source]\nsize = \"big\"\n", "source.size must be a list"),
        ("[merge]\nmask_blur = -3\n", "merge.mask_blur = -3 is out of range"),
        ("[merge]\nmask_blur = 2.5\n", "merge.mask_blur must be an int"),
        ("[track]\nmax_faces = 99\n", "track.max_faces = 99 is out of range"),
        ("[track]\ndetect_every = 0\n", "track.detect_every = 0 is out of range"),
        ("[track]\nsmoothing = \"yes\"\n", "track.smoothing must be a bool"),
        ("swap = \"hopper\"\n", "setting swap must be a table"),
        ("[merge]\ncolour = \"lct\"\n", "unknown setting merge.colour"),
    ],
)
def test_toml_values_are_checked_like_flags(tmp_path: Path, text: str, message: str) -> None:
    toml = write_toml(tmp_path, text)
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")) as caught:
        config_from_args(live_args("--config", toml))
    assert isinstance(caught.value, InputError) and "\n" not in str(caught.value)


def test_flags_go_through_the_same_check() -> None:
    with pytest.raises(SettingsError, match="merge.mask_blur = -2 is out of range"):
        config_from_args(live_args("--mask-blur", "-2"))


def test_bench_fps_must_be_positive() -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    assert parser.parse_args(["--fps", "60"]).fps == 60.0
    with pytest.raises(SystemExit):
        parser.parse_args(["--fps", "0"])


def test_tree_round_trip_and_changes() -> None:
    config = LiveConfig()
    tree = settings_tree(config)
    assert build(LiveConfig, tree) == config
    assert tree["merge"]["face_offset"] == [0.0, 0.0]
    changed = apply_changes(config, {"merge": {"face_offset": [0.1, -0.2], "sharpen": 1}})
    assert changed.merge.face_offset == (0.1, -0.2) and changed.merge.sharpen == 1.0
    assert changed_keys(config, changed) == ["merge.face_offset", "merge.sharpen"]
    assert config.merge == MergeConfig()  # the old snapshot never changes


def test_one_swap_target_at_a_time() -> None:
    with_model = apply_changes(LiveConfig(), {"swap": {"model": "m.onnx"}})
    with_face = apply_changes(with_model, {"swap": {"face": "p.jpg"}})
    assert (with_face.swap.face, with_face.swap.model) == ("p.jpg", None)
    back = apply_changes(with_face, {"swap": {"model": "m.onnx"}})
    assert (back.swap.face, back.swap.model) == (None, "m.onnx")
