"""What end of day keeps about loans: each loan's running book, and each loan's
classification as it stood at the end of each day.

Design overview
- `LoanBook`: one row per disbursed loan, written only by end of day (eod.py).
  `accrued` is the interest accrued since the last due date in hundredths of a
  paisa (principal outstanding × rate ÷ 365 a day, actual/365 also in leap years);
  the loan's `accrued_interest` (paise, what a foreclosure quote adds) and the GL's
  interest receivable both hold it rounded half-up once, so each day's entry is the
  change of the rounded figure, never a sum of rounded days. `suspense` is the
  interest receivable on the loan that is not income because the loan is an NPA
  (GL 2903); `provision` what the bank holds against it (GL 2904). `npa_since` is
  the borrower's NPA date (the same on all of a borrower's loans), `loss` the mark
  of a loss asset. The `*_through` dates make each step's work once per date.
- `LoanDayStatus`: the loan at the day's end, date-stamped (RBI asks banks to
  classify daily): days past due, class, principal outstanding, its secured portion,
  interest in suspense and the provision held. The operations reports as of a date
  read these rows. Its key is (date, loan), so a rerun of the day writes nothing
  twice.

Rows carry no foreign-key constraint to loans, as the deposits' end-of-day rows:
end of day writes one per loan per day, and only end of day writes them.
"""

from django.db import models

from .models import Classification


class LoanBook(models.Model):
    loan = models.OneToOneField("loans.Loan", on_delete=models.DO_NOTHING, primary_key=True, db_constraint=False,
                                related_name="book")
    accrued = models.BigIntegerField(default=0, help_text="Hundredths of a paisa accrued since the last due date.")
    accrued_through = models.DateField(null=True, blank=True)
    dues_through = models.DateField(null=True, blank=True)
    suspense = models.BigIntegerField(default=0)
    provision = models.BigIntegerField(default=0)
    npa_since = models.DateField(null=True, blank=True)
    loss = models.BooleanField(default=False)
    classified_through = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(accrued__gte=0, suspense__gte=0, provision__gte=0),
                                   name="loan_book_nonnegative"),
        ]

    def __str__(self):
        return f"Book of loan {self.loan_id}"


class LoanDayStatusQuerySet(models.QuerySet):
    def on(self, date):
        return self.filter(date=date)


class LoanDayStatus(models.Model):
    date = models.DateField()
    loan = models.ForeignKey("loans.Loan", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    customer_id = models.BigIntegerField()
    branch_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    classification = models.CharField(max_length=12, choices=Classification.choices)
    days_past_due = models.PositiveIntegerField()
    outstanding = models.BigIntegerField()
    secured = models.BigIntegerField()
    suspense = models.BigIntegerField()
    provision = models.BigIntegerField()

    objects = LoanDayStatusQuerySet.as_manager()

    class Meta:
        ordering = ["date", "loan"]
        constraints = [models.UniqueConstraint(fields=["date", "loan"], name="loan_day_status_once")]
        indexes = [models.Index(fields=["date", "branch_id", "classification"], name="loan_day_status_branch")]

    def __str__(self):
        return f"Loan {self.loan_id} {self.classification} on {self.date}"
