import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.core.money import format_money
from banking.ledger.models import Posting


class PostingTable(tables.Table):
    business_date = tables.DateColumn(verbose_name="Value date", format="d M Y", accessor="business_date")
    entry = tables.Column(verbose_name="Entry", accessor="entry_id")
    kind = tables.Column(verbose_name="Kind", accessor="entry__kind", orderable=False)
    narration = tables.Column(verbose_name="Narration", accessor="entry__narration", orderable=False)
    debit = tables.Column(verbose_name="Debit", accessor="amount", attrs={"td": {"class": "amount"},
                                                                          "th": {"class": "text-end"}})
    credit = tables.Column(verbose_name="Credit", accessor="amount", empty_values=(),
                           attrs={"td": {"class": "amount"}, "th": {"class": "text-end"}})
    balance_after = tables.Column(verbose_name="Balance", attrs={"td": {"class": "amount"},
                                                                 "th": {"class": "text-end"}})

    class Meta:
        model = Posting
        fields = ["business_date", "entry", "kind", "narration", "debit", "credit", "balance_after"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_entry(self, record):
        return format_html('<a href="{}">{}</a>', reverse("ops:entry-detail", args=[record.entry_id]),
                           record.entry.number)

    def render_kind(self, record):
        return record.entry.get_kind_display()

    def render_debit(self, record):
        return format_money(record.amount, record.account.currency) if record.side == "D" else ""

    def render_credit(self, record):
        return format_money(record.amount, record.account.currency) if record.side == "C" else ""

    def render_balance_after(self, value, record):
        return format_money(value, record.account.currency)
