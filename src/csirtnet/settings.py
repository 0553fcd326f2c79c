"""Django settings, read from environment variables (see docs/configuration.md).

Defaults are safe for production: DEBUG off, secure cookies, no default secret key.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from csirtnet.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("CSIRTNET_VAR_DIR", str(Path.cwd() / "var")))

DEBUG = env_bool("CSIRTNET_DEBUG", False)
SECRET_KEY = env_str("CSIRTNET_SECRET_KEY", "insecure-development-only" if DEBUG else None)
if not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("CSIRTNET_SECRET_KEY must be at least 32 characters.")
ALLOWED_HOSTS = env_list("CSIRTNET_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "csirtnet.accounts.admin_site.AdminConfig",  # the admin site, with the second-factor rule
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "csirtnet.core",
    "csirtnet.accounts",
    "csirtnet.directory",
    "csirtnet.reports",
    "csirtnet.sharing",
    "csirtnet.incidents",
    "csirtnet.assistance",
    "csirtnet.evidence",
    "csirtnet.api",
    "csirtnet.taxii",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # where the request comes from, for the audit log of every write and sensitive read
    "csirtnet.core.audit.AuditOriginMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # ends a session whose user's memberships changed since sign-in, then sets the actor
    "csirtnet.accounts.middleware.ActorMiddleware",
    # a user who must use a second factor reaches nothing else until the code is entered
    "csirtnet.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # answers the throttle's lockout of a sign-in (last, as django-axes requires)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csirtnet.urls"
WSGI_APPLICATION = "csirtnet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csirtnet.incidents.context_processors.incidents",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    engine = env_str("CSIRTNET_DB_ENGINE", "sqlite")
    if engine == "sqlite":
        return {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": env_str("CSIRTNET_DB_NAME", str(VAR_DIR / "csirtnet.sqlite3")),
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 30,
                    "init_command": (
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                        "PRAGMA foreign_keys=ON; "
                        # a page cache big enough for the event indexes of a large ingest
                        f"PRAGMA cache_size=-{env_int('CSIRTNET_SQLITE_CACHE_MB', 64) * 1024};"
                    ),
                },
                "TEST": {"NAME": env_str("CSIRTNET_TEST_DB_NAME", "") or None},
            }
        }
    if engine == "postgresql":
        return {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": env_str("CSIRTNET_DB_NAME", "csirtnet"),
                "USER": env_str("CSIRTNET_DB_USER", "postgres"),
                "PASSWORD": env_str("CSIRTNET_DB_PASSWORD", ""),
                "HOST": env_str("CSIRTNET_DB_HOST", "127.0.0.1"),
                "PORT": env_int("CSIRTNET_DB_PORT", 5432, minimum=1),
                "CONN_MAX_AGE": env_int("CSIRTNET_DB_CONN_MAX_AGE", 60),
            }
        }
    raise ImproperlyConfigured(
        f"CSIRTNET_DB_ENGINE={engine!r} is not supported (use sqlite or postgresql)."
    )


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id first; the others only verify older hashes, which are rehashed on sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reports:inbox"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes): CSIRTNET_LOGIN_FAILURE_LIMIT failures lock the
# username, four times as many lock the client address, for CSIRTNET_LOGIN_LOCKOUT_SECONDS.
# The address is REMOTE_ADDR unless CSIRTNET_CLIENT_IP_HEADER names the header that the
# reverse proxy in front sets (e.g. X-Forwarded-For: its last entry is used).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
CSIRTNET_LOGIN_FAILURE_LIMIT = env_int("CSIRTNET_LOGIN_FAILURE_LIMIT", 5, minimum=1)
CSIRTNET_LOGIN_ADDRESS_FACTOR = 4  # an address may fail this many times the username limit
CSIRTNET_CLIENT_IP_HEADER = env_str("CSIRTNET_CLIENT_IP_HEADER", "")
AXES_FAILURE_LIMIT = CSIRTNET_LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(
    seconds=env_int("CSIRTNET_LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
)
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "csirtnet.accounts.throttle.SignInThrottle"
AXES_CLIENT_IP_CALLABLE = "csirtnet.accounts.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "csirtnet.accounts.views.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_VERBOSE = False

# Second factor (TOTP, RFC 6238, django-otp): required for members of the network
# secretariat and of law-enforcement units, and for the law-enforcement role.
OTP_TOTP_ISSUER = env_str("CSIRTNET_TOTP_ISSUER", "csirtnet")
OTP_TOTP_THROTTLE_FACTOR = 1  # seconds, doubled after each wrong code

LANGUAGE_CODE = "en"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# OpenID Connect sign-in (mozilla-django-oidc) against the network's identity provider,
# off unless CSIRTNET_OIDC_ISSUER is set. Endpoints default to Keycloak's under the
# issuer and must stay on the issuer's origin (accounts/oidc.py checks it).
CSIRTNET_OIDC_ISSUER = env_str("CSIRTNET_OIDC_ISSUER", "").rstrip("/")
CSIRTNET_OIDC_PROVIDER_NAME = ""
if CSIRTNET_OIDC_ISSUER:
    _OIDC = CSIRTNET_OIDC_ISSUER + "/protocol/openid-connect"
    CSIRTNET_OIDC_PROVIDER_NAME = env_str("CSIRTNET_OIDC_PROVIDER_NAME", "Keycloak")
    OIDC_RP_CLIENT_ID = env_str("CSIRTNET_OIDC_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env_str("CSIRTNET_OIDC_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str(
        "CSIRTNET_OIDC_AUTHORIZATION_ENDPOINT", _OIDC + "/auth"
    )
    OIDC_OP_TOKEN_ENDPOINT = env_str("CSIRTNET_OIDC_TOKEN_ENDPOINT", _OIDC + "/token")
    OIDC_OP_USER_ENDPOINT = env_str("CSIRTNET_OIDC_USERINFO_ENDPOINT", _OIDC + "/userinfo")
    OIDC_OP_JWKS_ENDPOINT = env_str("CSIRTNET_OIDC_JWKS_ENDPOINT", _OIDC + "/certs")
    AUTHENTICATION_BACKENDS.append("csirtnet.accounts.oidc.NetworkOIDCBackend")
# Authentication methods (`amr`, RFC 8176) or context classes (`acr`) by which the
# provider says it checked a second factor; such a sign-in needs no TOTP code here.
CSIRTNET_OIDC_MFA_AMR = env_list("CSIRTNET_OIDC_MFA_AMR", ["mfa", "otp", "hwk"])
CSIRTNET_OIDC_MFA_ACR = env_list("CSIRTNET_OIDC_MFA_ACR", [])
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email"
OIDC_USE_NONCE = True
OIDC_VERIFY_SSL = True
OIDC_TIMEOUT = env_int("CSIRTNET_OIDC_TIMEOUT_SECONDS", 10, minimum=1)
OIDC_CREATE_USER = False  # users are matched by verified e-mail, never created
OIDC_STORE_ID_TOKEN = False
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
OIDC_USE_PKCE = True

# Security headers and cookies; CSIRTNET_SECURE_COOKIES=false only for plain-HTTP demos.
_SECURE = env_bool("CSIRTNET_SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("CSIRTNET_SESSION_SECONDS", 8 * 3600, minimum=60)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HSTS only with secure cookies: a plain-HTTP demo must not pin its host to HTTPS.
SECURE_HSTS_SECONDS = env_int("CSIRTNET_HSTS_SECONDS", 31536000) if _SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CSIRTNET_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("CSIRTNET_HSTS_PRELOAD", False)
# Behind a reverse proxy that terminates TLS, the application sees plain HTTP: trust the
# proxy's X-Forwarded-Proto (it must overwrite the client's) so that HTTPS requests are
# known as such (HSTS, secure redirects, CSRF origin checks). Off by default: a client
# reaching the application directly could claim HTTPS.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("CSIRTNET_BEHIND_TLS_PROXY", False) else None
)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything from this origin, no inline script or
# style, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Outgoing mail: SMTP by default; "file" writes each message to CSIRTNET_MAIL_DIR.
_MAIL = env_str("CSIRTNET_EMAIL", "smtp")
if _MAIL == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif _MAIL == "file":
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("CSIRTNET_MAIL_DIR", str(VAR_DIR / "mail"))
else:
    raise ImproperlyConfigured(f"CSIRTNET_EMAIL={_MAIL!r} is not supported (smtp or file).")
EMAIL_HOST = env_str("CSIRTNET_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("CSIRTNET_SMTP_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("CSIRTNET_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("CSIRTNET_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CSIRTNET_SMTP_STARTTLS", False)
EMAIL_TIMEOUT = env_int("CSIRTNET_SMTP_TIMEOUT_SECONDS", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("CSIRTNET_FROM_EMAIL", "csirtnet@localhost")

# Background work: django-tasks with the database backend (outbox rows + `csirtnet worker`).
TASKS = {
    "default": {
        "BACKEND": env_str("CSIRTNET_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CSIRTNET_SITE_URL = env_str("CSIRTNET_SITE_URL", "http://127.0.0.1:8000")
CSIRTNET_INGEST_BATCH_ROWS = env_int("CSIRTNET_INGEST_BATCH_ROWS", 20000, minimum=1)
CSIRTNET_ATTACHMENT_MAX_BYTES = env_int(
    "CSIRTNET_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1
)
CSIRTNET_EVIDENCE_MAX_BYTES = env_int(
    "CSIRTNET_EVIDENCE_MAX_BYTES", 100 * 1024 * 1024, minimum=1
)  # one evidence file, in bytes
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # request bodies other than file uploads

# Mutual assistance: seconds to acknowledge and to answer a request, by priority, counted
# from when it is sent; a reminder goes out when this percentage of a window is left.
CSIRTNET_ASSISTANCE_DEADLINES = {
    priority: {
        "acknowledge_seconds": env_int(
            f"CSIRTNET_ASSISTANCE_{priority.upper()}_ACKNOWLEDGE_SECONDS", acknowledge, minimum=60
        ),
        "respond_seconds": env_int(
            f"CSIRTNET_ASSISTANCE_{priority.upper()}_RESPOND_SECONDS", respond, minimum=60
        ),
    }
    for priority, acknowledge, respond in (
        ("emergency", 3600, 24 * 3600),
        ("urgent", 4 * 3600, 72 * 3600),
        ("routine", 24 * 3600, 30 * 24 * 3600),
    )
}
for _priority, _window in CSIRTNET_ASSISTANCE_DEADLINES.items():
    if _window["acknowledge_seconds"] > _window["respond_seconds"]:
        raise ImproperlyConfigured(
            f"CSIRTNET_ASSISTANCE_{_priority.upper()}_ACKNOWLEDGE_SECONDS is longer than "
            "its RESPOND_SECONDS."
        )
CSIRTNET_ASSISTANCE_REMINDER_PERCENT = env_int(
    "CSIRTNET_ASSISTANCE_REMINDER_PERCENT", 25, minimum=1
)
if CSIRTNET_ASSISTANCE_REMINDER_PERCENT > 99:
    raise ImproperlyConfigured("CSIRTNET_ASSISTANCE_REMINDER_PERCENT is at most 99.")

# PGP for notification e-mail: the platform's keyring (its signing key and the
# recipients' public keys); CSIRTNET_PGP_SIGNING_KEY picks the signing key's fingerprint.
CSIRTNET_PGP_HOME = env_str("CSIRTNET_PGP_HOME", str(VAR_DIR / "gnupg"))
CSIRTNET_PGP_SIGNING_KEY = env_str("CSIRTNET_PGP_SIGNING_KEY", "")
CSIRTNET_PGP_PASSPHRASE = env_str("CSIRTNET_PGP_PASSPHRASE", "")
CSIRTNET_GPG_BINARY = env_str("CSIRTNET_GPG_BINARY", "gpg")

# Outbound fetches (core/http.py): https only, public addresses only, unless allowed here.
CSIRTNET_FETCH_ALLOW_HTTP = env_bool("CSIRTNET_FETCH_ALLOW_HTTP", False)
CSIRTNET_FETCH_ALLOWED_HOSTS = env_list("CSIRTNET_FETCH_ALLOWED_HOSTS", [])
CSIRTNET_FETCH_TIMEOUT_SECONDS = env_int("CSIRTNET_FETCH_TIMEOUT_SECONDS", 30, minimum=1)
CSIRTNET_FETCH_MAX_BYTES = env_int("CSIRTNET_FETCH_MAX_BYTES", 50 * 1024 * 1024, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CSIRTNET_LOG_LEVEL", "WARNING")},
}
