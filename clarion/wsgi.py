import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clarion.settings")
application = get_wsgi_application()

from clarion.web.pagecache import FastPath  # noqa: E402  (needs the apps loaded)

# Page-cache hits are answered before Django builds a request (clarion/web/pagecache.py).
application = FastPath(application)
