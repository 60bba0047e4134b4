"""knowledge-check submissions indexed by launch, for the completion rule

A course is complete when every lesson's knowledge check was answered (issue 11); the rule
reads a learner's submissions through their launches, so the join needs this index.

Revision ID: 0018
Revises: 0017
"""

from alembic import op


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_check_submission", schema=None) as batch_op:
        batch_op.create_index(
            "ix_knowledge_check_submission_launch_course", ["launch_id", "course_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("knowledge_check_submission", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_check_submission_launch_course")
