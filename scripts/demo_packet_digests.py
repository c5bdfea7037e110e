"""Render the demo packets on a fresh database at a fixed clock and print their sha256.

The demo data is dated relative to now, so the packets differ from day to day; at a
fixed clock they are reproducible byte for byte, which makes this the check that a
refactor of the packet's code changed nothing a reader sees:

    .venv/bin/python scripts/demo_packet_digests.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import time_machine

FIXED_CLOCK = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


# Each on a fresh database: the demo packet, and the long one (eight interviews, long
# evidence, amendments), with every packet made ahead on the way.
SCENARIOS = {
    "demo": (["db", "upgrade"], ["templates", "sync"], ["demo"], ["demo-packet"]),
    "long": (["db", "upgrade"], ["templates", "sync"], ["demo"], ["demo-packet", "--long"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="copy the PDFs into this folder")
    args = parser.parse_args()
    for scenario, commands in SCENARIOS.items():
        with (
            tempfile.TemporaryDirectory() as instance,
            time_machine.travel(FIXED_CLOCK, tick=False),
        ):
            from service import create_app

            app = create_app({"INSTANCE_PATH": instance})
            runner = app.test_cli_runner()
            for command in commands:
                result = runner.invoke(args=command, catch_exceptions=False)
                if result.exit_code != 0:
                    raise SystemExit(f"`hiring {' '.join(command)}` failed:\n{result.output}")
            for pdf in sorted(Path(instance, "packets").rglob("*.pdf")):
                name = f"{scenario}-application-{pdf.parent.name}-{pdf.name}"
                print(hashlib.sha256(pdf.read_bytes()).hexdigest(), name)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    shutil.copy(pdf, args.keep / name)


if __name__ == "__main__":
    main()
