"""text sentence vectors: each indexed text's sentences as vectors, for the originality
check's "similar meaning" (reworded passages)

Revision ID: 3a9d5e7c1b20
Revises: 3e8a5d2c7f19
Create Date: 2026-12-03 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types


# revision identifiers, used by Alembic.
revision = '3a9d5e7c1b20'
down_revision = '3e8a5d2c7f19'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'text_sentence_vectors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('model', sa.String(length=60), nullable=False),
        sa.Column('spans', sa.JSON(), nullable=False),
        sa.Column('vectors', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', learning.core.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['text_source.id'],
                                name=op.f('fk_text_sentence_vectors_source_id_text_source'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_text_sentence_vectors')),
        sa.UniqueConstraint('source_id', name=op.f('uq_text_sentence_vectors_source_id')),
    )
    with op.batch_alter_table('text_sentence_vectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_text_sentence_vectors_model'), ['model'],
                              unique=False)


def downgrade():
    # Not kept: derived from text_source's words (which are kept) by the model, and made
    # again by `flask originality reindex` after the upgrade back (docs/originality.md).
    with op.batch_alter_table('text_sentence_vectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_text_sentence_vectors_model'))
    op.drop_table('text_sentence_vectors')
