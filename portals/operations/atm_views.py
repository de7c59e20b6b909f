"""Operations' ATM screens: the live fleet monitor with its alerts, a terminal's page,
and the ATM simulator.

Everyone on the operations side (policy operations) reads the monitor and the
terminals' pages; acknowledging an alert and driving the simulator need
cards.operate_atms (policy ops_atms), which the operations role carries. The fleet
is the bank's, so the scope is every terminal.

The simulator drives the real switch through its API (portals/operations/
atm_simulator.py says how and why). While its page is open it sends an 0800
heartbeat every minute for each terminal, except those the person made go silent
(remembered in their session): a silent terminal is down five minutes after its
last heartbeat, as the status rule says.
"""

from decimal import Decimal

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.cards.models import MessageKind, SwitchMessage, Terminal, TerminalAlert
from banking.cards.monitor import acknowledge_alert, open_alerts, success_rate, with_activity
from banking.core.errors import BankingError
from portals import policies

from . import atm_simulator as simulator
from .atm_forms import SimulatorForm, TerminalPowerForm
from .atm_tables import SwitchMessageTable

PAGE = {"per_page": 25}
# The width a full cassette's bar is drawn against (notes).
CASSETTE_CAPACITY = 2000
RESPONSES = {"00": "Approved", "05": "Do not honour", "14": "Invalid card", "41": "Lost card",
             "43": "Stolen card", "51": "Insufficient funds", "54": "Expired card", "55": "Wrong PIN",
             "61": "Over the withdrawal limit", "75": "PIN tries exceeded", "91": "Issuer unavailable"}
SILENT = "atm_simulator_silent"


def _fleet(now):
    rows = []
    for terminal in with_activity(Terminal.objects.for_monitor(), now):
        cassettes = list(terminal.cassettes.all())
        rows.append({"terminal": terminal, "status": terminal.fleet_status(now), "cassettes": cassettes,
                     "capacity": max([CASSETTE_CAPACITY, *(c.count for c in cassettes)]),
                     "success_rate": success_rate(terminal)})
    return rows


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def atm_fleet(request):
    now = timezone.now()
    context = {"rows": _fleet(now), "alerts": open_alerts()[:50], "now": now,
               "may_acknowledge": request.user.has_perm("cards.operate_atms")}
    template = "portals/operations/atm_fleet.html"
    if request.htmx:
        template += "#alert-list" if request.GET.get("part") == "alerts" else "#fleet-grid"
    return render(request, template, context)


@require_POST
@policies.ops_atms
def atm_alert_acknowledge(request, pk):
    alert = get_object_or_404(TerminalAlert, pk=pk)
    try:
        acknowledge_alert(actor=request.user, alert=alert)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Acknowledged: {alert.summary}")
    if request.htmx:
        return render(request, "portals/operations/atm_fleet.html#alert-list",
                      {"alerts": open_alerts()[:50], "may_acknowledge": True})
    return redirect("ops:atm-fleet")


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def atm_terminal(request, terminal_id):
    now = timezone.now()
    terminal = get_object_or_404(with_activity(Terminal.objects.for_monitor(), now), terminal_id=terminal_id)
    transactions = SwitchMessageTable(SwitchMessage.objects.filter(terminal=terminal).exclude(
        kind=MessageKind.REVERSAL).select_related("terminal"), prefix="t-")
    RequestConfig(request, paginate=PAGE).configure(transactions)
    reversals = SwitchMessage.objects.filter(terminal=terminal, kind=MessageKind.REVERSAL).select_related(
        "original")[:50]
    cassettes = list(terminal.cassettes.all())
    expected = sum(c.value for c in cassettes)
    context = {"terminal": terminal, "status": terminal.fleet_status(now), "cassettes": cassettes,
               "capacity": max([CASSETTE_CAPACITY, *(c.count for c in cassettes)]),
               "success_rate": success_rate(terminal), "transactions": transactions, "reversals": reversals,
               "gl_balance": terminal.ledger_account.balance, "expected": expected,
               "difference": terminal.ledger_account.balance - expected,
               "replenishments": _replenishments(terminal),
               "alerts": terminal.alerts.filter(Q(acknowledged_at__isnull=True) | Q(cleared_at__isnull=True))
               .select_related("acknowledged_by")[:20]}
    template = "portals/operations/atm_terminal.html"
    if request.htmx:
        template += "#terminal-transactions"
    return render(request, template, context)


def _replenishments(terminal):
    """The terminal's replenishments, newest first, where the bank keeps them (None
    while it does not)."""
    related = getattr(terminal, "replenishments", None)
    return None if related is None else list(related.order_by("-requested_at", "-id")[:20])


# -- the simulator ------------------------------------------------------------------


def _silent(request):
    return set(request.session.get(SILENT, []))


@require_http_methods(["GET", "POST"])
@policies.ops_atms
def atm_simulator(request):
    form = SimulatorForm(initial=_last_choice(request))
    if request.method == "POST":
        form = SimulatorForm(request.POST)
        if form.is_valid():
            request.session["atm_simulator_receipt"] = _transact(request, form.cleaned_data)
            request.session["atm_simulator_choice"] = {"terminal": form.cleaned_data["terminal"].pk,
                                                       "card": form.cleaned_data["card"].pk}
            return redirect("ops:atm-simulator")
    receipt = request.session.pop("atm_simulator_receipt", None) if request.method == "GET" else None
    return render(request, "portals/operations/atm_simulator.html",
                  {"form": form, "receipt": receipt, "power": _power_rows(request),
                   "responses": RESPONSES})


def _last_choice(request):
    return request.session.get("atm_simulator_choice", {})


def _step(request, terminal, message, what):
    status, answer = simulator.send(request, terminal, message)
    code = answer.get("response_code", "")
    return {"what": what, "mti": message["mti"], "reply_mti": answer.get("mti", ""), "http_status": status,
            "code": code, "meaning": RESPONSES.get(code, answer.get("detail", "Refused")),
            "message": answer.get("message", "") or answer.get("detail", ""), "answer": answer}


def _transact(request, data):
    """Send what the person asked for; returns the receipt (JSON for the session)."""
    terminal, card, code = data["terminal"], data["card"], data["transaction"]
    amount = data.get("amount") if code == "01" else None
    message = simulator.request_message(terminal, card, code=code, pin=data["pin"], amount=amount)
    first = _step(request, terminal, message, dict(SimulatorForm.base_fields["transaction"].choices)[code])
    steps = [first]
    outcome = data["outcome"] if code == "01" else "dispensed"
    if outcome == "timeout":
        # The terminal never saw the answer: it dispenses nothing and reverses the whole amount.
        first["timed_out"] = True
        steps.append(_step(request, terminal, simulator.reversal_of(message, dispensed=0), "Reversal (timeout)"))
    elif outcome == "dispense_failure" and first["code"] == "00":
        dispensed = data.get("dispensed") or 0
        steps.append(_step(request, terminal, simulator.reversal_of(message, dispensed=dispensed),
                           "Reversal (dispense failure)"))
    answer = first["answer"]
    statement = [{**line, "amount": _paise(line.get("amount"))} for line in answer.get("transactions") or []
                 if isinstance(line, dict)]
    return {"terminal": terminal.terminal_id, "location": terminal.location, "card": card.masked,
            "stan": message["stan"], "at": timezone.localtime().strftime("%d %b %Y %H:%M:%S"),
            "transaction": first["what"], "amount": amount, "outcome": outcome,
            "dispensed": (data.get("dispensed") or 0) if outcome == "dispense_failure" else None,
            "approved": first["code"] == "00", "code": first["code"], "meaning": first["meaning"],
            "auth_code": answer.get("auth_code"), "notes": answer.get("notes"),
            "available_balance": _paise(answer.get("available_balance")), "statement": statement,
            "steps": [{k: v for k, v in step.items() if k != "answer"} for step in steps]}


def _paise(rupees):
    """The switch's rupee string ("47500.00") as paise for the bank's money filter; None when absent."""
    try:
        return int((Decimal(rupees) * 100).to_integral_value())
    except (TypeError, ValueError, ArithmeticError):
        return None


def _power_rows(request):
    silent = _silent(request)
    return [{"terminal": t, "silent": t.terminal_id in silent} for t in Terminal.objects.all()]


@require_POST
@policies.ops_atms
def atm_simulator_power(request):
    form = TerminalPowerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("ops:atm-simulator")
    terminal, silent = form.cleaned_data["terminal"], _silent(request)
    if form.cleaned_data["power"] == "silent":
        silent.add(terminal.terminal_id)
        messages.info(request, f"{terminal.terminal_id} has gone silent: no more heartbeats from this simulator. "
                               "The monitor shows it down five minutes after its last one.")
    else:
        silent.discard(terminal.terminal_id)
        simulator.send(request, terminal, simulator.heartbeat(terminal))
        messages.success(request, f"{terminal.terminal_id} sent a heartbeat and will keep sending them.")
    request.session[SILENT] = sorted(silent)
    return redirect("ops:atm-simulator")


@require_POST
@policies.ops_atms
def atm_simulator_heartbeats(request):
    """The simulator page's minute tick: an 0800 from every terminal not silent."""
    silent = _silent(request)
    for terminal in Terminal.objects.exclude(terminal_id__in=silent):
        simulator.send(request, terminal, simulator.heartbeat(terminal))
    if not request.htmx:
        messages.success(request, "Every terminal not silent sent a heartbeat.")
        return redirect("ops:atm-simulator")
    return render(request, "portals/operations/atm_simulator.html#terminal-power",
                  {"power": _power_rows(request)})
