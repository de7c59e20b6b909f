from django.core.management.base import BaseCommand

from banking.core.jobs import run_worker


class Command(BaseCommand):
    help = ("Run a background worker: the queued jobs and the scheduled ones (banking.core.jobs). Start as many as "
            "you like, here or on other machines pointed at the same database. Ctrl-C or SIGTERM stops it once "
            "its running jobs finish.")

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="append", dest="queues", metavar="NAME",
                            help="Work only on this queue (repeat for several; default: every queue).")
        parser.add_argument("--concurrency", type=int, default=1,
                            help="Jobs run at once by this worker, each on a thread of its own (default 1).")
        parser.add_argument("--name", default=None, help="The worker's name in the logs.")
        parser.add_argument("--burst", action="store_true",
                            help="Run the jobs that are due now, then stop (no scheduled jobs are added).")

    def handle(self, *args, queues=None, concurrency=1, name=None, burst=False, **options):
        if concurrency < 1:
            self.stderr.write("--concurrency is at least 1.")
            return
        run_worker(queues=queues, concurrency=concurrency, name=name, burst=burst)
