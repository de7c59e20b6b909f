"""Count the cash of each branch's pool GL (1110-<branch>-POOL) into the branch's vault.

Before the teller's till took the initial deposit of an account opening, that cash
was posted to the branch's pool GL, which no till or vault counted: the vault, the
tills and the GL disagreed, and the teller's drawer was over at close. The cash has
long since gone to the vault, so this migration counts it there, largest notes
first (Dr vault, Cr pool, through the teller's `fund_vault`), and sends any paise,
which no note counts, to teller suspense (1902) to be cleared like a cash
difference. Each pool is then closed, so nothing posts to it again.

A database without pool cash (a new one) runs none of the live code below, so the
migration keeps working as the models change after it.
"""

from django.db import migrations

POOL = ("1110-", "-POOL")


def forward(apps, schema_editor):
    ledger_accounts = apps.get_model("ledger", "LedgerAccount")
    pools = list(ledger_accounts.objects.filter(code__startswith=POOL[0], code__endswith=POOL[1])
                 .exclude(status="closed").values_list("code", "branch_code", "balance"))
    if not pools:
        return
    from banking.ledger.actions import Line, post_entry, set_account_status
    from banking.ledger.chart import TELLER_SUSPENSE
    from banking.ledger.models import AccountStatus, Channel, EntryKind, LedgerAccount
    from banking.teller.actions import fund_vault
    from banking.teller.denominations import Denominations
    from banking.users.models import Branch

    for code, branch_code, balance in pools:
        if balance < 0:
            raise RuntimeError(f"{code} is overdrawn ({balance} paise); clear it by hand before migrating")
        rupees, paise = divmod(balance, 100)
        branch = Branch.objects.filter(code=branch_code).first()
        if rupees and branch is not None:
            fund_vault(actor=None, branch=branch, counts=Denominations.largest_first(rupees * 100),
                       idempotency_key=f"pool-to-vault-{code}", source_code=code,
                       narration=f"Opening deposits held in {code}, counted into the vault of {branch.name}")
        if paise or (rupees and branch is None):
            amount = paise + (rupees * 100 if branch is None else 0)
            post_entry(actor=None, lines=[Line.debit(LedgerAccount.objects.get(code=TELLER_SUSPENSE), amount),
                                          Line.credit(LedgerAccount.objects.get(code=code), amount)],
                       kind=EntryKind.CASH_MOVEMENT, channel=Channel.BRANCH, idempotency_key=f"pool-rest-{code}",
                       narration=f"Cash of {code} that no vault counts, to teller suspense")
        set_account_status(actor=None, account=LedgerAccount.objects.get(code=code), status=AccountStatus.CLOSED,
                           reason="Opening deposits go through the teller's till; this pool is no longer used")


class Migration(migrations.Migration):
    # The live actions run against the schema of these migrations.
    dependencies = [
        ("teller", "0006_retire_counter_cash"),
        ("ledger", "0010_post_entry_from_its_file"),
        ("audit", "0004_seal_by_writer_transaction"),
        ("approvals", "0002_idempotency_key"),
        ("deposits", "0003_room_for_activity_updates"),
        ("users", "0002_operate_payments_permission"),
    ]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
