"""Settings for Spreekuur: one file, driven by the environment.

Every setting that differs between a laptop and production is read from an
environment variable; `.env.example` lists them all. Without any variable set the
project runs as a development set-up on SQLite under `var/` with a broker that
needs no server, which is what `make run` uses. `SPREEKUUR_ENV=production` turns
every safety switch on and refuses to start without a real secret key.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SPREEKUUR_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SPREEKUUR_ENV = os.environ.get("SPREEKUUR_ENV", "development")
PRODUCTION = SPREEKUUR_ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when SPREEKUUR_ENV=production.")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when SPREEKUUR_ENV=production.")
    # A development machine gets a random key of its own, kept out of git under var/.
    key_file = VAR_DIR / "secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _field_encryption_keys() -> list[str]:
    keys = env_list("FIELD_ENCRYPTION_KEYS")
    if keys:
        return keys
    if PRODUCTION:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when SPREEKUUR_ENV=production."
        )
    key_file = VAR_DIR / "field-encryption-key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


# Fernet keys, comma-separated; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = _field_encryption_keys()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin, with our own site: two factors and the staff pages (apps.py).
    "appointments.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_ratelimit",
    "appointments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "appointments.middleware.StaffSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a rate-limit refusal into the friendly 429 page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a lock-out into its answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses a locked-out user or address first.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock-out after this many failed sign-ins, per user name and address, for this long.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
# The client address as the rate limits and the access log see it (proxy header).
AXES_CLIENT_IP_CALLABLE = "appointments.access_log.client_address"
# A staff session ends after this many minutes without a request.
SPREEKUUR_STAFF_IDLE_MINUTES = env_int("SPREEKUUR_STAFF_IDLE_MINUTES", 30)
# The issuer shown in an authenticator app next to the account.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Spreekuur")

ROOT_URLCONF = "spreekuur.urls"
WSGI_APPLICATION = "spreekuur.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'spreekuur.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction starts, so two
    # requests that both want a slot queue up instead of failing half-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "spreekuur_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The Amsterdam Design System is installed by `npm ci` and served by the app
    # itself: no page loads anything from another host.
    ("ams/css", BASE_DIR / "node_modules/@amsterdam/design-system-css/dist"),
    ("ams/tokens", BASE_DIR / "node_modules/@amsterdam/design-system-tokens/dist"),
    ("ams/assets", BASE_DIR / "node_modules/@amsterdam/design-system-assets"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Development and tests serve straight from the finders, so `collectstatic` is
# only a production step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = ["amsterdam"]
CRISPY_TEMPLATE_PACK = "amsterdam"

# A shared cache (Redis in production) carries the rate-limit counters; without
# CACHE_URL a per-process memory cache does, which is enough for `make run`.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "spreekuur",
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Rate limits (django-ratelimit), per address, in its "count/period" notation.
# Holding is the tightest: a script that hoards slots runs out after a few.
RATELIMIT_VIEW = "appointments.views.too_many_requests"
# Behind the proxy the client address is in a header the proxy sets.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY") or None
SPREEKUUR_RATE_HOLD = os.environ.get("SPREEKUUR_RATE_HOLD", "6/10m")
SPREEKUUR_RATE_BOOK = os.environ.get("SPREEKUUR_RATE_BOOK", "20/10m")
SPREEKUUR_RATE_MANAGE = os.environ.get("SPREEKUUR_RATE_MANAGE", "60/10m")
SPREEKUUR_RATE_WAITLIST = os.environ.get("SPREEKUUR_RATE_WAITLIST", "5/h")
SILENCED_SYSTEM_CHECKS = [
    # Django's own RedisCache has an atomic incr; the library only lists older ones.
    "django_ratelimit.W001",
    # Without CACHE_URL outside production: one process, one memory cache is shared enough.
    *([] if PRODUCTION else ["django_ratelimit.E003"]),
]

# Sessions hold which slot a browser has on hold; nothing else of the client.
# With a shared cache (Redis in production) they live there: no database read,
# write and commit on each request of a booking (make bench: 7 of 25 queries of
# a booking), and Redis drops each one when it expires. Without CACHE_URL
# (`make run`, the tests) they stay in the database.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cache" if CACHE_URL else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 2)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_NAME = "__Host-sessionid" if PRODUCTION else "sessionid"
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_NAME = "__Host-csrftoken" if PRODUCTION else "csrftoken"
CSRF_FAILURE_VIEW = "appointments.views.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": with it, browsers send `Origin: null` on form posts and
# Django's CSRF check refuses every form. "same-origin" sends no Referer to any
# other host, so the manage token in a URL only ever reaches this server.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", PRODUCTION) else None
)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# The booking rules that staff do not configure per service.
SPREEKUUR_HOLD_MINUTES = env_int("SPREEKUUR_HOLD_MINUTES", 10)
SPREEKUUR_SLOT_WEEKS_AHEAD = env_int("SPREEKUUR_SLOT_WEEKS_AHEAD", 8)
# Seconds every client shares one reading of a week of free times (0: none).
# In a rush thousands ask for the same week at once; a time taken meanwhile
# still gets the friendly "taken" page with the nearest free times, read fresh.
SPREEKUUR_FREE_TIMES_CACHE_SECONDS = env_int("SPREEKUUR_FREE_TIMES_CACHE_SECONDS", 2)
SPREEKUUR_ORGANISATION = os.environ.get("SPREEKUUR_ORGANISATION", "GGD Amsterdam")
# The number clients call when the site cannot help them (shown on error pages).
SPREEKUUR_PHONE = os.environ.get("SPREEKUUR_PHONE", "020 555 5555")
# Absolute address the app is reached at, for links in calendar files and messages.
SPREEKUUR_BASE_URL = os.environ.get("SPREEKUUR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Celery: the broker is Redis in production and CI; `make run` uses a broker on
# disk that needs no server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "spreekuur"
# Workers log through Django's LOGGING, so the redaction filter applies there too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A web request that queues a task must not hang on a broker that is down.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
# Static schedule: the work itself lives in database tables (outbox, waitlist), so
# beat only says "look now"; no task is queued for a far-future moment.
CELERY_BEAT_SCHEDULE = {
    "outbox-dispatch": {"task": "appointments.tasks.outbox_dispatch", "schedule": 60.0},
    "waitlist-offer": {"task": "appointments.tasks.waitlist_offer_free_slots", "schedule": 60.0},
    # Keeps slots generated SPREEKUUR_SLOT_WEEKS_AHEAD weeks ahead; conflicts are logged.
    "slots-generate-ahead": {
        "task": "appointments.tasks.slots_generate_ahead",
        "schedule": crontab(hour=2, minute=30),
    },
    "sessions-clear": {
        "task": "appointments.tasks.sessions_clear",
        "schedule": crontab(hour=3, minute=45),
    },
    "access-log-check": {
        "task": "appointments.tasks.access_log_check",
        "schedule": crontab(hour=6, minute=0),
    },
    "personal-data-purge": {
        "task": "appointments.tasks.personal_data_purge",
        "schedule": crontab(hour=3, minute=15),
    },
}

# Messages. E-mail through Django's backends (SMTP in production, the console for
# `make run`, locmem in tests); SMS through a backend chosen the same way.
EMAIL_BACKEND_PATH = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        "OPTIONS": (
            {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=False),
                "timeout": env_int("EMAIL_TIMEOUT", 20),
            }
            if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
# A sender name that names no service or topic.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "GGD Amsterdam <noreply@example.nl>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "appointments.notifications.sms.NotifyNLSmsBackend"
    if PRODUCTION
    else "appointments.notifications.sms.ConsoleSmsBackend",
)
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms.jsonl"))
NOTIFYNL_API_KEY = os.environ.get("NOTIFYNL_API_KEY", "")
NOTIFYNL_BASE_URL = os.environ.get("NOTIFYNL_BASE_URL", "https://api.notifynl.nl")
NOTIFYNL_SMS_TEMPLATE_ID = os.environ.get("NOTIFYNL_SMS_TEMPLATE_ID", "")
# No SMS from 22:00 until 08:00 local time.
SPREEKUUR_SMS_QUIET_FROM = env_int("SPREEKUUR_SMS_QUIET_FROM", 22)
SPREEKUUR_SMS_QUIET_UNTIL = env_int("SPREEKUUR_SMS_QUIET_UNTIL", 8)
# The outbox: attempts before a message is marked failed, and how long a worker
# may hold a message it claimed before another worker may take it over.
SPREEKUUR_OUTBOX_MAX_ATTEMPTS = env_int("SPREEKUUR_OUTBOX_MAX_ATTEMPTS", 6)
SPREEKUUR_OUTBOX_LEASE_SECONDS = env_int("SPREEKUUR_OUTBOX_LEASE_SECONDS", 300)
SPREEKUUR_OUTBOX_BATCH = env_int("SPREEKUUR_OUTBOX_BATCH", 100)
# Days after the appointment that intake answers, nickname and staff note are kept.
SPREEKUUR_RETENTION_DAYS = env_int("SPREEKUUR_RETENTION_DAYS", 30)
# The daily access check: a staff member whose looks at client data in 24 hours
# exceed both this floor and this many times their daily mean is reported.
SPREEKUUR_ACCESS_ALERT_FLOOR = env_int("SPREEKUUR_ACCESS_ALERT_FLOOR", 25)
SPREEKUUR_ACCESS_ALERT_FACTOR = env_int("SPREEKUUR_ACCESS_ALERT_FACTOR", 3)
# Future appointments one e-mail address or phone number may hold at once.
SPREEKUUR_MAX_ACTIVE_PER_CONTACT = env_int("SPREEKUUR_MAX_ACTIVE_PER_CONTACT", 3)
# How long a waitlist offer holds its slot.
SPREEKUUR_WAITLIST_OFFER_MINUTES = env_int("SPREEKUUR_WAITLIST_OFFER_MINUTES", 120)
# Days an entry waits for an offer; then it ends and its contact is erased.
SPREEKUUR_WAITLIST_DAYS = env_int("SPREEKUUR_WAITLIST_DAYS", 30)

LOGIN_URL = "admin:login"

# Logs: JSON lines in production (one object per record, for the log platform),
# plain text on a laptop. Every handler redacts tokens, addresses and numbers
# (appointments/logging.py); error mails carry no request values at all.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "appointments.logging.RedactSecrets"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        },
        "mail_admins": {
            "class": "appointments.logging.RedactedAdminEmailHandler",
            "level": "ERROR",
            # It redacts the finished mail itself (the report quotes the URL).
            "filters": ["require_debug_false"],
            "include_html": False,
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {
            "handlers": ["console", "mail_admins"],
            "level": "ERROR",
            "propagate": False,
        },
        # Request lines carry the manage token in the path; they stay out of the log.
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "appointments.logging.PersonalDataReporterFilter"

# Addresses that get error mails (Django 6.1: plain addresses, no name pairs).
ADMINS = env_list("DJANGO_ADMINS")
