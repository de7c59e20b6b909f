import django_filters

from banking.approvals import registry
from banking.approvals.models import ApprovalRequest
from banking.users.models import Branch
from portals.filters import RupeeFilter


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
    amount_min = RupeeFilter(field_name="amount", lookup_expr="gte", label="Amount from (₹)")
    amount_max = RupeeFilter(field_name="amount", lookup_expr="lte", label="Amount up to (₹)")

    class Meta:
        model = ApprovalRequest
        fields = ["kind", "branch", "amount_min", "amount_max"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user if self.request else None
        names = set(registry.kinds_checkable_by(user)) if user else set()
        self.filters["kind"].extra["choices"] = [(k.name, k.label) for k in registry.kinds() if k.name in names]
