"""Small databases made by the bench's generator for tests: as of one fixed day, without
the calibration fit or progress output."""

from datetime import UTC, datetime
from typing import Any

from bench import generate

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def generated_database(url: str, applications: int, *, seed: int, **options: Any) -> dict[str, Any]:
    """`applications` applications generated into `url` with `seed`, as of `AS_OF`; the
    generator's summary."""
    return generate.generate(
        url,
        applications,
        seed=seed,
        now=AS_OF,
        fit_calibration=False,
        progress=False,
        **options,
    )
