"""users may have a web password (argon2id hash) and the time it last changed

Existing users have none (NULL): they keep their API tokens, and an admin sets
a password with `hiring users set-password EMAIL` before they sign in to the pages.

Revision ID: 0010_user_passwords
Revises: 0009_decisions_supersede
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_user_passwords"
down_revision = "0009_decisions_supersede"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("password_hash")
