"""reports at scale: indexes for the audit log (newest first, by action, by subject) and for
a quiz's attempts; each quiz answer keeps its question's marks, so the statistics add up in SQL

The marks are copied from each attempt's snapshot (the questions as shown) by one UPDATE with
the database's JSON functions.

Revision ID: e97ca4378f15
Revises: 77d373bfd8db
Create Date: 2026-12-03 14:34:13.041543

"""
from alembic import op
import sqlalchemy as sa

import learning.core.types


# revision identifiers, used by Alembic.
revision = 'e97ca4378f15'
down_revision = '77d373bfd8db'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.create_index('ix_audit_event_action_at', ['action', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_at_id', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_subject', ['subject_type', 'subject_id', 'at'], unique=False)

    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marks', sa.Double(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_quiz_answer_marks_not_negative'),
                                        'marks IS NULL OR marks >= 0')
        batch_op.create_index('ix_quiz_answer_scores',
                              ['attempt_id', 'marks', 'score', 'question_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            UPDATE quiz_answer SET marks = (e.item -> 'view' ->> 'marks')::double precision
            FROM quiz_attempt a, json_array_elements(a.questions) AS e(item)
            WHERE a.id = quiz_answer.attempt_id
              AND e.item -> 'view' ->> 'id' = quiz_answer.question_id""")
    else:
        op.execute("""
            UPDATE quiz_answer SET marks = (
                SELECT json_extract(j.value, '$.view.marks')
                FROM quiz_attempt a, json_each(a.questions) j
                WHERE a.id = quiz_answer.attempt_id
                  AND json_extract(j.value, '$.view.id') = quiz_answer.question_id)""")

    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempt_quiz'))
        batch_op.create_index('ix_quiz_attempt_quiz', ['quiz_slug', 'state', 'user_id', 'percent'], unique=False)



def downgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempt_quiz')
        batch_op.create_index(batch_op.f('ix_quiz_attempt_quiz'), ['quiz_slug', 'state'], unique=False)

    with op.batch_alter_table('quiz_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_answer_scores')
        batch_op.drop_constraint(op.f('ck_quiz_answer_marks_not_negative'), type_='check')
        batch_op.drop_column('marks')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_subject')
        batch_op.drop_index('ix_audit_event_at_id')
        batch_op.drop_index('ix_audit_event_action_at')
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)

