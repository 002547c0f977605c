"""centres can be archived: left out of the centres new cohorts are put in

Revision ID: 6d2a8f4c1b07
Revises: 8c4d2f6a1e53
Create Date: 2026-12-03 17:35:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6d2a8f4c1b07'
down_revision = '8c4d2f6a1e53'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    # Which centres were archived is an administrator's choice, not learners' work: going
    # back to a version without archiving shows them all again.
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.drop_column('archived')
