import django_filters
from django.db.models import Q

from banking.core import jobs

# What operations filter the queue by; "retried" is any job sent back to the queue after a failure.
STATUSES = [
    ("waiting", "Waiting"),
    ("running", "Running"),
    ("failed", "Failed"),
    ("retried", "Retried"),
    ("done", "Done"),
    ("stopped", "Cancelled or aborted"),
]
_BY_STATUS = {
    "waiting": Q(status="todo"),
    "running": Q(status="doing"),
    "failed": Q(status="failed"),
    "retried": Q(retries__gt=0),
    "done": Q(status="succeeded"),
    "stopped": Q(status__in=["cancelled", "aborted"]),
}


def _queues():
    return [(name, name) for name in jobs.queue_names()]


def _tasks():
    return [(name, name) for name in jobs.task_names()]


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=STATUSES, method="by_status", label="Status",
                                         empty_label="Any status")
    queue = django_filters.ChoiceFilter(field_name="queue_name", choices=_queues, label="Queue",
                                        empty_label="Any queue")
    task = django_filters.ChoiceFilter(field_name="task_name", choices=_tasks, label="Task", empty_label="Any task")

    def by_status(self, queryset, name, value):
        return queryset.filter(_BY_STATUS[value])
