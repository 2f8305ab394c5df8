"""indexes for national scale (issue 12)

Measured on the national synthetic data set (13,700 venues × 10 years, 3.1 M rows):

- inspection (status, planned_start) replaces (status): "protocols awaiting my signature, in date
  order" read a status in order without a sort; with planner statistics SQLite otherwise walked the
  planned_start order of all 238,000 inspections (340 ms on the start page).
- inspection (planned_start): a window of dates across kommuner (the start page's tonight and next
  two weeks for a police officer, who belongs to no kommun).
- inspection_participant (user_id, response, inspection_id) replaces (user_id): a user's
  inspections and open invitations answered from the index alone (a police officer's list: 4 ms of
  SQL instead of 12 on PostgreSQL with 2,500 participations).

Only indexes change: no data is touched, and on SQLite no table is rebuilt.

Revision ID: f4213e604c5f
Revises: 6645b927c7cc
Create Date: 2026-11-25 18:59:02.527257

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f4213e604c5f'
down_revision = '6645b927c7cc'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_inspection_status', table_name='inspection')
    op.create_index('ix_inspection_status_start', 'inspection', ['status', 'planned_start'])
    op.create_index('ix_inspection_start', 'inspection', ['planned_start'])
    op.drop_index('ix_inspection_participant_user_id', table_name='inspection_participant')
    op.create_index(
        'ix_inspection_participant_user', 'inspection_participant', ['user_id', 'response', 'inspection_id']
    )


def downgrade():
    op.drop_index('ix_inspection_participant_user', table_name='inspection_participant')
    op.create_index('ix_inspection_participant_user_id', 'inspection_participant', ['user_id'])
    op.drop_index('ix_inspection_start', table_name='inspection')
    op.drop_index('ix_inspection_status_start', table_name='inspection')
    op.create_index('ix_inspection_status', 'inspection', ['status'])
