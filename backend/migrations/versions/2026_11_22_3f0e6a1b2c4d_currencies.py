"""Currencies: tickets in the currency spent, converted to the company's at a rate
fixed when filed.

The company's currency (COMPANY_CURRENCY, USD unless set) is recorded in `company`.
Every existing ticket was entered in it: its `currency` is that, its `company_amount`
its amount, at rate 1 with no rate date, so every total, limit and payment reads the
same figures as before. `exchange_rates` starts empty.

Money columns lose their fixed two decimals (NUMERIC without a scale keeps the decimals
each value was written with: JPY 1500, KWD 1.234); existing values keep theirs, and no
table is rewritten for it.

Revision ID: 3f0e6a1b2c4d
Revises: c394a05e43ea
Create Date: 2026-11-22 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from contoso.bootstrap import company_currency

revision: str = "3f0e6a1b2c4d"
down_revision: str | None = "c394a05e43ea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The money columns that become NUMERIC without a scale: (table, column, nullable,
# precision before, with two decimals).
MONEY = [
    ("tickets", "amount", False, 12),
    ("categories", "max_amount", True, 12),
    ("categories", "receipt_required_above", True, 12),
    ("payments", "total", False, 18),
    ("pending_totals", "amount", False, 18),
    ("decided_totals", "spent_amount", False, 18),
    ("decided_totals", "decided_amount", False, 18),
    ("paid_totals", "amount", False, 18),
]


def upgrade() -> None:
    currency = company_currency(context.config)
    op.create_table(
        "company",
        sa.Column("one", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("one", name=op.f("ck_company_one_row")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_company_currency_code")),
        sa.PrimaryKeyConstraint("one", name=op.f("pk_company")),
    )
    op.execute(
        sa.text("INSERT INTO company (one, currency) VALUES (true, :currency)").bindparams(
            currency=currency
        )
    )
    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("rate > 0", name=op.f("ck_exchange_rates_rate_positive")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_exchange_rates_currency_code")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_exchange_rates_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
    )
    op.create_index(
        "uq_exchange_rates_currency_valid_from",
        "exchange_rates",
        ["currency", "valid_from"],
        unique=True,
    )
    op.create_index(
        "ix_exchange_rates_recent",
        "exchange_rates",
        [sa.literal_column("valid_from DESC"), "currency"],
        unique=False,
    )
    for table, column, nullable, precision in MONEY:
        op.alter_column(
            table,
            column,
            type_=sa.Numeric(),
            existing_type=sa.Numeric(precision=precision, scale=2),
            existing_nullable=nullable,
        )
    # Constant defaults: PostgreSQL stores them once, rewriting nothing; they are then
    # dropped, since every filing states its own.
    op.add_column(
        "tickets",
        sa.Column("currency", sa.String(length=3), nullable=False, server_default=currency),
    )
    op.add_column(
        "tickets",
        sa.Column("exchange_rate", sa.Numeric(), nullable=False, server_default=sa.text("1")),
    )
    op.add_column("tickets", sa.Column("rate_date", sa.Date(), nullable=True))
    # The company amount is each ticket's own amount. Added as a column generated from
    # it, then made a plain one: one rewrite of the table with its indexes rebuilt in
    # bulk (7 s for a million tickets), where an UPDATE backfill took 66 s.
    op.add_column(
        "tickets",
        sa.Column(
            "company_amount", sa.Numeric(), sa.Computed("amount", persisted=True), nullable=False
        ),
    )
    op.execute("ALTER TABLE tickets ALTER COLUMN company_amount DROP EXPRESSION")
    op.alter_column("tickets", "currency", server_default=None)
    op.alter_column("tickets", "exchange_rate", server_default=None)
    op.create_check_constraint(
        op.f("ck_tickets_company_amount_positive"), "tickets", "company_amount > 0"
    )
    op.create_check_constraint(
        op.f("ck_tickets_exchange_rate_positive"), "tickets", "exchange_rate > 0"
    )
    op.create_check_constraint(
        op.f("ck_tickets_currency_code"), "tickets", "currency ~ '^[A-Z]{3}$'"
    )


def downgrade() -> None:
    # Going back would keep foreign amounts as if they were in the company's currency.
    foreign = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM tickets WHERE currency <> (SELECT currency FROM company)")
    )
    if foreign:
        tickets = "1 ticket is" if foreign == 1 else f"{foreign} tickets are"
        raise RuntimeError(
            f"{tickets} in another currency than the company's; downgrading "
            "would lose their conversion. Restore a backup taken before the upgrade instead."
        )
    op.drop_constraint(op.f("ck_tickets_currency_code"), "tickets", type_="check")
    op.drop_constraint(op.f("ck_tickets_exchange_rate_positive"), "tickets", type_="check")
    op.drop_constraint(op.f("ck_tickets_company_amount_positive"), "tickets", type_="check")
    op.drop_column("tickets", "company_amount")
    op.drop_column("tickets", "rate_date")
    op.drop_column("tickets", "exchange_rate")
    op.drop_column("tickets", "currency")
    for table, column, nullable, precision in MONEY:
        op.alter_column(
            table,
            column,
            type_=sa.Numeric(precision=precision, scale=2),
            existing_type=sa.Numeric(),
            existing_nullable=nullable,
        )
    op.drop_index("ix_exchange_rates_recent", table_name="exchange_rates")
    op.drop_index("uq_exchange_rates_currency_valid_from", table_name="exchange_rates")
    op.drop_table("exchange_rates")
    op.drop_table("company")
