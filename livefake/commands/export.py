"""`livefake export RUN_OR_CKPT --to onnx|int8|fp16|tensorrt --out FILE`: a checked swap model file.

`livefake export RUN_OR_MODEL --to triton --name NAME --out REPO`: a Triton model repository
(a checkpoint is exported and checked first; an .onnx or .dfm file goes in as it is).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from livefake.exporters.catalog import EXPORT_FORMATS

NAME = "export"
HELP = "export a trained checkpoint to ONNX (fp32, int8, fp16) or a TensorRT engine, checked"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", metavar="RUN_OR_CKPT", help="training run folder or checkpoint file")
    formats = tuple(EXPORT_FORMATS)
    parser.add_argument("--to", dest="format", choices=formats, default="onnx", help="format (default onnx)")
    parser.add_argument("--out", required=True, metavar="FILE", help="file to write (--to triton: the repository)")
    parser.add_argument("--name", help="--to triton: the model's name in the repository (default: the input's name)")
    parser.add_argument(
        "--calibration", metavar="FACESET", help="faceset for int8 calibration and checks (default: the run's src)"
    )
    parser.add_argument("--identity", choices=("src", "dst"), default="dst", help="face to draw (default dst)")
    parser.add_argument(
        "--min-psnr", type=float, metavar="DB", help="int8 quality bar against fp32 on held-out crops (default 35)"
    )
    parser.add_argument(
        "--keep-fp32",
        choices=("none", "depthwise", "boundary", "both"),
        default="none",
        help="int8: keep depthwise convs and/or the first conv and output heads in fp32 (default none)",
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from livefake.exporters.formats import run_export
    from livefake.exporters.job import INT8_MIN_PSNR, ExportRequest
    from livefake.exporters.quantize import Int8Settings

    out = args.out
    if args.format == "triton":
        from livefake.exporters.triton import write_repository

        name = args.name or Path(args.checkpoint.rstrip("/")).stem
        if Path(args.checkpoint).suffix.lower() in (".onnx", ".dfm"):
            folder = write_repository(args.checkpoint, args.out, name)
            logging.getLogger("livefake.export").info("wrote Triton model %s", folder)
            return 0
        out = str(Path(args.out) / name)
        Path(args.out).mkdir(parents=True, exist_ok=True)
    request = ExportRequest(
        checkpoint=args.checkpoint, format=args.format, out=out, identity=args.identity,
        calibration=args.calibration,
        int8=replace(
            Int8Settings(),
            exclude_depthwise=args.keep_fp32 in ("depthwise", "both"),
            exclude_boundary=args.keep_fp32 in ("boundary", "both"),
        ),
        int8_min_psnr=INT8_MIN_PSNR if args.min_psnr is None else args.min_psnr,
    )  # fmt: skip
    report = run_export(request)
    logging.getLogger("livefake.export").info("\n".join(report.lines()))
    return 0
