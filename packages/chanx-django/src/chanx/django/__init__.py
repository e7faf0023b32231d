"""Chanx for Django Channels: not implemented yet.

The adapter (``AsyncJsonWebsocketConsumer``, ``DjangoAuthenticator``) is planned; this module
exists so the distribution installs and the namespace is reserved.
"""

from __future__ import annotations

from importlib.metadata import version

__version__ = version("chanx-django")

__all__ = ["__version__"]
