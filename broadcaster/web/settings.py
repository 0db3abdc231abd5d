"""Django settings for the console. The station is found through $BROADCASTER_CONFIG (commands/web.py sets it);
the database and the secret key live in that station's state folder."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from broadcaster.web import CONFIG_ENV

HERE = Path(__file__).resolve().parent
STATION_CONFIG = Path(os.environ.get(CONFIG_ENV, "config.yaml")).resolve()


def _station_basics(config: Path) -> tuple[Path, str]:
    """paths.state and the zone of the station; if config.yaml cannot be read now, their defaults (data/ beside
    it, Asia/Ho_Chi_Minh), so the console still starts and can show what is wrong."""
    from broadcaster.problems import BroadcasterError
    from broadcaster.station.config import DEFAULT_ZONE, load_station

    try:
        station = load_station(config)
    except BroadcasterError:
        return config.parent / "data", DEFAULT_ZONE
    return station.paths.state, station.timezone


STATE_DIR, STATION_ZONE = _station_basics(STATION_CONFIG)
STATE_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key(state: Path) -> str:
    """One random key per station, made on first start and kept (0600) so sessions survive a restart."""
    path = state / "web-secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("BROADCASTER_WEB_SECRET") or _secret_key(STATE_DIR)
DEBUG = False
# The console listens on loopback by default; behind nginx the proxy sets Host (docs/deploy.md).
ALLOWED_HOSTS = [h for h in os.environ.get("BROADCASTER_WEB_HOSTS", "").split(",") if h] or ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "broadcaster.web.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "broadcaster.web.tls.SecureCookiesBehindTLS",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "broadcaster.web.language.StationLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "broadcaster.web.urls"
WSGI_APPLICATION = "broadcaster.web.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.template.context_processors.i18n",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "broadcaster.web.roles.role_context",
        "broadcaster.web.station_view.topics",
    ]},
}]

DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": STATE_DIR / "web.sqlite3",
    "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = ["broadcaster.web.hashers.StationArgon2PasswordHasher",
                    "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                             "OPTIONS": {"min_length": 8}}]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: 5 failures lock the user name, and separately the address, for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]  # waitress behind nginx: trusted_proxy sets REMOTE_ADDR
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
# Behind TLS (nginx sets X-Forwarded-Proto: https; waitress trusts it from 127.0.0.1 only) the cookies are made
# Secure per request (tls.py); plain http on loopback cannot use Secure cookies.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("BROADCASTER_WEB_ORIGINS", "").split(",") if o]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [HERE / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = STATION_ZONE  # templates show times in the station's zone, never the machine's

STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True  # serve from the packages' static folders: no collectstatic step
WHITENOISE_AUTOREFRESH = False

# Uploads: each file is streamed to a temporary file past 2.5 MB; the whole request is capped.
UPLOAD_MAX_BYTES = int(os.environ.get("BROADCASTER_WEB_UPLOAD_MB", "200")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
DATA_UPLOAD_MAX_NUMBER_FILES = 50

# How long the bulletin page waits for the speech engine before it answers "still being made" (it goes on).
SPEECH_WAIT_SECONDS = float(os.environ.get("BROADCASTER_WEB_SPEECH_WAIT", "60"))

LOGGING = {
    "version": 1, "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
