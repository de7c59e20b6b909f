"""What core keeps in the database: the errors of background jobs.

Procrastinate (banking/core/jobs.py) keeps each job's state but only logs why it
failed; the operations queue screen shows the error, so every failure is written
here by the worker, one row per failed attempt.
"""

from django.db import models
from django.utils import timezone


class JobFailure(models.Model):
    # procrastinate_jobs.id; not a foreign key: procrastinate owns that table and may
    # delete finished jobs.
    job_id = models.BigIntegerField(db_index=True)
    task_name = models.CharField(max_length=128)
    attempt = models.PositiveIntegerField(help_text="The run that failed, counting from 1.")
    error = models.TextField()
    failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        # Operations may send a failed job back to the queue (the queue screen, /ops/jobs/).
        permissions = [("retry_jobs", "Can send a failed background job back to the queue")]

    def __str__(self):
        return f"Job {self.job_id} ({self.task_name}), attempt {self.attempt}: {self.error[:80]}"
