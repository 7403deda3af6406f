"""Gongzhi settings: one module, every deployment difference read from the environment.

See the configuration table in README.md. Defaults are safe for production: DEBUG is off
unless GONGZHI_DEBUG asks for it, and without DEBUG a secret key must be given.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from gongzhi.config.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("GONGZHI_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite database, huey queue, uploads

DEBUG = env_bool("GONGZHI_DEBUG", False)
DEMO_MODE = env_bool("GONGZHI_DEMO", False)

SECRET_KEY = env_secret("GONGZHI_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "GONGZHI_SECRET_KEY (or GONGZHI_SECRET_KEY_FILE) is required unless GONGZHI_DEBUG=1."
        )
    SECRET_KEY = "insecure-development-key-only-for-local-runs-" + "x" * 20

ALLOWED_HOSTS = env_list("GONGZHI_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("GONGZHI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "gongzhi.core.admin_apps.GongzhiAdminConfig",  # django.contrib.admin with our login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    "treebeard",
    "ninja",  # serves the API docs' Swagger UI from our static files, not a CDN
    "gongzhi.core",
    "gongzhi.accounts",
    "gongzhi.territory",
    "gongzhi.people",
    "gongzhi.audit",
    "gongzhi.imports",
    "gongzhi.notifications",
    "gongzhi.tickets",
    "gongzhi.doorplates",
    "gongzhi.votes",
    "gongzhi.surveys",
    "gongzhi.meetings",
    "gongzhi.open311",
    "gongzhi.phones",
    "gongzhi.insight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gongzhi.core.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gongzhi.accounts.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "gongzhi.config.urls"
WSGI_APPLICATION = "gongzhi.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gongzhi" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gongzhi.core.context_processors.gongzhi",
                "gongzhi.notifications.context_processors.inbox",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
# SQLite (WAL) is the embedded default; PostgreSQL is production. Nothing depends on either.
_database_url = env_str("GONGZHI_DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(_database_url, conn_max_age=env_int("GONGZHI_DB_CONN_MAX_AGE", 60))
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "gongzhi.sqlite3"),
            "OPTIONS": {
                # IMMEDIATE: writers take the lock at BEGIN, so a web and a worker process never
                # deadlock upgrading a read lock; WAL lets readers go on while one writes.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, queue ------------------------------------------------------------------------
REDIS_URL = env_str("GONGZHI_REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
elif env_bool("GONGZHI_LOCMEM_CACHE", False):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Shared by the web and worker processes of one machine (rate limits, cached pages).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

HUEY_IMMEDIATE = env_bool("GONGZHI_HUEY_IMMEDIATE", False)
if REDIS_URL and not HUEY_IMMEDIATE:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "gongzhi", "url": REDIS_URL, "immediate": False}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "gongzhi",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
    }
HUEY["consumer"] = {"workers": env_int("GONGZHI_WORKER_THREADS", 2), "worker_type": "thread"}

# --- Auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "territory:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Per-address request limits on public endpoints ("N/second|minute|hour|day").
RATE_LIMITS = {
    # Public pages and records readable without logging in (vote records, community boards), per address.
    "public_read": env_str("GONGZHI_RATE_LIMIT_PUBLIC_READ", "120/minute"),
    "api_token": env_str("GONGZHI_RATE_LIMIT_API_TOKEN", "20/minute"),
    "login": env_str("GONGZHI_RATE_LIMIT_LOGIN", "20/minute"),
    # Open311: service requests posted per API key; GET calls per client address.
    "open311_post": env_str("GONGZHI_RATE_LIMIT_OPEN311_POST", "60/minute"),
    "open311_get": env_str("GONGZHI_RATE_LIMIT_OPEN311_GET", "300/minute"),
    # One-time phone codes: sent per phone, sent per address, and checks per address.
    "phone_code": env_str("GONGZHI_RATE_LIMIT_PHONE_CODE", "5/hour"),
    "phone_code_ip": env_str("GONGZHI_RATE_LIMIT_PHONE_CODE_IP", "30/hour"),
    "phone_verify_ip": env_str("GONGZHI_RATE_LIMIT_PHONE_VERIFY_IP", "60/hour"),
}
LOGIN_FAILURE_LIMIT = env_int("GONGZHI_LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("GONGZHI_LOGIN_LOCKOUT_MINUTES", 15)
API_TOKEN_DAYS = env_int("GONGZHI_API_TOKEN_DAYS", 30)


# --- Personal data -----------------------------------------------------------------------
# ID numbers are encrypted with these Fernet keys (the first encrypts; all decrypt, so keys
# can rotate) and looked up by an HMAC keyed with GONGZHI_LOOKUP_KEY.
def _derived_key(label: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{label}:{SECRET_KEY}".encode()).digest()).decode()


FIELD_ENCRYPTION_KEYS = env_list("GONGZHI_FIELD_KEYS", [])
LOOKUP_HASH_KEY = env_secret("GONGZHI_LOOKUP_KEY")
if not FIELD_ENCRYPTION_KEYS or not LOOKUP_HASH_KEY:
    if not DEBUG and not env_bool("GONGZHI_ALLOW_DERIVED_KEYS", False):
        raise ImproperlyConfigured(
            "GONGZHI_FIELD_KEYS and GONGZHI_LOOKUP_KEY are required in production "
            "(generate them with `gongzhi keys`)."
        )
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_derived_key("field")]
    LOOKUP_HASH_KEY = LOOKUP_HASH_KEY or _derived_key("lookup")


# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gongzhi" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("GONGZHI_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "gongzhi" / "static",
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
    ("vendor/pico", _NODE / "@picocss" / "pico" / "css"),
    ("vendor/leaflet", _NODE / "leaflet" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("GONGZHI_STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("GONGZHI_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# --- Tickets -------------------------------------------------------------------------------
# Days a resident has to rate a resolved ticket before it closes unrated.
TICKET_RATING_WINDOW_DAYS = env_int("GONGZHI_TICKET_RATING_DAYS", 7)
# Minutes a summoned department has to report in (报到) after a whistle.
TICKET_REPORT_IN_MINUTES = env_int("GONGZHI_TICKET_REPORT_IN_MINUTES", 120)
# The site's public address (scheme and host), printed in the QR codes of the doorplates.
SITE_URL = env_str("GONGZHI_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("GONGZHI_SITE_URL must start with http:// or https://")
# Map tiles for the ticket map, e.g. "https://tiles.example.gov.cn/{z}/{x}/{y}.png"; empty draws
# the places' own boundaries with no tile server at all.
TICKET_MAP_TILES = env_str("GONGZHI_MAP_TILE_URL")
TICKET_MAP_TILE_ATTRIBUTION = env_str("GONGZHI_MAP_TILE_ATTRIBUTION")
if TICKET_MAP_TILES and (
    not TICKET_MAP_TILES.startswith(("http://", "https://"))
    or not all(part in TICKET_MAP_TILES for part in ("{z}", "{x}", "{y}"))
):
    raise ImproperlyConfigured(
        "GONGZHI_MAP_TILE_URL must start with http:// or https:// and contain {z}, {x} and {y}, "
        f"got {TICKET_MAP_TILES!r}"
    )
# Open311 jurisdiction_id values this endpoint answers to; empty accepts any (one jurisdiction).
OPEN311_JURISDICTIONS = env_list("GONGZHI_OPEN311_JURISDICTIONS", [])
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("GONGZHI_IMPORT_MAX_BYTES", 50 * 1024 * 1024)

# --- Notifications -------------------------------------------------------------------------
# The SMS gateway class (dotted path). The default writes messages to the log (development);
# gongzhi.notifications.sms.HttpGateway posts JSON to GONGZHI_SMS_URL with GONGZHI_SMS_TOKEN.
SMS_BACKEND = env_str("GONGZHI_SMS_BACKEND", "gongzhi.notifications.sms.LogGateway")
SMS_URL = env_str("GONGZHI_SMS_URL")
SMS_TOKEN = env_secret("GONGZHI_SMS_TOKEN")
# Delivery attempts per message before it is marked dead; retries wait 1, 2, 4 … minutes (capped).
NOTIFY_MAX_ATTEMPTS = env_int("GONGZHI_NOTIFY_MAX_ATTEMPTS", 8)
NOTIFY_BACKOFF_SECONDS = env_int("GONGZHI_NOTIFY_BACKOFF_SECONDS", 60)
NOTIFY_BACKOFF_MAX_SECONDS = env_int("GONGZHI_NOTIFY_BACKOFF_MAX_SECONDS", 3600)
if NOTIFY_MAX_ATTEMPTS < 1 or NOTIFY_BACKOFF_SECONDS < 10:
    raise ImproperlyConfigured(
        "GONGZHI_NOTIFY_MAX_ATTEMPTS must be at least 1 and GONGZHI_NOTIFY_BACKOFF_SECONDS at least 10."
    )

# --- Security ----------------------------------------------------------------------------
_https = env_bool("GONGZHI_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("GONGZHI_SSL_REDIRECT", _https)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("GONGZHI_BEHIND_PROXY", False) else None
)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("GONGZHI_SESSION_HOURS", 12) * 3600
SECURE_HSTS_SECONDS = env_int("GONGZHI_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = env_bool("GONGZHI_HSTS_PRELOAD", False)
# Preloading is a promise browsers keep for months, and with includeSubDomains it forces HTTPS on
# every subdomain (intranet hosts too); it stays an explicit opt-in, so check --deploy need not nag.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("GONGZHI_LOG_LEVEL", "INFO")},
    "loggers": {
        "jieba": {"level": "WARNING"},
        # One handler of ours: `run_huey` adds its own only to a huey logger without one, which
        # otherwise also propagates here and every worker line is printed twice.
        "huey": {"handlers": ["console"], "propagate": False},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
PAGE_SIZE = 50
