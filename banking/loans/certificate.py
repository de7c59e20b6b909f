"""The no-dues certificate: the bank's word that a closed loan owes nothing.

Issued only for a closed loan whose principal, interest and charges are all paid (the
loan sub-ledger at zero, every instalment and charge paid). Produced as a PDF the same
way as the KFS (kfs.py: reportlab, built in memory), from `no_dues_facts`, which the
screens may show too.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from banking.core.errors import ValidationFailed
from banking.core.money import format_money

from .models import LoanStatus


@dataclass(frozen=True)
class NoDues:
    loan: object
    facts: list
    closing: object


def no_dues_facts(loan):
    """The certificate's facts, or a refusal in words while anything is owed."""
    from . import servicing

    if loan.status != LoanStatus.CLOSED:
        raise ValidationFailed(f"Loan {loan.number} is not closed: a no-dues certificate is issued once it is repaid.")
    if loan.outstanding or servicing.unpaid_charges(loan) or any(
            not row.is_paid for row in loan.current_schedule.instalments.all()):
        raise ValidationFailed(f"Loan {loan.number} still has dues; the certificate is issued once all are paid.")
    repayments = list(loan.repayments.order_by("on", "id"))
    closing = repayments[-1] if repayments else None
    facts = [
        ("Borrower", f"{loan.customer.display_name} (CIF {loan.customer.cif})"),
        ("Loan", f"{loan.product.name} {loan.number}, sanctioned {loan.sanctioned_on:%d %b %Y}"),
        ("Amount disbursed", format_money(loan.disbursed_amount)),
        ("Closed on", f"{loan.closed_on:%d %b %Y}"),
        ("Repayments received", f"{len(repayments)}, {format_money(sum(r.amount for r in repayments))} in all"),
    ]
    if closing is not None:
        facts.append(("Last receipt", f"{closing.number} of {format_money(closing.amount)} "
                                      f"({closing.get_kind_display().lower()})"))
    return NoDues(loan=loan, facts=facts, closing=closing)


def no_dues_certificate_pdf(loan):
    """The certificate as a PDF (bytes)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    certificate = no_dues_facts(loan)
    bank = settings.CBS_BANK_NAME
    styles = getSampleStyleSheet()
    normal = ParagraphStyle("body", parent=styles["Normal"], fontSize=10, leading=14)

    def esc(text):
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=f"No-dues certificate {loan.number}", author=bank)
    table = Table([[Paragraph(esc(a), normal), Paragraph(esc(b), normal)] for a, b in certificate.facts],
                  colWidths=[50 * mm, 120 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [
        Paragraph(esc(bank), styles["Title"]),
        Paragraph(f"{esc(loan.branch.name)} · IFSC {esc(loan.branch.ifsc)}", normal),
        Spacer(1, 6 * mm),
        Paragraph("<b>No-dues certificate</b>", styles["Heading2"]),
        Paragraph(
            f"This is to certify that {esc(loan.customer.display_name)} has repaid loan {esc(loan.number)} in full. "
            f"Nothing is due to the bank on this loan as of {loan.closed_on:%d %b %Y}: no principal, no interest and "
            "no charges.", normal),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
        Paragraph(f"Issued {timezone.localtime():%d %b %Y} by {esc(bank)}. Any charge or lien the bank held for "
                  "this loan is released.", normal),
    ]
    doc.build(story)
    return buffer.getvalue()
