"""The card mailer: the letter the branch prints and hands over with a new card, the
only place the card's CVV is ever shown.

The CVV is never stored (PCI DSS 3.3.1.2: no column holds it, anywhere). Like an
issuer's hardware security module, the bank derives it when it is needed, as a keyed
function of the card number, the expiry (YYMM) and the service code under the
card-verification key (setting CBS_CARD_VERIFICATION_KEY, else one derived from
FIELD_ENCRYPTION_KEY): HMAC-SHA256 of the three,
decimalised as the CVV method does (the hex digits 0-9 in order, then A-F as 0-5),
first three digits. The same card always gives the same CVV, so a switch that is
handed the key can verify one without anyone keeping it.

The mailer is printed once (banking.cards.actions.print_mailer records when and by
whom). The PDF is built the way the loans' no-dues certificate is (reportlab, in
memory). It shows the card number masked, as everywhere: the full number is embossed
on the plastic.
"""

import hashlib
import hmac
import io

from django.conf import settings
from django.utils import timezone

# RuPay's domestic service code: 6 national use with a chip, 2 authorised by the
# issuer, 0 no restrictions, PIN required.
SERVICE_CODE = "620"


def _verification_key(configured, field_keys):
    if configured:
        return configured.encode()
    return hashlib.sha256(b"cbs-card-verification:" + field_keys.split(",")[0].strip().encode()).digest()


def card_verification_value(number, expires_on, service_code=SERVICE_CODE):
    """The card's 3-digit CVV, derived (never read from anywhere)."""
    key = _verification_key(settings.CBS_CARD_VERIFICATION_KEY, settings.FIELD_ENCRYPTION_KEY)
    message = f"{number}{expires_on:%y%m}{service_code}".encode()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest().upper()
    digits = [c for c in digest if c.isdigit()] + [str(int(c, 16) - 10) for c in digest if not c.isdigit()]
    return "".join(digits[:3])


def mailer_pdf(card, *, printed_at=None):
    """The mailer of `card` as a PDF (bytes), with its CVV."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    bank = settings.CBS_BANK_NAME
    account = card.account
    styles = getSampleStyleSheet()
    normal = ParagraphStyle("body", parent=styles["Normal"], fontSize=10, leading=14)
    printed_at = timezone.localtime(printed_at or timezone.now())

    def esc(text):
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    facts = [
        ("Cardholder", card.name_on_card),
        ("Card", f"{card.get_product_display()} {card.masked}"),
        ("Valid thru", f"{card.expires_on:%m/%y}"),
        ("Linked account", f"{account.product.name} {account.number}"),
        ("CVV", card_verification_value(card.number, card.expires_on)),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=f"Card mailer {card.masked}", author=bank)
    table = Table([[Paragraph(esc(a), normal), Paragraph(esc(b), normal)] for a, b in facts],
                  colWidths=[50 * mm, 120 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTSIZE", (0, -1), (-1, -1), 14)]))
    story = [
        Paragraph(esc(bank), styles["Title"]),
        Paragraph(f"{esc(account.branch.name)} · IFSC {esc(account.branch.ifsc)}", normal),
        Spacer(1, 6 * mm),
        Paragraph("<b>Your RuPay debit card</b>", styles["Heading2"]),
        Paragraph(f"Dear {esc(card.customer.display_name)}, your debit card on account {esc(account.number)} is "
                  "enclosed. The full card number is embossed on the card.", normal),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
        Paragraph("<b>Keep the CVV to yourself.</b> It is printed on this letter once: the bank does not keep it "
                  "and can never tell it to you again. No one from the bank will ever ask you for it, your PIN or "
                  "a one-time code.", normal),
        Spacer(1, 3 * mm),
        Paragraph("Set your PIN in internet banking, under Cards, with the code of your authenticator app (a green "
                  "PIN). Until then the card works at no ATM. If the card is lost or stolen, hotlist it at once "
                  "under Cards or at any branch.", normal),
        Spacer(1, 6 * mm),
        Paragraph(f"Printed {printed_at:%d %b %Y %H:%M} at {esc(account.branch.name)}.", normal),
    ]
    doc.build(story)
    return buffer.getvalue()
