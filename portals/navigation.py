"""Each portal's sections, in the order they appear in its navigation.

A section whose `url` is None is not open yet: it shows in the menu, disabled,
so that staff see where the portal is going.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    label: str
    url: str | None
    icon: str
    badge: str | None = None  # URL name of a live count fragment
    permission: str | None = None  # shown only to people who hold it


PORTALS = {
    "teller": {
        "title": "Teller",
        "sections": [
            Section("Counter", "teller:home", "bi-house-door"),
            Section("Customers", "teller:customer-search", "bi-people"),
            Section("Cash deposit", "teller:deposit", "bi-box-arrow-in-down"),
            Section("Cash withdrawal", "teller:withdrawal", "bi-box-arrow-up"),
            Section("Transfers", "teller:transfer", "bi-arrow-left-right"),
            Section("NEFT / RTGS", "teller:remittance", "bi-bank"),
            Section("Standing instructions", "teller:standing", "bi-calendar2-week"),
            Section("Cheques", "teller:cheques", "bi-journal-check"),
            Section("ATM complaints", "teller:atm-complaint-new", "bi-exclamation-octagon"),
            Section("Debit cards", "teller:cards", "bi-credit-card"),
            Section("My requests", "teller:my-requests", "bi-hourglass-split"),
            Section("My till", "teller:till", "bi-safe"),
        ],
    },
    "supervisor": {
        "title": "Supervisor",
        "sections": [
            Section("Overview", "supervisor:home", "bi-house-door"),
            Section("Approval queue", "supervisor:queue", "bi-inboxes", badge="supervisor:queue-count"),
            Section("Tills and vault", "supervisor:tills", "bi-safe2"),
            Section("Branch reports", "supervisor:cash-position", "bi-file-earmark-bar-graph"),
            Section("Overdue loans", "supervisor:loans-overdue", "bi-exclamation-diamond"),
        ],
    },
    "customer": {
        "title": "Internet banking",
        "sections": [
            Section("Accounts", "customer:home", "bi-wallet2"),
            Section("Pay and transfer", "customer:pay", "bi-send"),
            Section("Payments", "customer:payments", "bi-clock-history"),
            Section("Payees", "customer:payees", "bi-person-lines-fill"),
            Section("UPI", "customer:upi", "bi-phone", badge="customer:collect-count"),
            Section("Standing instructions", "customer:standing", "bi-calendar2-week"),
            Section("Loans", "customer:loans", "bi-cash-coin"),
            Section("ATM complaints", "customer:atm-complaints", "bi-exclamation-octagon"),
            Section("Cards", "customer:cards", "bi-credit-card"),
            Section("Partner payouts", "customer:payouts", "bi-building-check"),
            Section("Statements", "customer:statements", "bi-file-earmark-text"),
            Section("Security", "mfa_index", "bi-shield-lock"),
        ],
    },
    "ops": {
        "title": "Operations",
        "sections": [
            Section("Overview", "ops:home", "bi-speedometer2"),
            Section("General ledger", "ops:chart", "bi-journal-text"),
            Section("Trial balance", "ops:trial-balance", "bi-calculator"),
            Section("Manual journal", "ops:journal-new", "bi-pencil-square", permission="users.post_manual_journal"),
            Section("My requests", "ops:my-requests", "bi-hourglass-split"),
            Section("Payments", "ops:payment-monitor", "bi-bank"),
            Section("ATM complaints", "ops:atm-complaints", "bi-exclamation-octagon", permission="cards.operate_atms"),
            Section("ATM fleet", "ops:atm-fleet", "bi-credit-card-2-front"),
            Section("ATM cash", "ops:atm-reconciliations", "bi-cash-stack", permission="cards.operate_atms"),
            Section("Loan products", "ops:loan-products", "bi-cash-coin"),
            Section("Loan portfolio", "ops:loan-portfolio", "bi-pie-chart"),
            Section("End of day", "ops:eod", "bi-moon-stars"),
            Section("Background jobs", "ops:jobs", "bi-gear-wide-connected"),
            Section("Partner API keys", "ops:partner-keys", "bi-key", permission="partners.manage_partners"),
            Section("Webhook deliveries", "ops:partner-deliveries", "bi-broadcast",
                    permission="partners.manage_partners"),
            Section("Compliance", None, "bi-clipboard-check"),
            Section("Audit trail", "ops:audit-list", "bi-shield-check", permission="users.view_audit_trail"),
            Section("Staff and roles", "ops:staff", "bi-person-badge", permission="users.manage_staff"),
        ],
    },
}


def for_namespace(namespace, user=None):
    """The portal's title and the sections `user` may open."""
    portal = PORTALS.get(namespace)
    if portal is None or user is None:
        return portal
    sections = [s for s in portal["sections"] if not s.permission or user.has_perm(s.permission)]
    return {**portal, "sections": sections}
