from django.urls import path

from . import views

app_name = "supervisor"
urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("queue/count/", views.queue_count, name="queue-count"),
    path("queue/<int:pk>/", views.request_detail, name="request-detail"),
    path("queue/<int:pk>/approve/", views.request_approve, name="request-approve"),
    path("queue/<int:pk>/reject/", views.request_reject, name="request-reject"),
]
