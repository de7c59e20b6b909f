"""The ATM fleet's background work (banking.core.jobs)."""

from banking.core import jobs

from .monitor import sweep_alerts


@jobs.periodic(cron="* * * * *", name="cards.sweep_alerts")
def sweep_terminal_alerts(*, timestamp):
    """Raise the alerts of terminals gone silent and clear the conditions that ended."""
    sweep_alerts()
