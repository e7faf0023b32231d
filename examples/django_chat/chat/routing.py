from __future__ import annotations

from django.urls import path

from .consumers import ChatConsumer, UserConsumer

# <slug:...> keeps room names inside what group names allow ([a-zA-Z0-9_.-]).
websocket_urlpatterns = [
    path("ws/chat/<slug:room>/", ChatConsumer.as_asgi(), name="chat"),
    path("ws/notifications/", UserConsumer.as_asgi(), name="notifications"),
]
