"""`DjangoAuthenticator`: DRF authentication and permission classes at connect time."""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from chanx.core import AuthResult, BaseAuthenticator, Credential
from chanx.core.types import Scope
from chanx.django._adapter import url_route_kwargs

__all__ = ["DjangoAuthResult", "DjangoAuthenticator"]

UNAUTHENTICATED = 4401
FORBIDDEN = 4403

_DRF_HINT = 'DjangoAuthenticator needs Django REST framework: pip install "chanx-django[drf]"'


@dataclass(frozen=True, slots=True)
class DjangoAuthResult(AuthResult):
    """An `AuthResult` that also carries the object checked for object permissions."""

    obj: Any = None


# What AsyncAPI documents for DRF's own classes; other classes document nothing.
_KNOWN_CREDENTIALS: dict[str, Credential] = {
    "SessionAuthentication": Credential("sessionid", "cookie", "Django session cookie"),
    "TokenAuthentication": Credential("authorization", "header", "Token <key>"),
    "BasicAuthentication": Credential("authorization", "header", "HTTP Basic credentials"),
}


class DRFOptions:
    """The DRF-style options, shared by `DjangoAuthenticator` and the Django consumer."""

    authentication_classes: ClassVar[Sequence[type[Any]] | None] = None
    permission_classes: ClassVar[Sequence[type[Any]] | None] = None
    queryset: ClassVar[Any] = None
    lookup_field: ClassVar[str] = "pk"
    lookup_url_kwarg: ClassVar[str | None] = None
    token_query_param: ClassVar[str | None] = None
    token_keyword: ClassVar[str] = "Token"


#: The names of `DRFOptions`, which a consumer may set instead of writing an authenticator.
DRF_OPTIONS = tuple(name for name in vars(DRFOptions) if not name.startswith("_"))


class DjangoAuthenticator(DRFOptions, BaseAuthenticator):
    """Runs Django REST framework authentication and permission classes on the handshake.

    The handshake becomes a DRF ``Request`` (a GET with the socket's headers, cookies and
    query string; the session and ``scope["user"]`` from Channels' ``AuthMiddlewareStack``).
    This authenticator plays the DRF view: permission classes receive it as ``view`` and
    find ``kwargs`` (the URL kwargs), ``queryset`` and ``get_queryset()`` on it.

    With ``queryset`` set, the object named by the URL kwarg ``lookup_url_kwarg`` (default:
    ``lookup_field``) is fetched and ``has_object_permission`` runs too; it becomes
    ``consumer.obj``. All of it runs in one worker thread with stale database connections
    closed before and after, and only when a class is configured.

    Failures close the socket before any group is joined: not authenticated or bad
    credentials → 4401; permission denied or object not found → 4403.

    Attributes:
        authentication_classes: DRF authentication classes (None: DRF's
            ``DEFAULT_AUTHENTICATION_CLASSES``).
        permission_classes: DRF permission classes (None: ``DEFAULT_PERMISSION_CLASSES``).
        queryset: Where the object for object permissions is looked up.
        lookup_field: Model field matched against the URL kwarg.
        lookup_url_kwarg: URL kwarg holding the value (None: ``lookup_field``).
        token_query_param: Query parameter accepted as ``Authorization: Token <value>``
            when no header is sent (browsers cannot set headers on a WebSocket).
        token_keyword: The keyword of that header (``Token``; ``Bearer`` for JWT).
    """

    request: Any
    kwargs: dict[str, Any]
    args: tuple[Any, ...]

    @classmethod
    def default_credentials(cls) -> tuple[Credential, ...]:
        """The credentials of the DRF authentication classes and the token query parameter."""
        found = [
            _KNOWN_CREDENTIALS[klass.__name__]
            for klass in cls.authentication_classes or ()
            if klass.__name__ in _KNOWN_CREDENTIALS
        ]
        if cls.token_query_param:
            description = f"{cls.token_keyword} key in the query string"
            found.append(Credential(cls.token_query_param, "query", description))
        return tuple(dict.fromkeys(found))

    # -- the DRF view interface --------------------------------------------------------

    def get_authenticators(self) -> list[Any]:
        """Instances of the authentication classes."""
        from rest_framework.settings import api_settings

        classes = self.authentication_classes
        if classes is None:
            classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
        return [klass() for klass in classes]

    def get_permissions(self) -> list[Any]:
        """Instances of the permission classes."""
        from rest_framework.settings import api_settings

        classes = self.permission_classes
        if classes is None:
            classes = api_settings.DEFAULT_PERMISSION_CLASSES
        return [klass() for klass in classes]

    def get_queryset(self) -> Any:
        """The queryset for the object lookup (None: no object permissions)."""
        queryset = self.queryset
        return queryset.all() if queryset is not None else None

    def get_object(self) -> Any:
        """Fetch the object the URL kwargs name and check object permissions on it."""
        from rest_framework.generics import get_object_or_404

        kwarg = self.lookup_url_kwarg or self.lookup_field
        if kwarg not in self.kwargs:
            raise LookupError(
                f"{type(self).__qualname__} looks up its object by the URL kwarg {kwarg!r}, "
                f"but the route gave {sorted(self.kwargs)}; set lookup_url_kwarg"
            )
        obj = get_object_or_404(self.get_queryset(), **{self.lookup_field: self.kwargs[kwarg]})
        for permission in self.get_permissions():
            if not permission.has_object_permission(self.request, self, obj):
                self.permission_denied(permission)
        return obj

    def check_permissions(self) -> None:
        """Run ``has_permission`` of every permission class."""
        for permission in self.get_permissions():
            if not permission.has_permission(self.request, self):
                self.permission_denied(permission)

    def permission_denied(self, permission: Any) -> None:
        """Raise DRF's NotAuthenticated or PermissionDenied, as a DRF view would."""
        from rest_framework import exceptions

        request = self.request
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated()
        raise exceptions.PermissionDenied(
            detail=getattr(permission, "message", None), code=getattr(permission, "code", None)
        )

    # -- the chanx side ----------------------------------------------------------------

    @classmethod
    def reads_cookies(cls) -> bool:
        """True with DRF's ``SessionAuthentication`` (a default of DRF) or no class at all.

        Without authentication classes the user is Channels' ``scope["user"]``, which
        ``AuthMiddlewareStack`` reads from the session cookie.
        """
        if super().reads_cookies():
            return True
        try:
            from rest_framework.authentication import SessionAuthentication
            from rest_framework.settings import api_settings
        except ImportError:
            return True  # authenticate() will fail with the install hint anyway
        classes = cls.authentication_classes
        if classes is None:
            classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
        return not classes or any(issubclass(k, SessionAuthentication) for k in classes)

    def needs_checks(self) -> bool:
        """False when nothing is configured, which spares the thread hop entirely."""
        explicitly_empty = [
            classes is not None and not classes
            for classes in (self.authentication_classes, self.permission_classes)
        ]
        return not (all(explicitly_empty) and self.queryset is None)

    async def authenticate(self, scope: Scope) -> AuthResult:
        """Run authentication, permissions and object permissions for ``scope``."""
        try:
            import rest_framework  # noqa: F401
        except ImportError as exc:
            raise ImportError(_DRF_HINT) from exc
        from channels.db import database_sync_to_async

        if not self.needs_checks():
            return DjangoAuthResult(True, user=scope.get("user"))
        result: AuthResult = await database_sync_to_async(self.check)(scope)
        return result

    def check(self, scope: Scope) -> DjangoAuthResult:
        """The synchronous checks; runs in a worker thread."""
        from rest_framework import exceptions
        from rest_framework.request import Request

        from chanx.django._request import handshake_request
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        http_request = handshake_request(
            scope, token_query_param=self.token_query_param, token_keyword=self.token_keyword
        )
        self.request = request = Request(http_request, authenticators=self.get_authenticators())
        self.kwargs = url_route_kwargs(scope)
        self.args = tuple(scope.get("url_route", {}).get("args", ()))
        try:
            user = request.user  # runs the authentication classes
            self.check_permissions()
            obj = self.get_object() if self.get_queryset() is not None else None
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed) as exc:
            return DjangoAuthResult(False, close_code=UNAUTHENTICATED, reason=str(exc.detail))
        except exceptions.APIException as exc:
            code = UNAUTHENTICATED if exc.status_code == 401 else FORBIDDEN
            return DjangoAuthResult(False, close_code=code, reason=str(exc.detail))
        except PermissionDenied as exc:
            reason = str(exc) or "You do not have permission to perform this action."
            return DjangoAuthResult(False, close_code=FORBIDDEN, reason=reason)
        except Http404:
            return DjangoAuthResult(False, close_code=FORBIDDEN, reason="Not found.")
        return DjangoAuthResult(True, user=user, obj=obj)
