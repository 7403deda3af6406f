import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings")
application = get_wsgi_application()

# gunicorn runs with --preload: load jieba's dictionary once in the master, shared by the workers.
from gongzhi.tickets.text import initialize  # noqa: E402

initialize()
