import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from banking.operations.models import EodRun, RunState, StepState

STATE_BADGE = {
    RunState.DONE: "text-bg-success",
    RunState.FAILED: "text-bg-danger",
    RunState.RUNNING: "text-bg-primary",
    RunState.WAITING: "text-bg-secondary",
}
WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


class EodRunTable(tables.Table):
    business_date = tables.Column(verbose_name="Business date")
    state = tables.Column(verbose_name="State")
    started_by = tables.Column(verbose_name="Started by", default="The controller (catch-up)", attrs=WIDE_ONLY)
    started_at = tables.DateTimeColumn(verbose_name="Started", format="d M Y H:i:s", attrs=WIDE_ONLY)
    finished_at = tables.DateTimeColumn(verbose_name="Finished", format="H:i:s", attrs=WIDE_ONLY)
    duration = tables.Column(verbose_name="Took", accessor="pk", orderable=False,
                             attrs={"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}})
    steps = tables.Column(verbose_name="Steps", accessor="pk", orderable=False)

    class Meta:
        model = EodRun
        fields = ["business_date", "state", "started_by", "started_at", "finished_at", "duration", "steps"]
        orderable = False
        empty_text = "End of day has not run yet."
        attrs = {"class": "table table-hover align-middle mb-0", "id": "eod-history"}

    def render_business_date(self, record):
        return format_html('<a class="fw-semibold" href="{}">{}</a>{}',
                           reverse("ops:eod-run", kwargs={"date": record.business_date.isoformat()}),
                           f"{record.business_date:%a %d %b %Y}",
                           format_html(' <span class="badge text-bg-light border">catch-up</span>')
                           if record.catch_up else "")

    def render_state(self, record):
        return format_html('<span class="badge {}">{}</span>', STATE_BADGE[record.state], record.get_state_display())

    def render_started_by(self, value):
        return value.display_name

    def render_duration(self, record):
        return took(record.duration)

    def render_steps(self, record):
        """Each step with its timing, folded under a count (no script needed to open it)."""
        steps = list(record.steps.all())
        ran = [step for step in steps if step.state != StepState.SKIPPED]
        rows = format_html_join(
            "", '<li><span class="{}">{}</span> · {}</li>',
            ((("text-danger" if step.state == StepState.FAILED else ""), step.title,
              took(step.duration) if step.state != StepState.SKIPPED else step.get_state_display().lower())
             for step in steps),
        )
        return format_html('<details><summary>{} of {} ran</summary><ol class="small mb-0 ps-3">{}</ol></details>',
                           len(ran), len(steps), rows)


def took(seconds):
    if seconds is None:
        return "—"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
