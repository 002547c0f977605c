"""enrolment imports remember when their set-password links were shown: the page shows them
once, and the uploader may download them as a CSV while they work (import_jobs.py)

Revision ID: 7c3d9e1f4a52
Revises: 7c3d9e1f2b64
Create Date: 2026-12-03 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types


# revision identifiers, used by Alembic.
revision = '7c3d9e1f4a52'
down_revision = '7c3d9e1f2b64'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolment_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links_shown_at', learning.core.types.UTCDateTime(),
                                      nullable=True))


def downgrade():
    # A timestamp about a page, not anyone's data: nothing to keep aside.
    with op.batch_alter_table('enrolment_import', schema=None) as batch_op:
        batch_op.drop_column('links_shown_at')
