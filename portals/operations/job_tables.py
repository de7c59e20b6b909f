import django_tables2 as tables
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from banking.core.jobs import STATUS_LABELS

STATUS_TONE = {"todo": "secondary", "doing": "info", "succeeded": "success", "failed": "danger",
               "cancelled": "dark", "aborted": "dark"}
WIDE = {"td": {"class": "d-none d-md-table-cell"}, "th": {"class": "d-none d-md-table-cell"}}


class JobTable(tables.Table):
    id = tables.Column(verbose_name="Job")
    task_name = tables.Column(verbose_name="Task")
    queue_name = tables.Column(verbose_name="Queue", attrs=WIDE)
    status = tables.Column(verbose_name="Status")
    changed_at = tables.DateTimeColumn(verbose_name="Last change", format="d M H:i:s", default="—", attrs=WIDE)
    last_error = tables.Column(verbose_name="Last error", default="—",
                               attrs={"td": {"class": "small d-none d-md-table-cell"},
                                      "th": {"class": "d-none d-md-table-cell"}})
    retry = tables.TemplateColumn(template_name="portals/operations/jobs_retry.html", verbose_name="",
                                  orderable=False, empty_values=())

    class Meta:
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}
        row_attrs = {"data-job": lambda record: record.pk}

    def __init__(self, *args, may_retry=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.may_retry = may_retry
        if not may_retry:
            self.columns.hide("retry")

    def render_id(self, value):
        return f"#{value}"

    def render_task_name(self, value, record):
        if not record.last_error:
            return value
        # On a phone the error goes under the task: there is no room for its own column.
        return format_html('<span class="text-break">{}</span>'
                           '<div class="small text-danger-emphasis d-md-none">{}</div>', value, record.last_error)

    def render_status(self, record):
        badge = format_html('<span class="badge text-bg-{}">{}</span>', STATUS_TONE.get(record.status, "secondary"),
                            STATUS_LABELS.get(record.status, record.status))
        if record.status == "todo" and record.scheduled_at:
            badge = format_html('{} <span class="small text-body-secondary text-nowrap">from {}</span>', badge,
                                date_format(timezone.localtime(record.scheduled_at), "d M H:i"))
        if record.retries:
            return format_html('{}<div class="small text-body-secondary">retried, {} run{} so far</div>', badge,
                               record.runs, "" if record.runs == 1 else "s")
        return badge
