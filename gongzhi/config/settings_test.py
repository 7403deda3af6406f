"""Test settings: the production module with test-friendly environment defaults.

Only environment defaults are set here; every setting is still computed by settings.py,
so the suite exercises the same code paths as production.
"""

import os
import tempfile

os.environ.setdefault("GONGZHI_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("GONGZHI_ALLOW_DERIVED_KEYS", "1")
os.environ.setdefault("GONGZHI_HTTPS", "0")
os.environ.setdefault("GONGZHI_HUEY_IMMEDIATE", "1")
os.environ.setdefault("GONGZHI_LOCMEM_CACHE", "1")
os.environ.setdefault("GONGZHI_STATIC_MANIFEST", "0")
os.environ.setdefault("GONGZHI_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("GONGZHI_VAR_DIR", tempfile.mkdtemp(prefix="gongzhi-test-"))

from gongzhi.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The browser tests serve pages from a live server whose request threads would otherwise share the
# test's single in-memory SQLite connection, interleaving their transactions with the test's own ORM
# calls ("database table is locked"). With a file, every thread has its own connection, as gunicorn
# workers do in production, and SQLite's locks and busy timeout order the writers.
if _e2e_database := os.environ.get("GONGZHI_TEST_DATABASE_FILE"):
    DATABASES["default"]["TEST"] = {"NAME": _e2e_database}  # noqa: F405
