"""Authentication at connect time, before the socket is accepted or joins any group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from chanx.core._scope import get_cookie, get_header, get_query_param
from chanx.core.types import Scope

__all__ = ["AuthResult", "BaseAuthenticator", "Credential", "TokenAuthenticator"]

UNAUTHENTICATED = 4401
FORBIDDEN = 4403


@dataclass(frozen=True, slots=True)
class Credential:
    """Where a client puts a credential; AsyncAPI turns these into security schemes."""

    name: str
    location: Literal["query", "header", "cookie"] = "query"
    description: str = ""


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Outcome of `BaseAuthenticator.authenticate`.

    ``user`` becomes ``consumer.user``. On failure the socket closes with ``close_code``
    (4401 unauthenticated, 4403 forbidden) and ``reason``, which the client can read.
    """

    ok: bool
    user: Any = None
    close_code: int = UNAUTHENTICATED
    reason: str | None = None

    @classmethod
    def allow(cls, user: Any = None) -> AuthResult:
        """A success carrying ``user``."""
        return cls(True, user=user)

    @classmethod
    def deny(cls, reason: str, *, forbidden: bool = False) -> AuthResult:
        """A failure: 4401, or 4403 when the client is known but not allowed."""
        return cls(False, close_code=FORBIDDEN if forbidden else UNAUTHENTICATED, reason=reason)


class BaseAuthenticator:
    """Decides at connect time whether a connection may proceed.

    Subclasses implement `authenticate`; one instance is made per connection. An exception
    raised here closes the socket with 1011 and is logged, never sent to the client.
    """

    credentials: ClassVar[Sequence[Credential]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "credentials" not in vars(cls):
            cls.credentials = cls.default_credentials()

    @classmethod
    def default_credentials(cls) -> Sequence[Credential]:
        """``credentials`` of a subclass that does not set them (read from its options).

        Authenticators whose options say where the credential is (a query parameter, a
        header) override this; the default keeps what the parent class declared.
        """
        return cls.credentials

    @classmethod
    def reads_cookies(cls) -> bool:
        """Whether a browser's cookies may authenticate a connection.

        True when a credential is a cookie. Override it when ``authenticate`` reads
        cookies without declaring them: a consumer whose authenticator reads cookies refuses
        cross-origin handshakes unless its ``allowed_origins`` says otherwise.
        """
        return any(credential.location == "cookie" for credential in cls.credentials)

    async def authenticate(self, scope: Scope) -> AuthResult:
        """Return whether the connection described by ``scope`` may proceed."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement authenticate()")


TokenVerifier = Callable[[str], Awaitable[Any]]


class TokenAuthenticator(BaseAuthenticator):
    """Reads a token from a query parameter, an ``Authorization: Bearer`` header or a cookie.

    Subclass and implement `verify_token` (return the user, or None to reject), or build
    one from a function with `TokenAuthenticator.using`. Set ``query_param``, ``header`` or
    ``cookie`` to None to stop looking there.
    """

    query_param: ClassVar[str | None] = "token"
    header: ClassVar[str | None] = "authorization"
    scheme: ClassVar[str] = "Bearer"
    cookie: ClassVar[str | None] = "token"

    @classmethod
    def default_credentials(cls) -> tuple[Credential, ...]:
        """A credential per place the token is looked for (query, header, cookie)."""
        found = []
        if cls.query_param:
            found.append(Credential(cls.query_param, "query", "Token in the query string"))
        if cls.header:
            found.append(Credential(cls.header, "header", f"{cls.scheme} token"))
        if cls.cookie:
            found.append(Credential(cls.cookie, "cookie", "Token in a cookie"))
        return tuple(found)

    @classmethod
    def using(cls, verify: TokenVerifier) -> type[TokenAuthenticator]:
        """A subclass whose `verify_token` is the async function ``verify``."""

        async def verify_token(self: TokenAuthenticator, token: str) -> Any:
            return await verify(token)

        name = f"{cls.__name__}[{getattr(verify, '__name__', 'verify')}]"
        return type(name, (cls,), {"verify_token": verify_token, "__module__": cls.__module__})

    async def verify_token(self, token: str) -> Any:
        """Return the user the token belongs to, or None if it is not valid."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement verify_token()")

    def get_token(self, scope: Scope) -> str | None:
        """The first token found, in the order query string, header, cookie."""
        if self.query_param and (token := get_query_param(scope, self.query_param)):
            return token
        if self.header and (value := get_header(scope, self.header)):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == self.scheme.lower() and token.strip():
                return token.strip()
        if self.cookie and (token := get_cookie(scope, self.cookie)):
            return token
        return None

    async def authenticate(self, scope: Scope) -> AuthResult:
        """Reject a missing or unknown token with 4401; otherwise the user is the result."""
        token = self.get_token(scope)
        if token is None:
            return AuthResult.deny("authentication credentials were not provided")
        user = await self.verify_token(token)
        if user is None:
            return AuthResult.deny("invalid token")
        return AuthResult.allow(user)
