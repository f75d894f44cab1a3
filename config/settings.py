"""Xueji settings: one module, every knob an environment variable (see the README's table)."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("XUEJI_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    # A deployment sets XUEJI_SECRET_KEY; a laptop gets a random key kept in var/ so that
    # sessions survive restarts without anyone committing a secret.
    key = os.environ.get("XUEJI_SECRET_KEY")
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("XUEJI_DEBUG")
ALLOWED_HOSTS = env_list("XUEJI_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("XUEJI_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "django_tasks_db",
    "xueji.core",
    "xueji.audit",
    "xueji.org",
    "xueji.accounts",
    "xueji.students",
    "xueji.jobs",
    "xueji.notifications",
    "xueji.workflow",
    "xueji.exchange",
    "xueji.changes",
    "xueji.certificates",
    "xueji.registration",
    "xueji.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "xueji.core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

# The largest request body accepted (uploads: photo zips up to 500 MB); larger ones get 413
# before Django stores them. 0 turns the check off (e.g. when the reverse proxy enforces it).
XUEJI_MAX_REQUEST_BYTES = int(os.environ.get("XUEJI_MAX_UPLOAD_MB", "600")) * 1024 * 1024

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "xueji" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "xueji.org.context_processors.site",
                "xueji.notifications.context_processors.notifications",
                "xueji.changes.context_processors.workbench",
            ],
        },
    },
]

# SQLite (WAL, IMMEDIATE transactions) by default; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'xueji.sqlite3'}"),
        conn_max_age=env_int("XUEJI_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# The cache holds counters that every server process must share (the public verification
# page's per-IP limit): a table in the database by default, so no extra service is needed;
# Redis when XUEJI_CACHE_URL is set. The table is created by xueji/core's migration 0001.
CACHE_TABLE = "xueji_cache"
if os.environ.get("XUEJI_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["XUEJI_CACHE_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            # Past MAX_ENTRIES rows Django deletes a third of the keys, counters included;
            # room for this many client IPs within one limit window.
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures, and an idle timeout: every request pushes the expiry forward.
LOGIN_MAX_FAILURES = env_int("XUEJI_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("XUEJI_LOGIN_LOCKOUT_MINUTES", 15)
SESSION_COOKIE_AGE = env_int("XUEJI_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("XUEJI_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
API_TOKEN_DAYS = env_int("XUEJI_API_TOKEN_DAYS", 30)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "xueji" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("XUEJI_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Bootstrap and its icons come from the npm registry at set-up time into node_modules/
# (git-ignored); nothing third-party is committed and no page points at a CDN.
STATICFILES_DIRS = [
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("XUEJI_MEDIA_ROOT", VAR_DIR / "media"))

# Background work goes through Django's tasks API. XUEJI_TASKS_BACKEND picks the backend:
# "db" (default) keeps the queue in the database, worked by `manage.py task_worker` (started by
# `make run`); "redis" puts it on Redis at XUEJI_REDIS_URL (RQ), worked by the same command on
# any number of machines. A dotted backend path is accepted too. See docs/howto/background-jobs.md.
TASKS_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "redis": "django_tasks_rq.RQBackend",
}
_tasks_backend = os.environ.get("XUEJI_TASKS_BACKEND", "db").strip() or "db"
TASKS = {"default": {"BACKEND": TASKS_BACKENDS.get(_tasks_backend, _tasks_backend)}}
REDIS_URL = os.environ.get("XUEJI_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {
    "default": {
        "URL": REDIS_URL,
        # RQ stops a job after this many seconds; a large import or export may take long.
        "DEFAULT_TIMEOUT": env_int("XUEJI_TASK_TIMEOUT", 6 * 3600),
    }
}
if TASKS["default"]["BACKEND"] == TASKS_BACKENDS["redis"]:
    INSTALLED_APPS.append("django_rq")

# Links in e-mails, notifications and webhook payloads point here.
BASE_URL = os.environ.get("XUEJI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Optional PAdES signature of issued certificate PDFs (xueji/certificates/signing.py,
# docs/howto/signing.md): a PEM key + certificate pair (key password and intermediate chain
# optional), or one PKCS#12 file. All empty: documents are not signed. A broken setting fails
# `manage.py check` (certificates.E001) and every issue, never yields unsigned documents.
XUEJI_SIGNING_KEY = os.environ.get("XUEJI_SIGNING_KEY", "")
XUEJI_SIGNING_KEY_PASSWORD = os.environ.get("XUEJI_SIGNING_KEY_PASSWORD", "")
XUEJI_SIGNING_CERT = os.environ.get("XUEJI_SIGNING_CERT", "")
XUEJI_SIGNING_CHAIN = os.environ.get("XUEJI_SIGNING_CHAIN", "")
XUEJI_SIGNING_PKCS12 = os.environ.get("XUEJI_SIGNING_PKCS12", "")
XUEJI_SIGNING_PKCS12_PASSWORD = os.environ.get("XUEJI_SIGNING_PKCS12_PASSWORD", "")

# E-mail (Django 6.1 MAILERS): SMTP when XUEJI_EMAIL_HOST is set; otherwise each message is
# written as a file under var/mail/ so a laptop install loses nothing and needs no mail server.
if os.environ.get("XUEJI_EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["XUEJI_EMAIL_HOST"],
                "port": env_int("XUEJI_EMAIL_PORT", 25),
                "username": os.environ.get("XUEJI_EMAIL_USER", ""),
                "password": os.environ.get("XUEJI_EMAIL_PASSWORD", ""),
                "use_tls": env_bool("XUEJI_EMAIL_STARTTLS"),
                "use_ssl": env_bool("XUEJI_EMAIL_SSL"),
                "timeout": env_int("XUEJI_EMAIL_TIMEOUT", 20),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("XUEJI_EMAIL_FROM", "xueji@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "xueji.accounts.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "xueji.core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "xueji.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xueji 学籍 API",
    "DESCRIPTION": _("学籍管理系统 API：学生、组织机构与代码表。所有数据按调用者的授权范围过滤。"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    # Swagger UI and Redoc from the drf-spectacular-sidecar package's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set, used wherever the set appears.
    "ENUM_NAME_OVERRIDES": {
        "StudentStatusEnum": "xueji.students.models.StudentStatus",
        "DocumentStatusEnum": "xueji.certificates.models.DocumentStatus",
        "RequestStatusEnum": "xueji.certificates.models.RequestStatus",
        "BatchOutputEnum": "xueji.certificates.models.BatchOutput",
        "InitiatorEnum": "xueji.changes.models.Initiator",
        "DateEffectEnum": "xueji.changes.models.DateEffect",
        "StepKindEnum": "xueji.workflow.models.StepKind",
        "StepStateEnum": "xueji.workflow.models.StepState",
        "FlowStatusEnum": "xueji.workflow.models.FlowStatus",
        "DeliveryStateEnum": "xueji.exchange.models.DeliveryState",
        "RegistrationStateEnum": "xueji.registration.models.RegistrationState",
        "FinanceStateEnum": "xueji.registration.models.FinanceState",
    },
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XUEJI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

SCHOOL_NAME = os.environ.get("XUEJI_SCHOOL_NAME", "")
# Processes a batch of certificates renders on (0 = one per core); see certificates/renderpool.py.
RENDER_PROCESSES = env_int("XUEJI_RENDER_PROCESSES", 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
