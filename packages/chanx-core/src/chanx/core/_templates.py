"""The one reader of route syntax: any framework's path pattern to a ``{name}`` template.

Adapters hand their routes' patterns to `route_template` and give core the result, so
core (AsyncAPI, the CLI) only ever sees ``/ws/chat/{room_id}`` templates and a type per
parameter, whatever syntax the framework used.
"""

from __future__ import annotations

import re

__all__ = ["route_template"]

# {name} or {name:convertor} (Starlette), <name> or <convertor:name> (Django paths)
_BRACED = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")
_ANGLED = re.compile(r"<(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*)>")
_REGEX_GROUP = "(?P<"


def _group_end(regex: str, start: int) -> int:
    """Index just past the group that opens at ``start`` (escapes and nesting honoured)."""
    depth, i = 0, start
    while i < len(regex):
        char = regex[i]
        if char == "\\":
            i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(regex)


def _from_regex(regex: str, params: dict[str, str]) -> str:
    """Named groups become ``{name}``; anchors go; an escaped character is itself."""
    out: list[str] = []
    i, end = 0, len(regex)
    while i < end:
        if regex.startswith(_REGEX_GROUP, i):
            close = regex.index(">", i)
            name = regex[i + len(_REGEX_GROUP) : close]
            after = _group_end(regex, i)
            params[name] = "regex " + regex[close + 1 : after - 1]
            out.append("{" + name + "}")
            i = after
            continue
        char = regex[i]
        if char == "\\" and i + 1 < end:
            following = regex[i + 1]
            if following not in "AZ":
                out.append(following)
            i += 2
            continue
        if not ((char == "^" and i == 0) or (char == "$" and i == end - 1)):
            out.append(char)
        i += 1
    return "".join(out)


def route_template(pattern: str) -> tuple[str, dict[str, str]]:
    """A route pattern as a ``{name}`` template and its parameters' types.

    Understands Starlette (``/ws/{room:int}``), Django (``ws/<int:room>/``) and regex
    (``^ws/(?P<room>[0-9]+)/$``) syntax; a parameter without a declared type is ``str``.
    A template passes through unchanged, so normalising twice is harmless. The leading
    slash is left as given (a nested route is a fragment).

    Returns:
        The template and, for each parameter in order, its type (``int``, ``str``,
        ``regex [0-9]+``...).
    """
    params: dict[str, str] = {}
    if _REGEX_GROUP in pattern:
        pattern = _from_regex(pattern, params)

    def braced(match: re.Match[str]) -> str:
        params.setdefault(match[1], match[2] or "str")
        return "{" + match[1] + "}"

    def angled(match: re.Match[str]) -> str:
        params.setdefault(match[2], match[1] or "str")
        return "{" + match[2] + "}"

    template = _ANGLED.sub(angled, _BRACED.sub(braced, pattern))
    return template, params
