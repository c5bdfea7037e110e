"""erasure and retention: candidates can be erased (keyed email fingerprint, consent
to be kept until a date), packets become tombstones, scrubbed audit events are
listed, and erased applicants' self-identification answers are kept only as counts

The append-only triggers of 0007 now let one UPDATE through: of an audit event
listed in `audit_scrubs`, changing only `before`, `after` and `reason` (erasure's
one exception; see service/persistence/data_protection.py). DELETE and TRUNCATE
stay refused.

Revision ID: 0015_data_protection
Revises: 0014_requisition_recruiter
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_data_protection"
down_revision = "0014_requisition_recruiter"
branch_labels = None
depends_on = None

# An UPDATE that keeps who, what, which record and when, of an event listed for scrubbing.
_SCRUB_ONLY = (
    "NEW.id = OLD.id AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id "
    "AND NEW.action = OLD.action AND NEW.entity_type = OLD.entity_type "
    "AND NEW.entity_id = OLD.entity_id AND NEW.at = OLD.at "
    "AND EXISTS (SELECT 1 FROM audit_scrubs WHERE audit_event_id = OLD.id)"
)
_REFUSE_ALL = """
    CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END
    $$
"""
TRIGGERS = {
    "postgresql": {
        "upgrade": [
            f"""
            CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND {_SCRUB_ONLY} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
            END
            $$
            """
        ],
        "downgrade": [_REFUSE_ALL],
    },
    "sqlite": {
        "upgrade": [
            "DROP TRIGGER audit_events_no_update",
            f"""
            CREATE TRIGGER audit_events_no_update
            BEFORE UPDATE ON audit_events
            WHEN NOT ({_SCRUB_ONLY.replace("IS NOT DISTINCT FROM", "IS")})
            BEGIN
                SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
            END
            """,
        ],
        "downgrade": [
            "DROP TRIGGER audit_events_no_update",
            """
            CREATE TRIGGER audit_events_no_update
            BEFORE UPDATE ON audit_events
            BEGIN
                SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
            END
            """,
        ],
    },
}


def upgrade() -> None:
    op.create_table(
        "audit_scrubs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_event_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("scrubbed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_event_id"],
            ["audit_events.id"],
            name=op.f("fk_audit_scrubs_audit_event_id_audit_events"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_audit_scrubs_candidate_id_candidates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_scrubs")),
        sa.UniqueConstraint("audit_event_id", name=op.f("uq_audit_scrubs_audit_event_id")),
    )
    with op.batch_alter_table("audit_scrubs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_scrubs_candidate_id"), ["candidate_id"], unique=False
        )

    op.create_table(
        "self_identification_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requisition_id", sa.Integer(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=False),
        sa.Column("entered", sa.String(length=2000), nullable=False),
        sa.Column(
            "sex",
            sa.Enum(
                "female",
                "male",
                "non_binary",
                "decline_to_answer",
                name="self_identification_sex",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "race_ethnicity",
            sa.Enum(
                "hispanic_or_latino",
                "white",
                "black_or_african_american",
                "native_hawaiian_or_other_pacific_islander",
                "asian",
                "american_indian_or_alaska_native",
                "two_or_more_races",
                "decline_to_answer",
                name="self_identification_race_ethnicity",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "veteran_status",
            sa.Enum(
                "protected_veteran",
                "not_a_protected_veteran",
                "decline_to_answer",
                name="self_identification_veteran_status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "disability_status",
            sa.Enum(
                "has_disability",
                "no_disability",
                "decline_to_answer",
                name="self_identification_disability_status",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("applicants", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requisition_id"],
            ["requisitions.id"],
            name=op.f("fk_self_identification_counts_requisition_id_requisitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_identification_counts")),
        sa.UniqueConstraint(
            "requisition_id",
            "applied_on",
            "status",
            "stage",
            "entered",
            "sex",
            "race_ethnicity",
            "veteran_status",
            "disability_status",
            name="uq_self_identification_counts_pattern",
        ),
    )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keep_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("email_fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("returning_from_id", sa.Integer(), nullable=True))
        batch_op.alter_column("email", existing_type=sa.VARCHAR(length=254), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_candidates_email_fingerprint"), ["email_fingerprint"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_candidates_returning_from_id_candidates"),
            "candidates",
            ["returning_from_id"],
            ["id"],
        )

    with op.batch_alter_table("packets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    for statement in TRIGGERS[op.get_bind().dialect.name]["upgrade"]:
        op.execute(statement)


def downgrade() -> None:
    for statement in TRIGGERS[op.get_bind().dialect.name]["downgrade"]:
        op.execute(statement)
    with op.batch_alter_table("packets", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_candidates_returning_from_id_candidates"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_candidates_email_fingerprint"))
        batch_op.alter_column("email", existing_type=sa.VARCHAR(length=254), nullable=False)
        batch_op.drop_column("returning_from_id")
        batch_op.drop_column("email_fingerprint")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("keep_until")

    op.drop_table("self_identification_counts")
    with op.batch_alter_table("audit_scrubs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_scrubs_candidate_id"))

    op.drop_table("audit_scrubs")
