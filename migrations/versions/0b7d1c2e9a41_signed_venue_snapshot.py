"""signed_venue: the venue's details as they were at a protocol's first signature

Until now a signed protocol's PDF printed the venue as it is now, so renaming a venue or changing its
permit holder changed the document of protocols signed long before (and its bytes). The first
signature now keeps the venue's details with the protocol; reopening clears them with the signed
content. Protocols signed before this migration have none and keep printing the live venue: their
details at signing time are not known, and guessing them would be worse than saying so.

A nullable column: no table is rewritten on PostgreSQL, and on SQLite ALTER TABLE ADD COLUMN.

Revision ID: 0b7d1c2e9a41
Revises: f4213e604c5f
Create Date: 2026-11-25 20:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0b7d1c2e9a41'
down_revision = 'f4213e604c5f'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('inspection', sa.Column('signed_venue', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_column('signed_venue')
