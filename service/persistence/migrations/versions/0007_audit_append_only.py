"""the audit log is append-only in the database too: UPDATE and DELETE are refused

The ORM already refuses to flush a changed or deleted AuditEvent
(`service.persistence.audit`); these triggers hold for every other writer as
well — raw SQL, a psql session, a future script. On PostgreSQL a plpgsql
function refuses each row's UPDATE or DELETE, and TRUNCATE (which fires no row
trigger). On SQLite, `RAISE(ABORT)` triggers do the same (SQLite has no
TRUNCATE; a trigger also turns off its truncate shortcut for `DELETE FROM`).

A later migration that rebuilds `audit_events` on SQLite (Alembic's batch
mode copies the table) drops these triggers with the old table and must
create them again.

Revision ID: 0007_audit_append_only
Revises: 0006_stage_change_entries_index
Create Date: 2026-11-26
"""

from alembic import op

revision = "0007_audit_append_only"
down_revision = "0006_stage_change_entries_index"
branch_labels = None
depends_on = None

POSTGRESQL_UPGRADE = [
    """
    CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()
    """,
]
POSTGRESQL_DOWNGRADE = [
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP FUNCTION audit_events_refuse_change()",
]
SQLITE_UPGRADE = [
    f"""
    CREATE TRIGGER audit_events_no_{verb.lower()}
    BEFORE {verb} ON audit_events
    BEGIN
        SELECT RAISE(ABORT, 'audit_events is append-only: {verb} refused');
    END
    """
    for verb in ("UPDATE", "DELETE")
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER audit_events_no_delete",
    "DROP TRIGGER audit_events_no_update",
]


def upgrade() -> None:
    statements = (
        POSTGRESQL_UPGRADE if op.get_bind().dialect.name == "postgresql" else SQLITE_UPGRADE
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = (
        POSTGRESQL_DOWNGRADE if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWNGRADE
    )
    for statement in statements:
        op.execute(statement)
