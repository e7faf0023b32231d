"""Plain synchronous Django views, as most projects have them."""

from __future__ import annotations

import json
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from .consumers import user_group

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/index.html")


@login_required
@require_POST
def notify(request: HttpRequest, username: str) -> JsonResponse:
    """Send a private notification to every open socket of ``username``.

    A raw dict through Channels' own API, exactly as a Celery task would send it: the
    consumer's ``@event_handler`` for ``"notify"`` receives it validated as ``NotifyEvent``.
    """
    if not USERNAME.fullmatch(username):
        return JsonResponse({"detail": "invalid user name"}, status=400)
    try:
        text = str(json.loads(request.body)["text"])[:1000]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": 'expected {"text": "..."}'}, status=400)
    event = {"type": "notify", "text": text, "sender": request.user.get_username()}
    async_to_sync(get_channel_layer().group_send)(user_group(username), event)
    return JsonResponse({"group": user_group(username)}, status=202)
