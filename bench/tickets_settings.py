"""Settings of the ticket benchmark's web server: the project's own, with a bench-only urlconf
(`tickets_urls`: adds /healthz, the minimal Django view measured beside the submissions).
Used only by bench/tickets.py, which puts bench/ on the server's PYTHONPATH."""

from gongzhi.config.settings import *  # noqa: F403

ROOT_URLCONF = "tickets_urls"
