import django_filters
from django import forms

from banking.approvals import registry
from banking.approvals.models import ApprovalRequest
from banking.core.money import Money
from banking.users.models import Branch


def _branches(request):
    """The checker's own branch; head office is the filter's empty choice."""
    branch = getattr(request.user, "branch", None) if request else None
    return Branch.objects.filter(pk=branch.pk) if branch else Branch.objects.none()


class ApprovalQueueFilter(django_filters.FilterSet):
    """Amounts are typed in rupees and compared in paise."""

    kind = django_filters.ChoiceFilter(label="Kind", empty_label="All kinds")
    branch = django_filters.ModelChoiceFilter(
        label="Branch", queryset=_branches, empty_label="All branches", null_label="Head office"
    )
    amount_min = django_filters.NumberFilter(
        label="Amount from (₹)", method="filter_amount", min_value=0, max_digits=15, decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
    )
    amount_max = django_filters.NumberFilter(
        label="Amount up to (₹)", method="filter_amount", min_value=0, max_digits=15, decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
    )

    class Meta:
        model = ApprovalRequest
        fields = ["kind", "branch", "amount_min", "amount_max"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user if self.request else None
        names = set(registry.kinds_checkable_by(user)) if user else set()
        self.filters["kind"].extra["choices"] = [(k.name, k.label) for k in registry.kinds() if k.name in names]

    def filter_amount(self, queryset, name, value):
        if value is None:
            return queryset
        paise = Money.from_decimal(value).minor
        lookup = "amount__gte" if name == "amount_min" else "amount__lte"
        return queryset.filter(**{lookup: paise})
