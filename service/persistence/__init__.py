"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from service.persistence import (  # noqa: F401
    applications,
    assessment_read_model,
    audit,
    calibration,
    candidates,
    data_protection,
    interviews,
    notifications,
    outbox,
    packets,
    report_snapshots,
    requisitions,
    scorecards,
    self_identification,
    templates,
    users,
    webhooks,
)
from service.persistence.base import Base  # noqa: F401
