"""Regenerate docs/sample-packet.png from exactly the README's steps, at a fixed clock.

On a fresh database: `hiring demo`; Alex's draft and submission from "An interviewer's
flow" (the README's JSON bodies, through the API); `hiring demo-packet`. The first page
of the named packet (the decision summary) becomes the image:

    .venv/bin/python scripts/sample_packet_image.py [--out docs/sample-packet.png]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import time_machine

ROOT = Path(__file__).resolve().parents[1]
# The README's interviewer flow: Alex's draft, then the submission (interview 2).
DRAFT = {
    "ratings": [
        {
            "competency": "coding",
            "score": 3,
            "evidence": "Added the cancel endpoint with an idempotency key and a test for "
            "double cancel.",
        }
    ],
    "summary": "Great culture fit.",
}
SUBMISSION = {
    "ratings": [
        {
            "competency": "coding",
            "score": 3,
            "evidence": "Added the cancel endpoint with an idempotency key and a test for "
            "double cancel.",
        },
        {
            "competency": "problem_solving",
            "score": 3,
            "evidence": "Asked what happens when the refund times out, then chose retry "
            "with the same key.",
        },
        {"competency": "collaboration", "score": None, "evidence": ""},
    ],
    "recommendation": "yes",
    "summary": "Careful with money paths; tested the failure cases unprompted.",
}


def main() -> None:
    from demo_packet_digests import FIXED_CLOCK  # this folder is on the path when run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "sample-packet.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance, time_machine.travel(FIXED_CLOCK, tick=False):
        from service import create_app

        app = create_app({"INSTANCE_PATH": instance})
        runner = app.test_cli_runner()
        for command in (["db", "upgrade"], ["templates", "sync"], ["demo"]):
            _invoke(runner, command)
        token = next(
            line.split()[2]
            for line in Path(instance, "demo-tokens.txt").read_text().splitlines()
            if line.split()[1] == "alex@example.com"
        )
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        for method, path, body in (
            ("put", "/api/v1/interviews/2/scorecard", DRAFT),
            ("post", "/api/v1/interviews/2/scorecard/submit", SUBMISSION),
        ):
            response = getattr(client, method)(path, json=body, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{method.upper()} {path}: {response.status_code} {response.json}")
        _invoke(runner, ["demo-packet"])
        # The named packet is version 1: made ahead when the last scorecard came in.
        (named,) = Path(instance, "packets", "applications", "1").glob("packet-1-*.pdf")
        stem = args.out.with_suffix("")
        subprocess.run(
            ["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile", named, stem],
            check=True,
        )
    print(f"wrote {args.out}")


def _invoke(runner, command: list[str]) -> None:
    result = runner.invoke(args=command, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"`hiring {' '.join(command)}` failed:\n{result.output}")


if __name__ == "__main__":
    main()
