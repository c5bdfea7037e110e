"""the stored assessment read model: per application, the assessment as last computed

`GET /applications/<id>/assessment` serves the stored JSON while it is valid
(`persistence.assessment_read_model`); writers raise `generation` and clear `body`.
Empty at first: each application's row is made by its first read or write.

Revision ID: 0018_assessment_read_model
Revises: 0017_report_snapshots
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_assessment_read_model"
down_revision = "0017_report_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_read_models",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("calibration_run_id", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_assessment_read_models_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_assessment_read_models")),
    )


def downgrade() -> None:
    op.drop_table("assessment_read_models")
