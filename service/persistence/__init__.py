"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from service.persistence import (  # noqa: F401
    applications,
    audit,
    calibration,
    candidates,
    data_protection,
    interviews,
    packets,
    requisitions,
    scorecards,
    self_identification,
    templates,
    users,
)
from service.persistence.base import Base  # noqa: F401
