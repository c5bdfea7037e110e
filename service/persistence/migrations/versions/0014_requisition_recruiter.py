"""a requisition names the recruiter who runs its pipeline

Nullable: existing requisitions have none until one is assigned, and a
recruiter's tasks include the requisitions nobody runs yet.

Revision ID: 0014_requisition_recruiter
Revises: 0013_packet_v2
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_requisition_recruiter"
down_revision = "0013_packet_v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requisitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recruiter_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_requisitions_recruiter_id"), ["recruiter_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_requisitions_recruiter_id_users"), "users", ["recruiter_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("requisitions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_requisitions_recruiter_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_requisitions_recruiter_id"))
        batch_op.drop_column("recruiter_id")
