"""The Key Facts Statement (RBI, April 2024): what a borrower is told before sanction.

One builder, `key_facts`, gives the figures and the charges in words from the
application as issued (its stored figures and the schedule they came from); the
teller's page and the PDF both render it, so the two never differ.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from banking.core.money import format_money

from .actions import kfs_schedule


@dataclass(frozen=True)
class KeyFacts:
    application: object
    facts: list
    charges: list
    rows: list


def key_facts(application):
    terms = application.product_version
    rows = kfs_schedule(application)
    floating = terms.is_floating
    rate_words = f"{application.rate}% a year, fixed" if not floating else (
        f"{application.rate}% a year, floating: the {terms.get_benchmark_display()} plus {terms.rate}%, reset every "
        f"{terms.reset_months} months")
    facts = [
        ("Loan", f"{application.product.name}, {format_money(application.amount)}"),
        ("Tenure", f"{application.months} months"),
        ("Rate of interest", rate_words),
        ("Repayment", f"{terms.get_schedule_type_display()}; {len(rows)} instalment{'s' if len(rows) != 1 else ''}, "
                      f"the first on {rows[0].due_date:%d %b %Y}"),
        ("Instalment", format_money(rows[0].total if len(rows) == 1 else application.emi)),
        ("Total interest", format_money(application.total_interest)),
        ("Processing fee and GST", f"{format_money(application.processing_fee)} + "
                                   f"{format_money(application.gst_on_fee)} GST, taken at the first disbursement"),
        ("Net amount paid to you", format_money(application.net_disbursed)),
        ("Total amount payable", format_money(application.total_payable)),
        ("Annual percentage rate (APR), fees included", f"{application.apr}%"),
    ]
    prepayment = ("None: a floating-rate loan to an individual carries no prepayment or foreclosure charge"
                  if floating else f"{terms.prepayment_charge_percent}% of the principal prepaid")
    charges = [
        ("Penal charge on overdue amounts", f"{terms.penal_charge_percent}% a year on the overdue amount, charged "
                                            "separately: never added to the rate of interest nor to the principal"),
        ("Prepayment or foreclosure", prepayment),
        ("Repayments pay", terms.allocation_order.replace(",", ", then ")),
    ]
    if application.gold_value:
        facts.insert(2, ("Gold pledged", f"{application.gold_grams} g of {application.gold_carat} carat, worth "
                                         f"{format_money(application.gold_value)}"))
    return KeyFacts(application=application, facts=facts, charges=charges, rows=rows)


def kfs_pdf(application):
    """The KFS as a PDF (bytes)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    kfs = key_facts(application)
    bank = settings.CBS_BANK_NAME
    styles = getSampleStyleSheet()
    normal = ParagraphStyle("body", parent=styles["Normal"], fontSize=9, leading=12)

    def esc(text):
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def money(paise):
        return format_money(paise, symbol=False)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"Key Facts Statement {application.number}", author=bank)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("FONTSIZE", (0, 0), (-1, -1), 8)])
    story = [
        Paragraph(esc(bank), styles["Title"]),
        Paragraph(f"<b>Key Facts Statement</b> · application {esc(application.number)} · "
                  f"{esc(application.customer.display_name)} (CIF {esc(application.customer.cif)})", normal),
        Paragraph(f"Issued {timezone.localtime(application.created_at):%d %b %Y} at {esc(application.branch.name)}",
                  normal),
        Spacer(1, 4 * mm),
    ]
    for heading, rows in (("The loan", kfs.facts), ("Charges", kfs.charges)):
        story.append(Paragraph(f"<b>{heading}</b>", styles["Heading3"]))
        table = Table([[Paragraph(esc(a), normal), Paragraph(esc(b), normal)] for a, b in rows],
                      colWidths=[60 * mm, 120 * mm])
        table.setStyle(grid)
        story.append(table)
    story.append(Paragraph("<b>Repayment schedule</b> (amounts in rupees)", styles["Heading3"]))
    data = [["No.", "Due on", "Principal", "Interest", "Instalment", "Principal left"]]
    data += [[str(r.number), f"{r.due_date:%d %b %Y}", money(r.principal), money(r.interest), money(r.total),
              money(r.closing)] for r in kfs.rows]
    table = Table(data, repeatRows=1, colWidths=[12 * mm, 28 * mm, 35 * mm, 35 * mm, 35 * mm, 35 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 7),
                               ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5"))]))
    story.append(table)
    if application.is_acknowledged:
        story += [Spacer(1, 4 * mm), Paragraph(
            f"Acknowledged {timezone.localtime(application.acknowledged_at):%d %b %Y %H:%M}: "
            f"{esc(application.acknowledgement)}", normal)]
    doc.build(story)
    return buffer.getvalue()
