"""learning: lesson views, quiz attempts, scenario runs, self-assessments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:05:53.209388
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lesson_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('course_id', sa.String(length=80), nullable=False),
    sa.Column('lesson_id', sa.String(length=80), nullable=False),
    sa.Column('content_version', sa.String(length=40), nullable=False),
    sa.Column('first_viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_viewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_lesson_view_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_view')),
    sa.UniqueConstraint('platform_id', 'sub', 'lesson_id', name=op.f('uq_lesson_view_platform_id_sub_lesson_id'))
    )
    with op.batch_alter_table('lesson_view', schema=None) as batch_op:
        batch_op.create_index('ix_lesson_view_learner_course', ['platform_id', 'sub', 'course_id'], unique=False)

    op.create_table('quiz_attempt',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('launch_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.String(length=80), nullable=False),
    sa.Column('quiz_id', sa.String(length=80), nullable=False),
    sa.Column('content_version', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('responses', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('in_progress', 'submitted', name='attempt_status', native_enum=False, length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score_raw', sa.Float(), nullable=True),
    sa.Column('score_max', sa.Float(), nullable=True),
    sa.Column('score_scaled', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['launch_id'], ['launch.id'], name=op.f('fk_quiz_attempt_launch_id_launch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_quiz_attempt_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempt')),
    sa.UniqueConstraint('platform_id', 'sub', 'quiz_id', 'number', name=op.f('uq_quiz_attempt_platform_id_sub_quiz_id_number'))
    )
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_attempt_learner_quiz', ['platform_id', 'sub', 'quiz_id'], unique=False)

    op.create_table('scenario_run',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('launch_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.String(length=80), nullable=False),
    sa.Column('scenario_id', sa.String(length=80), nullable=False),
    sa.Column('content_version', sa.String(length=40), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('in_progress', 'finished', name='run_status', native_enum=False, length=16), nullable=False),
    sa.Column('ending_id', sa.String(length=80), nullable=True),
    sa.Column('skill_scores', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['launch_id'], ['launch.id'], name=op.f('fk_scenario_run_launch_id_launch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_scenario_run_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_run'))
    )
    with op.batch_alter_table('scenario_run', schema=None) as batch_op:
        batch_op.create_index('ix_scenario_run_learner_scenario', ['platform_id', 'sub', 'scenario_id'], unique=False)

    op.create_table('self_assessment_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('launch_id', sa.Uuid(), nullable=False),
    sa.Column('assessment_id', sa.String(length=80), nullable=False),
    sa.Column('content_version', sa.String(length=40), nullable=False),
    sa.Column('ratings', sa.JSON(), nullable=False),
    sa.Column('averages', sa.JSON(), nullable=False),
    sa.Column('modules', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['launch_id'], ['launch.id'], name=op.f('fk_self_assessment_record_launch_id_launch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_self_assessment_record_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessment_record'))
    )
    with op.batch_alter_table('self_assessment_record', schema=None) as batch_op:
        batch_op.create_index('ix_self_assessment_record_learner', ['platform_id', 'sub'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('self_assessment_record', schema=None) as batch_op:
        batch_op.drop_index('ix_self_assessment_record_learner')

    op.drop_table('self_assessment_record')
    with op.batch_alter_table('scenario_run', schema=None) as batch_op:
        batch_op.drop_index('ix_scenario_run_learner_scenario')

    op.drop_table('scenario_run')
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempt_learner_quiz')

    op.drop_table('quiz_attempt')
    with op.batch_alter_table('lesson_view', schema=None) as batch_op:
        batch_op.drop_index('ix_lesson_view_learner_course')

    op.drop_table('lesson_view')
