import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# This process serves web requests: the database's short limits (banking.core.timeouts).
os.environ.setdefault("DB_LIMITS", "web")
application = get_wsgi_application()
