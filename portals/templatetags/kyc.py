"""What the KYC verification panel of the supervisor's request page shows."""

from django import template

from banking.customers.models import KycDocument, KycDocumentKind

register = template.Library()


@register.simple_tag
def kyc_documents_of(approval):
    """The uploaded proofs of the customer a KYC verification request is about."""
    payload = approval.payload if isinstance(approval.payload, dict) else {}
    documents = KycDocument.objects.filter(customer_id=payload.get("customer_id"), customer__cif=payload.get("cif"))
    order = list(KycDocumentKind.values)
    return sorted(documents.select_related("customer"), key=lambda d: (order.index(d.kind), d.uploaded_at, d.pk))
