"""calibration v2: the model used, components the data cannot determine, per-interviewer
state, the rating scale of calibrated scores

Existing runs were all fitted by the linear model. Existing interviewer rows get
their state from the flags they had: insufficient data, else outside the main
pool (not comparable), else applied. Their leniencies stay as stored; the
assessment no longer applies those of interviewers outside the main pool.

Revision ID: 0012_calibration_v2
Revises: 0011_outbox
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_calibration_v2"
down_revision = "0011_outbox"
branch_labels = None
depends_on = None

MODELS = ("linear", "ordinal")
STATES = ("applied", "not_comparable", "insufficient_data")


def upgrade() -> None:
    with op.batch_alter_table("calibration_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "model",
                sa.Enum(
                    *MODELS,
                    name="calibration_model",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("sigma2_unit_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sigma2_interviewer_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("scale", sa.JSON(), nullable=True))
        batch_op.alter_column("sigma2_unit", existing_type=sa.Double(), nullable=True)
        batch_op.alter_column("sigma2_interviewer", existing_type=sa.Double(), nullable=True)
    op.execute("UPDATE calibration_runs SET model = 'linear'")
    with op.batch_alter_table("calibration_runs", schema=None) as batch_op:
        batch_op.alter_column("model", existing_type=sa.String(20), nullable=False)

    with op.batch_alter_table("interviewer_calibrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "state",
                sa.Enum(
                    *STATES,
                    name="calibration_state",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("se_absolute", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("shift", sa.Double(), nullable=True))
        batch_op.alter_column("leniency", existing_type=sa.Double(), nullable=True)
        batch_op.alter_column("se", existing_type=sa.Double(), nullable=True)
    op.execute(
        "UPDATE interviewer_calibrations SET state = CASE "
        "WHEN insufficient_data THEN 'insufficient_data' "
        "WHEN NOT connected THEN 'not_comparable' ELSE 'applied' END, shift = leniency"
    )
    with op.batch_alter_table("interviewer_calibrations", schema=None) as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(20), nullable=False)


def downgrade() -> None:
    op.execute("UPDATE interviewer_calibrations SET leniency = 0, se = 0 WHERE leniency IS NULL")
    with op.batch_alter_table("interviewer_calibrations", schema=None) as batch_op:
        batch_op.alter_column("se", existing_type=sa.Double(), nullable=False)
        batch_op.alter_column("leniency", existing_type=sa.Double(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("ck_interviewer_calibrations_calibration_state"), type_="check"
        )
        batch_op.drop_column("shift")
        batch_op.drop_column("se_absolute")
        batch_op.drop_column("state")
    op.execute("UPDATE calibration_runs SET sigma2_unit = 0 WHERE sigma2_unit IS NULL")
    op.execute(
        "UPDATE calibration_runs SET sigma2_interviewer = 0 WHERE sigma2_interviewer IS NULL"
    )
    with op.batch_alter_table("calibration_runs", schema=None) as batch_op:
        batch_op.alter_column("sigma2_interviewer", existing_type=sa.Double(), nullable=False)
        batch_op.alter_column("sigma2_unit", existing_type=sa.Double(), nullable=False)
        batch_op.drop_constraint(batch_op.f("ck_calibration_runs_calibration_model"), type_="check")
        batch_op.drop_column("scale")
        batch_op.drop_column("sigma2_interviewer_reason")
        batch_op.drop_column("sigma2_unit_reason")
        batch_op.drop_column("model")
