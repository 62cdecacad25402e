"""`livefake verify FILE...`: does an image or video carry the livefake provenance watermark?"""

from __future__ import annotations

import argparse
import json
import sys

NAME = "verify"
HELP = "check images or videos for the livefake provenance watermark"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="image or video files to check")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    parser.add_argument(
        "--source",
        metavar="FILE",
        help="also say whether the mark names this model or photo file (as the stage's source)",
    )


def run(args: argparse.Namespace) -> int:
    from livefake.errors import InputError
    from livefake.merge.watermark import file_source_id, make_payload

    expected = None
    if args.source:
        try:
            expected = make_payload(file_source_id(args.source))
        except OSError as error:
            raise InputError(f"cannot read source file {args.source}: {error.strerror}") from None
    progress = sys.stderr.isatty() and not args.json
    rows = [check_file(path, expected, progress) for path in args.files]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            if "error" in row:
                print(f"livefake: error: {row['error']}", file=sys.stderr)
            else:
                print(describe(row))
    return 1 if any("error" in row for row in rows) else 0


def check_file(path: str, expected: bytes | None, progress: bool) -> dict[str, object]:
    """The report of one file as a row; a file that cannot be read gets ``error`` instead (with
    ``path``), so one bad file of a batch does not hide the others."""
    from livefake.errors import InputError
    from livefake.merge.provenance import verify_file

    try:
        report = verify_file(path, progress=progress)
    except InputError as error:
        return {"path": path, "error": str(error)}
    row = report.as_dict()
    if expected is not None:
        row["source_match"] = report.payload == expected
    return row


def describe(row: dict[str, object]) -> str:
    """One human line per checked file."""
    counts = f"{row['marked_frames']}/{row['frames']} frame{'s' if row['frames'] != 1 else ''}"
    if not row["found"]:
        return f"{row['path']}: no livefake watermark ({counts} marked)"
    share = float(row["share"])  # type: ignore[arg-type]
    line = (
        f"{row['path']}: livefake watermark in {counts} ({share:.1%}), "
        f"confidence {row['confidence']:.2f}, payload {row['payload']}"
    )
    if "source_match" in row:
        line += ", matches --source" if row["source_match"] else ", does NOT match --source"
    return line
