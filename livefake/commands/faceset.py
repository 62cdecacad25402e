"""`livefake faceset sort|filter|view FACESET`: tidy a faceset before training."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

NAME = "faceset"
HELP = "sort, filter or view a faceset made by `livefake extract`"

log = logging.getLogger("livefake")

SORT_KEYS = ("blur", "yaw", "pitch", "brightness", "similarity")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sort = actions.add_parser("sort", help="reorder the index (crop files keep their names)")
    sort.add_argument("faceset", metavar="FACESET")
    sort.add_argument(
        "--by", choices=SORT_KEYS, required=True,
        help="blur: sharpest first; yaw/pitch: low to high; brightness: brightest first; "
        "similarity: a chain of nearest colour histograms",
    )
    keep = actions.add_parser("filter", help="move faces that fail the rules into FACESET/_rejected/")
    rule = keep.add_argument
    rule("faceset", metavar="FACESET")
    rule("--min-blur", type=float, metavar="X", help="reject blur scores below X (sharper is higher)")
    rule("--max-yaw", type=float, metavar="D", help="reject faces turned more than D degrees")
    rule("--max-pitch", type=float, metavar="D", help="reject faces tilted more than D degrees")
    rule("--min-brightness", type=float, metavar="B", help="reject crops darker than B (0..255)")
    rule("--max-brightness", type=float, metavar="B", help="reject crops brighter than B (0..255)")
    rule(
        "--dedupe", type=float, metavar="THRESHOLD",
        help="reject near-duplicates: grey-thumbnail correlation with a kept face >= THRESHOLD, e.g. 0.98 "
        "(exposure is ignored: a darker copy of a frame is a duplicate)",
    )
    view = actions.add_parser("view", help="write a contact-sheet PNG of the faces")
    view.add_argument("faceset", metavar="FACESET")
    view.add_argument("--out", metavar="PNG", help="sheet path (default FACESET/contact_sheet.png)")
    view.add_argument("--columns", type=int, default=8, help="faces per row (default 8)")
    view.add_argument("--limit", type=int, default=64,
        help="show the first N faces of the index (default 64)",
    )


def run(args: argparse.Namespace) -> int:
    return {"sort": run_sort, "filter": run_filter, "view": run_view}[args.action](args)


def run_sort(args: argparse.Namespace) -> int:
    from livefake.faceset.tools import sort_faceset

    faceset = sort_faceset(args.faceset, args.by, progress=sys.stderr.isatty())
    log.info("sorted %d faces of %s by %s", len(faceset.faces), args.faceset, args.by)
    return 0


def run_filter(args: argparse.Namespace) -> int:
    from livefake.faceset.tools import REJECTED_FOLDER, FilterRules, filter_faceset

    rules = FilterRules(
        min_blur=args.min_blur, max_yaw=args.max_yaw, max_pitch=args.max_pitch,
        min_brightness=args.min_brightness, max_brightness=args.max_brightness, dedupe=args.dedupe,
    )
    report = filter_faceset(args.faceset, rules, progress=sys.stderr.isatty())
    reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(report.rejected.items())) or "none"
    log.info(
        "kept %d faces; moved %d to %s (%s)",
        report.kept, report.rejected_total, Path(args.faceset) / REJECTED_FOLDER, reasons,
    )
    return 0


def run_view(args: argparse.Namespace) -> int:
    from livefake.faceset.tools import write_contact_sheet

    out = args.out or str(Path(args.faceset) / "contact_sheet.png")
    written = write_contact_sheet(args.faceset, out, args.columns, args.limit)
    log.info("wrote %s", written)
    return 0
