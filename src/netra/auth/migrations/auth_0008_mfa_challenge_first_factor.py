"""an MFA challenge remembers its first factor and the OIDC link it completes

Revision ID: auth_0008
Revises: auth_0007
Create Date: 2026-12-05 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "auth_0008"
down_revision = "auth_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_factor", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("pending_link", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_column("pending_link")
        batch_op.drop_column("first_factor")
