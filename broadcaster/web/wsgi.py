"""WSGI entry for the console (waitress in `python main.py web`, or any WSGI server)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcaster.web.settings")
application = get_wsgi_application()
