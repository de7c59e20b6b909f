"""Account statements as documents: CSV rows streamed one at a time, and a PDF laid
out as a bank statement.

Both read the ledger through `queries.iter_statement_lines`, which streams postings
in chunks, so a CSV of 100,000 lines keeps memory flat. A PDF is built in memory by
reportlab, so it stops after PDF_MAX_LINES transactions and says so (the CSV has
them all); the opening and closing balances always cover the whole period.

Amounts in CSV are plain decimal rupees (1234.50) so spreadsheets read them as
numbers; in the PDF they are grouped the Indian way (1,23,456.50). Debits take
money out of the customer's account, credits put it in.
"""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from banking.core.money import format_money
from banking.ledger.models import Side
from banking.ledger.queries import iter_statement_lines

PDF_MAX_LINES = 5000


@dataclass
class StatementPeriod:
    account: object  # DepositAccount
    start: datetime.date
    end: datetime.date

    @property
    def ledger(self):
        return self.account.ledger_account

    @property
    def opening(self):
        return self.ledger.balance_as_of(self.start - datetime.timedelta(days=1))

    @property
    def closing(self):
        return self.ledger.balance_as_of(self.end)

    def lines(self):
        return iter_statement_lines(self.ledger, self.start, self.end)


def rupees(paise):
    """Plain decimal rupees for machines: 123456 -> '1234.56'."""
    return str(Decimal(paise).scaleb(-2).quantize(Decimal("0.01")))


def posting_row(posting):
    entry = posting.entry
    debit = posting.amount if posting.side == Side.DEBIT else None
    credit = posting.amount if posting.side == Side.CREDIT else None
    return {
        "value_date": posting.business_date,
        "booked_at": timezone.localtime(entry.booked_at),
        "narration": entry.narration,
        "reference": entry.reference or entry.number,
        "debit": debit,
        "credit": credit,
        "balance": posting.balance_after,
    }


class _Echo:
    """A file-like object whose write() hands the line back (for csv.writer)."""

    def write(self, value):
        return value


def csv_rows(period):
    """The statement as CSV text, one line at a time (for StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    account = period.account
    yield writer.writerow([f"{settings.CBS_BANK_NAME} account statement"])
    yield writer.writerow(["Account number", account.number, account.product.name])
    yield writer.writerow(["Account holder", ", ".join(account.holder_names()), "CIF", account.customer.cif])
    yield writer.writerow(["Branch", account.branch.name, "IFSC", account.branch.ifsc])
    yield writer.writerow(["Period", period.start.isoformat(), period.end.isoformat()])
    yield writer.writerow(["Currency", account.currency])
    yield writer.writerow([])
    yield writer.writerow(["Value date", "Narration", "Reference", "Debit", "Credit", "Balance"])
    yield writer.writerow([period.start.isoformat(), "Opening balance", "", "", "", rupees(period.opening)])
    debits = credits = 0
    for posting in period.lines():
        row = posting_row(posting)
        debits += row["debit"] or 0
        credits += row["credit"] or 0
        yield writer.writerow([
            row["value_date"].isoformat(), _safe_cell(row["narration"]), _safe_cell(row["reference"]),
            rupees(row["debit"]) if row["debit"] else "", rupees(row["credit"]) if row["credit"] else "",
            rupees(row["balance"]),
        ])
    yield writer.writerow([period.end.isoformat(), "Closing balance", "", rupees(debits), rupees(credits),
                           rupees(period.closing)])


def _safe_cell(text):
    """Text a spreadsheet will not run as a formula (CSV injection, OWASP)."""
    text = str(text or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _address(customer):
    addresses = getattr(customer, "addresses", None)
    if addresses is None:
        return ""
    found = {a.kind: a for a in addresses.all()}
    chosen = found.get("correspondence") or found.get("permanent")
    return str(chosen) if chosen else ""


def pdf_bytes(period):
    """The statement as a PDF document (bytes), laid out as a bank statement."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    account = period.account
    customer = account.customer
    branch = account.branch
    bank = settings.CBS_BANK_NAME
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10)
    normal = ParagraphStyle("body", parent=styles["Normal"], fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=styles["Title"], fontSize=16, leading=20, alignment=0,
                           textColor=colors.HexColor("#0b3d6e"), spaceAfter=2)
    navy = colors.HexColor("#0b3d6e")

    def esc(text):
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def money(paise):
        return format_money(paise, account.currency, symbol=False)

    buffer = io.BytesIO()
    generated = timezone.localtime()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 10 * mm, f"{bank} · Account {account.number} · {period.start:%d %b %Y} to "
                                            f"{period.end:%d %b %Y} · generated {generated:%d %b %Y %H:%M} IST")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=f"Statement of account {account.number}",
                            author=bank, subject=f"{customer.display_name}, {period.start} to {period.end}")
    story = [
        Paragraph(esc(bank), title),
        Paragraph(esc(f"{branch.name} branch · {branch.address}, {branch.city} {branch.pincode} · IFSC {branch.ifsc}"),
                  small),
        Spacer(1, 4 * mm),
        Paragraph("<b>Statement of account</b>", styles["Heading2"]),
    ]
    holder = [Paragraph(f"<b>{esc(name)}</b>", normal) for name in account.holder_names()]
    address = _address(customer)
    if address:
        holder.append(Paragraph(esc(address), normal))
    holder.append(Paragraph(f"CIF {esc(customer.cif)}", normal))
    details = [
        Paragraph(f"Account number <b>{esc(account.number)}</b>", normal),
        Paragraph(f"{esc(account.product.name)} · {esc(account.get_mode_of_operation_display())}", normal),
        Paragraph(f"Period {period.start:%d %b %Y} to {period.end:%d %b %Y}", normal),
        Paragraph(f"Amounts in Indian rupees ({esc(account.currency)})", normal),
    ]
    head = Table([[holder, details]], colWidths=[95 * mm, 85 * mm])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
                              ("LEFTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 6),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    story += [head, Spacer(1, 5 * mm)]

    rows = [["Value date", "Narration", "Reference", "Debit", "Credit", "Balance"],
            [f"{period.start:%d %b %Y}", "Opening balance", "", "", "", money(period.opening)]]
    debits = credits = 0
    truncated = False
    for count, posting in enumerate(period.lines()):
        if count >= PDF_MAX_LINES:
            truncated = True
            break
        row = posting_row(posting)
        debits += row["debit"] or 0
        credits += row["credit"] or 0
        rows.append([f"{row['value_date']:%d %b %Y}", Paragraph(esc(row["narration"]), small),
                     Paragraph(esc(row["reference"]), small), money(row["debit"]) if row["debit"] else "",
                     money(row["credit"]) if row["credit"] else "", money(row["balance"])])
    rows.append([f"{period.end:%d %b %Y}", "Closing balance", "", money(debits), money(credits),
                 money(period.closing)])
    table = Table(rows, colWidths=[20 * mm, 62 * mm, 26 * mm, 24 * mm, 24 * mm, 24 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), navy),
        ("FONT", (0, 1), (-1, 1), "Helvetica-Bold", 8),
        ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8),
        ("LINEABOVE", (0, -1), (-1, -1), 0.75, navy),
        ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 2), (-1, -2), [colors.white, colors.HexColor("#f2f5f9")]),
    ]))
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    if truncated:
        story.append(Paragraph(
            f"This PDF lists the first {PDF_MAX_LINES:,} transactions of the period; the totals above cover those. "
            "Download the CSV statement for every transaction. The closing balance is the account's balance at "
            "the end of the period.", small))
    story.append(Paragraph(
        "This is a computer-generated statement and needs no signature. Please tell your branch within 30 days "
        "of any entry you do not recognise.", small))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
