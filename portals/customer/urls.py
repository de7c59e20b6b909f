from django.urls import path

from . import card_views, loan_views, payment_views, payout_views, standing_views, term_views, views
from .atm_complaint_views import complaint_list as atm_complaint_list
from .atm_complaint_views import complaint_new as atm_complaint_new

app_name = "customer"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/<str:number>/", views.account, name="account"),
    path("statements/", views.statement_list, name="statements"),
    path("accounts/<str:number>/maturity/", term_views.fd_maturity, name="fd-maturity"),
    path("accounts/<str:number>/statement/", views.statement, name="statement"),
    path("accounts/<str:number>/statement.csv", views.statement_csv, name="statement-csv"),
    path("accounts/<str:number>/statement.pdf", views.statement_pdf, name="statement-pdf"),
    path("activate/<str:token>/", views.activate, name="activate"),
    # Partner payouts waiting for the customer's authoriser
    path("payouts/", payout_views.payout_list, name="payouts"),
    path("payouts/<int:pk>/", payout_views.payout_decide, name="payout-decide"),
    # Standing instructions
    path("standing/", standing_views.standing_list, name="standing"),
    path("standing/new/", standing_views.standing_new, name="standing-new"),
    path("standing/<int:pk>/cancel/", standing_views.standing_cancel, name="standing-cancel"),
    # Payments: payees, pay and transfer, history, UPI.
    path("payees/", payment_views.payee_list, name="payees"),
    path("payees/new/", payment_views.payee_new, name="payee-new"),
    path("payees/ifsc/", payment_views.ifsc_lookup, name="ifsc-lookup"),
    path("payees/<int:pk>/remove/", payment_views.payee_remove, name="payee-remove"),
    path("pay/", payment_views.pay, name="pay"),
    path("payments/", payment_views.payment_list, name="payments"),
    path("payments/<str:number>/", payment_views.payment_detail, name="payment"),
    path("upi/", payment_views.upi, name="upi"),
    path("upi/requests/count/", payment_views.collect_count, name="collect-count"),
    path("upi/requests/<int:pk>/", payment_views.collect_request, name="collect-request"),
    path("upi/requests/<int:pk>/decline/", payment_views.collect_decline, name="collect-decline"),
    # Loans: my loans, the schedule and statement, applying online with the KFS
    path("loans/", loan_views.loan_list, name="loans"),
    path("loans/apply/", loan_views.loan_apply, name="loan-apply"),
    path("loans/applications/<str:number>/", loan_views.loan_application, name="loan-application"),
    path("loans/applications/<str:number>/kfs.pdf", loan_views.loan_kfs_pdf, name="loan-kfs-pdf"),
    path("loans/<str:number>/", loan_views.loan_detail, name="loan"),
    path("loans/<str:number>/schedule.csv", loan_views.schedule_csv, name="loan-schedule-csv"),
    path("loans/<str:number>/schedule.pdf", loan_views.schedule_pdf, name="loan-schedule-pdf"),
    path("loans/<str:number>/statement.csv", loan_views.statement_csv, name="loan-statement-csv"),
    path("loans/<str:number>/statement.pdf", loan_views.statement_pdf, name="loan-statement-pdf"),
    path("loans/<str:number>/pay/", loan_views.loan_pay, name="loan-pay"),
    path("loans/<str:number>/prepay/", loan_views.loan_prepay, name="loan-prepay"),
    path("loans/<str:number>/rate-reset/", loan_views.loan_reset_choice, name="loan-reset-choice"),
    path("loans/<str:number>/no-dues.pdf", loan_views.loan_no_dues, name="loan-no-dues"),
    # Debit cards: my cards, requesting one, the green PIN, controls, hotlisting and a replacement
    path("cards/", card_views.card_list, name="cards"),
    path("cards/request/", card_views.card_request, name="card-request"),
    path("cards/<int:pk>/", card_views.card_detail, name="card"),
    path("cards/<int:pk>/controls/", card_views.card_controls, name="card-controls"),
    path("cards/<int:pk>/pin/", card_views.card_pin, name="card-pin"),
    path("cards/<int:pk>/hotlist/", card_views.card_hotlist, name="card-hotlist"),
    path("cards/<int:pk>/replace/", card_views.card_replace, name="card-replace"),
    # ATM complaints: debited but no cash
    path("atm-complaints/", atm_complaint_list, name="atm-complaints"),
    path("atm-complaints/new/", atm_complaint_new, name="atm-complaint-new"),
]
