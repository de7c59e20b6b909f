"""A process that runs one end-of-day step over all its partitions, one after the
other, for the crash test: killed with SIGKILL in the middle of one.

    DATABASE_URL=... python -m banking.deposits.tests.crash_step <step> <date> <partition size>
"""

import datetime
import os
import sys


def main(name, date, size):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from banking.core.eod import registered

    step = {step.name: step for step in registered()}[name]
    date = datetime.date.fromisoformat(date)
    for first, last in step.partitions(date=date, size=int(size)):
        step.run(date=date, first=first, last=last)
        print(f"partition {first}-{last} done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
