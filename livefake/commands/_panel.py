"""The `--ui` options of `live` and `demo`: serve the control panel beside the run."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livefake.config import LiveConfig
    from livefake.pipeline import Pipeline
    from livefake.ui.server import RunningPanel


def add_panel_arguments(parser: argparse.ArgumentParser, bind: bool = False) -> None:
    group = parser.add_argument_group("control panel")
    group.add_argument("--ui", action="store_true", help="serve the control panel (a local web page) for this run")
    group.add_argument("--ui-port", type=int, default=0, metavar="PORT", help="panel port (default 0: any free port)")
    group.add_argument("--no-browser", action="store_true", help="print the panel's link but open no browser")
    group.add_argument("--photos", metavar="DIR", help="photos the panel offers (default: the --face photo's folder)")
    group.add_argument("--models-dir", metavar="DIR", dest="model_folder", help="swap models the panel offers")
    group.add_argument("--record-dir", metavar="DIR", help="where recordings started from the panel go (default .)")
    if bind:
        group.add_argument("--bind", help="address the panel listens on (default 127.0.0.1)")


def start_panel(args: argparse.Namespace, config: LiveConfig, pipeline: Pipeline) -> RunningPanel | None:
    """Serve the panel when ``--ui`` was given (after ``pipeline.start()``); None otherwise."""
    if not getattr(args, "ui", False):
        return None
    from livefake.errors import InputError

    try:
        from livefake.ui.server import PanelOptions, open_panel
    except ImportError as error:
        raise InputError(f"the control panel needs the ui extra: pip install 'livefake[ui]' ({error})") from None
    face = config.swap.face
    photos = Path(args.photos) if args.photos else (Path(face).parent if face else None)
    options = PanelOptions(
        bind=config.output.bind,
        port=args.ui_port,
        open_browser=not args.no_browser,
        photo_folder=photos,
        model_folder=Path(args.model_folder) if args.model_folder else None,
        record_folder=Path(args.record_dir) if args.record_dir else None,
    )
    started_with = [config.swap.face, config.swap.model, *_selection_photos(config)]
    return open_panel(pipeline, options, findings=doctor_findings, started_with=started_with)


def _selection_photos(config: LiveConfig) -> list[str]:
    swap: Any = config.swap
    return [path for path in [getattr(swap, "reference", None), *getattr(swap, "faces", ())] if path]


def doctor_findings() -> list[dict[str, Any]]:
    """`livefake doctor`'s checks, less the camera probe (the run may hold the camera)."""
    from livefake.install import checks as doctor

    probes = (
        ("inference", doctor.check_onnxruntime),
        ("face models", doctor.check_face_models),
        ("devices", doctor.check_devices),
        ("training", doctor.check_training),
    )
    return [asdict(check) for name, probe in probes for check in doctor.guarded(name, probe)]
