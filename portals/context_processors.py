from django.conf import settings
from django.utils.functional import SimpleLazyObject

from banking.ledger.holidays import holiday_name
from banking.ledger.models import BusinessDate

from .navigation import for_namespace

COUNTER_PORTALS = {"teller", "supervisor"}


def _holiday_today():
    return SimpleLazyObject(lambda: holiday_name(BusinessDate.objects.current()) or "")


def bank(request):
    """The bank's name and date and the current portal's navigation, for every page."""
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace.split(":")[0] if match and match.namespace else ""
    return {
        "bank_name": settings.CBS_BANK_NAME,
        "business_date": SimpleLazyObject(BusinessDate.objects.current),
        # The counter's portals say when the counters are closed for a bank holiday.
        "bank_holiday": _holiday_today() if namespace in COUNTER_PORTALS else None,
        "portal_namespace": namespace,
        "portal": for_namespace(namespace, getattr(request, "user", None)),
    }
