"""oidc_logins.browser_hash: a web SSO sign-in is bound to the browser that started it

The web sign-in page starts an SSO login whose callback ends in a web session
cookie. The login row keeps a keyed hash of a random value set in that
browser's cookie at the start, so that a callback URL (code and state) used
in another browser, or fed to a victim's browser, is refused.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_logins") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_logins") as batch:
        batch.drop_column("browser_hash")
