from django.conf import settings
from django.utils.functional import SimpleLazyObject

from banking.ledger.models import BusinessDate

from .navigation import for_namespace


def bank(request):
    """The bank's name and date and the current portal's navigation, for every page."""
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace.split(":")[0] if match and match.namespace else ""
    return {
        "bank_name": settings.CBS_BANK_NAME,
        "business_date": SimpleLazyObject(BusinessDate.objects.current),
        "portal_namespace": namespace,
        "portal": for_namespace(namespace, getattr(request, "user", None)),
    }
