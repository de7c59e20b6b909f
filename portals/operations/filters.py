import django_filters
from django import forms

from banking.audit.models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    actor_username = django_filters.CharFilter(label="Who", lookup_expr="icontains")
    action = django_filters.CharFilter(label="Action", lookup_expr="icontains")
    object_id = django_filters.CharFilter(label="Object id")
    request_id = django_filters.CharFilter(label="Request id")
    occurred_after = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__gte", label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    occurred_before = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__lte", label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["actor_username", "action", "object_id", "request_id", "occurred_after", "occurred_before"]
