"""Settings of the demo project. Demo values: never deploy them as they are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "daphne",  # first: makes `runserver` serve ASGI, WebSockets included
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "chanx.django",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "djchat.urls"
ASGI_APPLICATION = "djchat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJCHAT_DB", str(BASE_DIR / "db.sqlite3")),
    }
}

# CHANX_LAYER_URL shares groups between processes: redis://127.0.0.1:6379/0 (channels_redis)
# or amqp://guest:guest@127.0.0.1:5672/ (chanx-rabbitmq). Without it, Channels' in-memory
# layer reaches this process only.
_LAYER_URL = os.environ.get("CHANX_LAYER_URL", "")
CHANNEL_LAYERS: dict[str, Any] = {
    "default": (
        {"BACKEND": "chanx.rabbitmq.RabbitMQChannelLayer", "CONFIG": {"url": _LAYER_URL}}
        if _LAYER_URL.startswith(("amqp://", "amqps://"))
        else {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [_LAYER_URL]}}
        if _LAYER_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

CHANX = {"SEND_AUTHENTICATION_MESSAGE": True}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
