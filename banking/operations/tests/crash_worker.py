"""A worker process for the crash test: the day holds only the test's posting step
and the controller's own two, and the worker serves the queue "eod".

    DATABASE_URL=... python -m banking.operations.tests.crash_worker
"""

import os


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from banking.core import eod, jobs
    from banking.operations.eod import ROLL, SEAL

    from .steps import POSTING_STEP

    eod._steps.clear()
    for step in (POSTING_STEP, SEAL, ROLL):
        eod.register(step)
    jobs.run_worker(queues=["eod"], name=f"crash-test-{os.getpid()}")


if __name__ == "__main__":
    main()
