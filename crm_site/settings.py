"""Settings for the branch CRM, driven by the environment (django-environ).

One file for every environment. Nothing here is production-only: production differs by the variables it sets.

- ``DATABASE_URL`` set: that database (PostgreSQL in CI, benchmarks and production); unset: SQLite under var/.
- ``REDIS_URL`` set: Redis as Celery broker and Django cache; unset: a file-based broker under var/ and a
  local-memory cache, so ``make run`` works on a bare machine.
- ``DEBUG`` is off unless set. With it off, ``SECRET_KEY`` and ``ALLOWED_HOSTS`` must be given.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CRM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only-key-do-not-use-in-production")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development)."
        ) from exc

# Personal identifiers (ID and mobile numbers) are stored encrypted (Fernet) with a keyed hash for exact search
# (see docs/security.md). PII_ENCRYPTION_KEYS: comma-separated Fernet keys, the first encrypts, all decrypt (key
# rotation). PII_HASH_KEY: the HMAC key of the search hashes; changing it needs a re-hash of every customer.
if DEBUG:
    PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS", default=[])
    PII_HASH_KEY = env.str("PII_HASH_KEY", default="development-only-pii-hash-key")
else:
    try:
        PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS")
        PII_HASH_KEY = env.str("PII_HASH_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS and PII_HASH_KEY must be set when DEBUG is off.") from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --------------------------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "django_htmx",
    "simple_history",
    "crm_site.apps.AxesConfig",  # django-axes, under a translated name in Django admin
    # The project's apps, from the ground floor up (docs/architecture.md).
    "scheduling",
    "idempotency",
    "organisation",
    "customers",
    "notifications",
    "consent",
    "relationships",
    "complaints",
    "pool",
    "reminders",
    "worktasks",
    "opportunities",
    "marketing",
    "dashboards",
    "targets",
    "feed",
    "demo",
]

MIDDLEWARE = [
    # Benchmark only (make bench): query count and server time as response headers; off unless set.
    *(["crm_site.bench_middleware.BenchMiddleware"] if env.bool("BENCH_QUERY_HEADER", default=False) else []),
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response but static files (see "Browser policies").
    "csp.middleware.CSPMiddleware",
    "crm_site.headers.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # NUL characters dropped from the query string before any page or Django admin reads it (docs/security.md).
    "crm_site.nul_middleware.NulQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "organisation.middleware.ActiveStaffMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "organisation.middleware.SessionLifetimeMiddleware",  # the absolute session lifetime (docs/security.md)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that it sees the final response of a failed login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_site.urls"
WSGI_APPLICATION = "crm_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_site.navigation.navigation",
                "customers.context_processors.header_search",
            ],
            # The one place figures are formatted (docs/ui.md, "Number formats"): {% load numbers %}.
            "libraries": {"numbers": "crm_site.templatetags.numbers"},
        },
    },
]

# --------------------------------------------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A bare-machine convenience: WAL lets the web server, worker and beat share the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost: seconds of compilation for a
    # query that runs in milliseconds (Today's follow-ups at 1,000,000 customers: 2.2 s with it, 73 ms without;
    # docs/performance.md). Short queries are this application's work: JIT is off unless DATABASE_JIT=1.
    if not env.bool("DATABASE_JIT", default=False):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------------------------------------------
# Redis: cache and Celery broker
# --------------------------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # Nothing in the cache is the only copy, so an unreachable Redis is a miss, not an error: short timeouts, and
    # after a failure the process skips Redis for a few seconds (crm_site/cache.py; docs/security.md, Availability).
    CACHES = {
        "default": {
            "BACKEND": "crm_site.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "crm",
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=0.2),
                "socket_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=0.2),
                "breaker_seconds": env.float("CACHE_BREAKER_SECONDS", default=5),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --------------------------------------------------------------------------------------------------------------
# Celery: task time limits, and when Redis hands a dead worker's task to another (docs/architecture.md)
# --------------------------------------------------------------------------------------------------------------
# Seconds; at the soft limit the task is told (SoftTimeLimitExceeded), at the hard limit its process is killed.
# Every task has the default; the long ones (feed.chain's steps, customers.tasks.derive_lifecycle) name
# LONG_TASK_TIME_LIMITS: the longest run measured, a step of the first chain after a first load of a million
# customers, takes 118 s (docs/performance.md, "The feed").
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
LONG_TASK_TIME_LIMITS = {
    "soft_time_limit": env.int("LONG_TASK_SOFT_TIME_LIMIT", default=540),
    "time_limit": env.int("LONG_TASK_TIME_LIMIT", default=600),
}
# Redis times an unacknowledged task from the moment a worker took it, not from its start: it may wait for a free
# process, then run up to its hard limit. A visibility timeout under twice the longest hard limit could hand a task
# still running to a second worker; a longer one keeps a dead worker's tasks waiting. Three times: 30 minutes.
VISIBILITY_TIMEOUT_FACTOR = 3


def visibility_timeout_for(*hard_time_limits: float) -> int:
    """The broker's visibility timeout for tasks whose longest hard time limit is among ``hard_time_limits``."""
    return round(VISIBILITY_TIMEOUT_FACTOR * max(hard_time_limits))


VISIBILITY_TIMEOUT = env.int(
    "CELERY_VISIBILITY_TIMEOUT",
    default=visibility_timeout_for(CELERY_TASK_TIME_LIMIT, LONG_TASK_TIME_LIMITS["time_limit"]),
)

# --------------------------------------------------------------------------------------------------------------
# Celery (crm_site/celery.py reads every CELERY_* setting)
# --------------------------------------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Future reminders live in the database, never as far-future ETAs (see docs/architecture.md).
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # How often a worker looks for tasks left unacknowledged by a dead worker (interval × throttle seconds).
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    # Publishing from a web request (crm_site.celery.CrmTask.safe_delay) uses connections of its own with short
    # timeouts, so that a hung Redis costs a request a fraction of a second, once per breaker period.
    BROKER_PUBLISH_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": env.float("BROKER_PUBLISH_TIMEOUT_SECONDS", default=0.15),
        "socket_timeout": env.float("BROKER_PUBLISH_TIMEOUT_SECONDS", default=0.15),
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    for _folder in (_broker_dir, VAR_DIR / "celery-control"):
        _folder.mkdir(parents=True, exist_ok=True)
    BROKER_PUBLISH_TRANSPORT_OPTIONS = {}
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery-control"),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request must fail fast when the broker is down (the nightly sweep catches up).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# After a failed publish, the process skips the broker this long (the tasks are logged and left to the sweeps).
BROKER_PUBLISH_BREAKER_SECONDS = env.float("BROKER_PUBLISH_BREAKER_SECONDS", default=5)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A worker that starts runs a catch-up pass: the daily jobs whose run today is missing (docs/reminders.md).
CATCH_UP_ON_WORKER_START = env.bool("CATCH_UP_ON_WORKER_START", default=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --------------------------------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock the *account* after repeated failures. Branch outlets sit behind one NAT address, so an
# IP lock would shut out a whole outlet; a username lock does not.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for an IP-based lock as well; for the reason above it is deliberately not used
# (see docs/security.md: password spraying is met by the password policy and intranet-only exposure).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "old_password", "new_password1", "new_password2"]
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_VERBOSE = False

# Sessions: 30 minutes idle timeout (OWASP ASVS 3.3.2), refreshed on every request. In the database only, not
# behind the cache: signing in and every signed-in page keep working with Redis unreachable, and a session deleted
# at sign-out cannot come back from a cache that missed the deletion during an outage (docs/security.md).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Personal information out of URLs, and sessions with an absolute lifetime (docs/security.md).
# A search term lives this long in the session behind its token (customers.search).
SEARCH_TERM_SECONDS = env.int("SEARCH_TERM_SECONDS", default=15 * 60)
# A session ends this long after its sign-in, however active (organisation.middleware.SessionLifetimeMiddleware).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
# The lock page says how long the lock lasts and when it ends (organisation.views.locked_out).
AXES_LOCKOUT_CALLABLE = "organisation.views.locked_out"

# --------------------------------------------------------------------------------------------------------------
# Transport security: on unless DEBUG. Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER.
# --------------------------------------------------------------------------------------------------------------
_secure_default = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_secure_default)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_secure_default)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_secure_default)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _secure_default else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_secure_default)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_secure_default)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --------------------------------------------------------------------------------------------------------------
# Browser policies: a strict Content-Security-Policy (django-csp) and a Permissions-Policy (crm_site.headers).
# Everything a page loads comes from the site itself (front-end libraries are vendored, no CDN); no inline script,
# no inline style attribute or element, no eval, no plugin, no framing. See docs/security.md.
# --------------------------------------------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws its select arrows and check marks as data: SVG images
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    },
}
# Features no page uses, switched off for the page and anything embedded in it ("()": no origin).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --------------------------------------------------------------------------------------------------------------
# Internationalisation: zh-hans first, English second
# --------------------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# locale/ is the project's catalogue (`make messages` regenerates it from the code); locale_vendor/ holds, by hand,
# the third-party packages' messages their own catalogues lack (django-axes, django-celery-beat, the Django admin's
# newest strings). The project's catalogue wins where both have a message.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
FORMAT_MODULE_PATH = ["crm_site.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --------------------------------------------------------------------------------------------------------------
# Static files (vendored under static/, served by WhiteNoise)
# --------------------------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files from collectstatic in production; plain files in development and tests.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --------------------------------------------------------------------------------------------------------------
# Email (the morning digest). Console in development, SMTP in production.
# --------------------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for the file-based backend
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm-noreply@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --------------------------------------------------------------------------------------------------------------
# Logging: to stderr; no personal identifiers are ever logged (see docs/security.md).
# --------------------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --------------------------------------------------------------------------------------------------------------
# Business rules that are policy, not code
# --------------------------------------------------------------------------------------------------------------
# A risk-tolerance assessment is valid this many days (commonly 12 months; keep configurable).
RISK_ASSESSMENT_VALID_DAYS = env.int("RISK_ASSESSMENT_VALID_DAYS", default=365)
# Lists count at most this many rows exactly; beyond it they show "10,000+" (an exact COUNT over a million rows
# costs more than the page itself).
LIST_COUNT_CAP = env.int("LIST_COUNT_CAP", default=10_000)
# An export holds at most this many rows.
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=20_000)

# Follow-up reminders (reminders/services.py; see docs/reminders.md).
REMINDER_BIRTHDAY_LEAD_DAYS = env.int("REMINDER_BIRTHDAY_LEAD_DAYS", default=3)
REMINDER_HOLIDAY_LEAD_DAYS = env.int("REMINDER_HOLIDAY_LEAD_DAYS", default=5)
REMINDER_MATURITY_LEAD_DAYS = env.int("REMINDER_MATURITY_LEAD_DAYS", default=7)
REMINDER_MOVEMENT_LOOKBACK_DAYS = env.int("REMINDER_MOVEMENT_LOOKBACK_DAYS", default=3)
CHURN_NO_CONTACT_DAYS = env.int("CHURN_NO_CONTACT_DAYS", default=180)
CHURN_AUM_DROP_PERCENT = env.int("CHURN_AUM_DROP_PERCENT", default=20)
HOLIDAY_GREETINGS_INCLUDE_QIXI = env.bool("HOLIDAY_GREETINGS_INCLUDE_QIXI", default=False)
TODAY_HORIZON_DAYS = env.int("TODAY_HORIZON_DAYS", default=7)

# Complaints (complaints/rules.py; see docs/complaints.md). The 15/30/60-day limits are the regulation's and
# are not settings.
COMPLAINT_WARNING_DAYS = env.int("COMPLAINT_WARNING_DAYS", default=3)
COMPLAINT_REVIEW_WINDOW_DAYS = env.int("COMPLAINT_REVIEW_WINDOW_DAYS", default=30)
COMPLAINT_ATTACHMENT_MAX_BYTES = env.int("COMPLAINT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
COMPLAINT_ATTACHMENTS_MAX = env.int("COMPLAINT_ATTACHMENTS_MAX", default=10)
# How many days back a complaint (or a repeat contact) may be registered as received: a letter opened late or a
# regulator's referral, never a mistyped year.
COMPLAINT_RECEIVED_MAX_AGE_DAYS = env.int("COMPLAINT_RECEIVED_MAX_AGE_DAYS", default=30)

# The core-banking extracts (feed/, docs/feed.md).
FEED_INBOX = Path(env.str("FEED_INBOX", default=str(VAR_DIR / "inbox")))
FEED_ENCODING = env.str("FEED_ENCODING", default="gb18030")
# Rows per COPY batch into the staging table: bounds the loader's memory whatever the file size.
FEED_BATCH_ROWS = env.int("FEED_BATCH_ROWS", default=20_000)
# Processes that parse a big file (validation and encryption are Python's work; PostgreSQL waits meanwhile).
FEED_WORKERS = env.int("FEED_WORKERS", default=2)
# PostgreSQL work_mem of a load's transaction (its hash joins over a million staged rows).
FEED_WORK_MEM = env.str("FEED_WORK_MEM", default="128MB")
FEED_UPLOAD_MAX_BYTES = env.int("FEED_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
FEED_UPLOAD_DIR = Path(env.str("FEED_UPLOAD_DIR", default=str(VAR_DIR / "uploads")))
# Asset snapshots are kept this many months; older months are dropped as whole partitions.
SNAPSHOT_RETENTION_MONTHS = env.int("SNAPSHOT_RETENTION_MONTHS", default=25)

# Demo data password, printed by seed_demo and make run. Only used by seed_demo.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="Demo@2026crm")
