import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.cards.models import SwitchMessage
from banking.core.money import format_money

MONEY = {"td": {"class": "amount"}, "th": {"class": "text-end"}}
WIDE = {"td": {"class": "d-none d-md-table-cell"}, "th": {"class": "d-none d-md-table-cell"}}


class SwitchMessageTable(tables.Table):
    """A terminal's messages as the switch logged them (the card only masked)."""

    received_at = tables.DateTimeColumn(verbose_name="When", format="d M H:i:s")
    kind = tables.Column(verbose_name="Message")
    stan = tables.Column(verbose_name="STAN", attrs={"td": {"class": "font-monospace small"}})
    masked_card = tables.Column(verbose_name="Card", default="—", attrs={
        "td": {"class": "font-monospace small d-none d-md-table-cell"}, "th": {"class": "d-none d-md-table-cell"}})
    amount = tables.Column(verbose_name="Amount", attrs=MONEY)
    response_code = tables.Column(verbose_name="Answer")
    entry = tables.Column(verbose_name="Entry", default="—", attrs=WIDE)

    class Meta:
        model = SwitchMessage
        fields = ["received_at", "kind", "stan", "masked_card", "amount", "response_code", "entry"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}

    def render_kind(self, record):
        return record.get_kind_display()

    def render_amount(self, value):
        return format_money(value, "INR") if value else "—"

    def render_response_code(self, value):
        return format_html('<span class="badge text-bg-{}">{}</span>', "success" if value == "00" else "secondary",
                           value)

    def render_entry(self, record):
        return format_html('<a href="{}">#{}</a>', reverse("ops:entry-detail", args=[record.entry_id]),
                           record.entry_id)
