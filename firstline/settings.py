"""FirstLine settings: one file, driven by the environment (see docs/operations.md).

Defaults run a single-server install over plain HTTP on localhost. A production
install behind TLS sets ``FIRSTLINE_HTTPS=1`` (secure cookies, HSTS, redirect);
``firstline check --deploy`` then reports nothing. Secrets may come from
``*_FILE`` variables or, on a single server, are made once in the data directory.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import dj_database_url

from firstline.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("FIRSTLINE_DATA_DIR", str(BASE_DIR / "data"))).resolve()
if not DATA_DIR.exists():
    # The database, secrets and job queue live here: only the server's user may enter (docs/security.md).
    DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    DATA_DIR.chmod(0o700)


def _local_secret(name: str, nbytes: int = 32) -> str:
    """A secret kept in the data directory, made on first use (single-server installs)."""
    path = DATA_DIR / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_urlsafe(nbytes), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


DEBUG = env_bool("FIRSTLINE_DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or _local_secret("secret_key", 50)
# Keys for sealed personal fields (AES-GCM) and their blind index (HMAC), and the audit chain.
SEAL_KEY = env_str("FIRSTLINE_SEAL_KEY") or _local_secret("seal_key")
INDEX_KEY = env_str("FIRSTLINE_INDEX_KEY") or _local_secret("index_key")
AUDIT_KEY = env_str("FIRSTLINE_AUDIT_KEY") or _local_secret("audit_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "template_partials",
    "axes",
    "huey.contrib.djhuey",
    "firstline.places",
    "firstline.accounts",
    "firstline.audit",
    "firstline.people",
    "firstline.status",
    "firstline.tasks",
    "firstline.gates",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "firstline.middleware.PolicyHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "firstline.middleware.RequestSizeMiddleware",
    "firstline.middleware.NulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "firstline.urls"
WSGI_APPLICATION = "firstline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "firstline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# --- Database: SQLite (WAL, busy timeout, IMMEDIATE transactions) unless DATABASE_URL says otherwise.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
}
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'firstline.sqlite3'}")
# Connections are kept (per server thread) on SQLite too: closing the last connection of a WAL
# database checkpoints and removes the WAL, 10-25 ms that a request would pay (docs/benchmarks.md).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    DATABASES["default"]["TEST"] = {"NAME": env_str("FIRSTLINE_TEST_DB") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "firstline.accounts.backends.AddressLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AXES_FAILURE_LIMIT = env_int("FIRSTLINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [
    ["username", "ip_address"]
]  # the pair: a typo locks neither colleagues nor the user elsewhere
AXES_CLIENT_IP_CALLABLE = "firstline.audit.log.client_ip"
# An address alone is stopped later: failures of any usernames from it, per hour, counted in the database.
LOGIN_IP_FAILURE_LIMIT = env_int("FIRSTLINE_LOGIN_IP_FAILURE_LIMIT", 50)
LOGIN_IP_WINDOW_SECONDS = 3600
# The client's address: REMOTE_ADDR, unless that is one of these proxies (addresses or networks);
# then the last address in CLIENT_IP_HEADER that is not a trusted proxy.
TRUSTED_PROXIES = env_list("FIRSTLINE_TRUSTED_PROXIES", [])
CLIENT_IP_HEADER = env_str("FIRSTLINE_CLIENT_IP_HEADER", "X-Forwarded-For")
for _proxy in TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a mistyped proxy stops the start, not every request
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
API_TOKEN_DAYS = env_int("FIRSTLINE_API_TOKEN_DAYS", 30)

# --- Sessions and cookies
HTTPS = env_bool("FIRSTLINE_HTTPS", False)
SESSION_COOKIE_AGE = env_int("FIRSTLINE_SESSION_SECONDS", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: the age counts from the last request
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("FIRSTLINE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("FIRSTLINE_BEHIND_PROXY") else None
SILENCED_SYSTEM_CHECKS: list[str] = []
X_FRAME_OPTIONS = "DENY"

# --- Language and time
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "firstline" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
DAILY_CUTOFF_HOUR = env_int("FIRSTLINE_CUTOFF_HOUR", 15)

# --- Screening rules (DESIGN.md §5): the deployment's defaults; a community may override
# the first four on its rules page (status.CommunityRules).
SCREENING = {
    "fever_threshold": env_str("FIRSTLINE_FEVER_THRESHOLD", "37.3"),  # °C, this reading or higher is a fever
    "isolation_days": env_int("FIRSTLINE_ISOLATION_DAYS", 14),
    "observation_checkins": env_int("FIRSTLINE_OBSERVATION_CHECKINS", 7),  # normal check-ins in a row end it
    "referral_stale_hours": env_int("FIRSTLINE_REFERRAL_STALE_HOURS", 6),
    # Check-in windows, local time [start hour, end hour): morning and evening.
    "checkin_windows": [(6, 12), (16, 22)],
    # Hours until a rule's task is due, and until an urgent one is.
    "task_due_hours": env_int("FIRSTLINE_TASK_DUE_HOURS", 24),
    "urgent_task_due_hours": env_int("FIRSTLINE_URGENT_TASK_DUE_HOURS", 2),
}

# Gates (overridable per community in GateRules): the outing quota and how old a gate phone's list may be.
GATES = {
    "outing_people": env_int("FIRSTLINE_OUTING_PEOPLE", 1),  # people of one household out per period
    "outing_every_days": env_int("FIRSTLINE_OUTING_EVERY_DAYS", 2),
    "outing_hours": env_int("FIRSTLINE_OUTING_HOURS", 2),  # longer out is overdue: flagged, and a task
    "list_max_age_hours": env_int("FIRSTLINE_GATE_LIST_MAX_AGE_HOURS", 12),
    "key_days": env_int("FIRSTLINE_PASS_KEY_DAYS", 30),  # a new signing key after this many days
}

# --- Static files (served by whitenoise; vendored front-end assets live in static/vendor)
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "firstline" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": DATA_DIR / "media"}},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Jobs: Huey on SQLite in the data directory by default, Redis with FIRSTLINE_REDIS_URL.
REDIS_URL = env_str("FIRSTLINE_REDIS_URL")
HUEY = {
    "name": "firstline",
    "immediate": env_bool("FIRSTLINE_JOBS_IMMEDIATE", False),
    "consumer": {"workers": env_int("FIRSTLINE_JOB_WORKERS", 2), "worker_type": "thread"},
    **(
        {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
        if REDIS_URL
        else {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "jobs.sqlite3")}
    ),
}

# --- Ledger behaviour
# In-process caches: the default (rate limits…) and "maps": the drawn battle maps and the dashboard's
# colour counts, kept per community map version (a 5,000-household map is ~0.5 MB: 32 kept per process).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "maps": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "maps",
        "OPTIONS": {"MAX_ENTRIES": 32},
    },
}

LEDGER_PAGE_SIZE = env_int("FIRSTLINE_PAGE_SIZE", 50)
IMPORT_MAX_BYTES = env_int("FIRSTLINE_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# A small file may unpack to millions of rows: the reader stops at the first row, column or cell over these.
IMPORT_MAX_ROWS = env_int("FIRSTLINE_IMPORT_MAX_ROWS", 200_000)
IMPORT_MAX_COLUMNS = env_int("FIRSTLINE_IMPORT_MAX_COLUMNS", 200)
IMPORT_MAX_CELLS = env_int("FIRSTLINE_IMPORT_MAX_CELLS", 6_000_000)
IMPORT_MAX_UNPACKED_BYTES = env_int("FIRSTLINE_IMPORT_MAX_UNPACKED_BYTES", 500 * 1024 * 1024)
EXPORT_APPROVAL_ROWS = env_int("FIRSTLINE_EXPORT_APPROVAL_ROWS", 500)
# Exact searches by full ID number or phone, per user (counted in the database: every process shares it).
EXACT_SEARCH_LIMIT = env_int("FIRSTLINE_EXACT_SEARCH_LIMIT", 30)
EXACT_SEARCH_WINDOW_SECONDS = env_int("FIRSTLINE_EXACT_SEARCH_WINDOW", 600)
# Audit anchors (docs/operations.md): the signed chain head, kept outside the database.
AUDIT_ANCHOR_MINUTES = env_int("FIRSTLINE_AUDIT_ANCHOR_MINUTES", 60)
AUDIT_ANCHOR_ALSO = env_list("FIRSTLINE_AUDIT_ANCHOR_ALSO", [])
AUDIT_ANCHOR_URL = env_str("FIRSTLINE_AUDIT_ANCHOR_URL")
AUDIT_ANCHOR_TOKEN = env_str("FIRSTLINE_AUDIT_ANCHOR_TOKEN")

# --- Logging: never personal values (see docs/security.md); request logs carry paths with codes only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # One line per message: control characters in a message (a request path) are escaped, and a 4xx
    # (a denied request) is logged without a traceback (firstline/serving.py).
    "filters": {
        "escape_control": {"()": "firstline.serving.EscapeControlCharacters"},
        "client_errors": {"()": "firstline.serving.ClientErrorsWithoutTraceback"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors", "escape_control"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("FIRSTLINE_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},  # its INFO lines are one per laid-out page
        "fontTools": {"level": "WARNING"},
    },
}
