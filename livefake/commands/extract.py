"""`livefake extract SOURCES... --out FACESET`: aligned face crops and their index for training."""

from __future__ import annotations

import argparse
import logging

NAME = "extract"
HELP = "extract aligned face crops from videos, images or folders into a faceset"

log = logging.getLogger("livefake")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from livefake.face.align import FACE_TYPES

    add = parser.add_argument
    add("sources", nargs="+", metavar="SOURCE", help="videos, images or folders of them")
    add("--out", required=True, metavar="FACESET", help="faceset folder (new, or one to append to)")
    add("--face-type", choices=FACE_TYPES, default="whole", help="crop framing (default whole)")
    add("--resolution", type=int, default=256, metavar="PX", help="crop side in pixels (default 256)")
    add(
        "--pick", choices=("largest", "reference"),
        help="which face to take when several show: the largest (default) or the one like --reference",
    )
    add("--reference", metavar="PHOTO", help="photo of the person to keep (implies --pick reference)")
    add("--every", type=int, default=1, metavar="N", help="take every Nth video frame (default 1)")
    add("--min-score", type=float, default=0.5, metavar="S", help="skip less certain faces (default 0.5)")
    add("--models", metavar="DIR", help="face models folder (default: where `livefake setup` put them)")


def run(args: argparse.Namespace) -> int:
    from livefake.faceset.extract import ExtractConfig, PickMode, extract_faceset

    pick: PickMode = args.pick or ("reference" if args.reference else "largest")
    config = ExtractConfig(
        face_type=args.face_type, resolution=args.resolution, pick=pick, reference=args.reference,
        every=args.every, min_score=args.min_score, models_dir=args.models,
    )
    report = extract_faceset(args.sources, args.out, config)
    log.info("%s", report.summary())
    return 0
