"""protocol_presence: who has a protocol open now

UX.md asks that the protocol page always show who else is in the protocol. Each open page says so
every 30 seconds (POST /api/v1/inspections/{id}/presence): one row per person and inspection, its time
overwritten, removed with the inspection or the user. Not evidence and not audited: it says only
that a page was open. Reviewed: names follow the naming convention; the unique key lets two tabs of
one user race to insert without a duplicate.

Revision ID: 722b543aa6c1
Revises: 0b7d1c2e9a41
Create Date: 2026-11-25 20:12:27.501676

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '722b543aa6c1'
down_revision = '0b7d1c2e9a41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('protocol_presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_protocol_presence_inspection_id_inspection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_protocol_presence_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protocol_presence')),
    sa.UniqueConstraint('inspection_id', 'user_id', name=op.f('uq_protocol_presence_inspection_id_user_id'))
    )


def downgrade():
    op.drop_table('protocol_presence')
