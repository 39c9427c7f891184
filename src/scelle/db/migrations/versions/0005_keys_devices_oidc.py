"""keys rotation, exfiltration counters, devices, oidc

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "account_activity",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_activity")),
    )
    with op.batch_alter_table("account_activity", schema=None) as batch_op:
        batch_op.create_index("ix_account_activity_user_at", ["user_id", "at"], unique=False)

    op.create_table(
        "account_throttles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_throttles")),
    )
    with op.batch_alter_table("account_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_throttles_user_id"), ["user_id"], unique=False)

    op.create_table(
        "oidc_logins",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("verifier_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oidc_logins")),
    )
    op.create_table(
        "known_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_known_devices_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_devices")),
        sa.UniqueConstraint("user_id", "device_hash", name=op.f("uq_known_devices_user_id")),
    )
    with op.batch_alter_table("known_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_devices_user_id"), ["user_id"], unique=False)

    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oidc_identities_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_identities_issuer")),
    )
    with op.batch_alter_table("oidc_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_identities_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("public_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("rotation_signature", sa.LargeBinary(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("revocation_reason", sa.String(length=16), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("public_keys", schema=None) as batch_op:
        batch_op.drop_column("revocation_reason")
        batch_op.drop_column("rotation_signature")
        batch_op.drop_column("previous_key_id")

    with op.batch_alter_table("oidc_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_identities_user_id"))

    op.drop_table("oidc_identities")
    with op.batch_alter_table("known_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_devices_user_id"))

    op.drop_table("known_devices")
    op.drop_table("oidc_logins")
    with op.batch_alter_table("account_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_throttles_user_id"))

    op.drop_table("account_throttles")
    with op.batch_alter_table("account_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_account_activity_user_at")

    op.drop_table("account_activity")
