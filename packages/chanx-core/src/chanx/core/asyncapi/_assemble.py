"""Channels, operations, messages and components of a document, from the routes' plans."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from chanx.core._auth import BaseAuthenticator, Credential
from chanx.core._messages import CompleteMessage, ErrorMessage
from chanx.core.asyncapi._params import parameter_object
from chanx.core.asyncapi._plan import (
    UNSAFE_KEY,
    Plan,
    message_name,
    own_doc,
    summary_and_description,
    unique,
)
from chanx.core.asyncapi._schemas import SchemaSet

__all__ = ["assemble"]

_CORRELATION = "Client-chosen id, echoed on the reply and on any error frame the request causes."


class _Components:
    """The ``components`` section, filled while channels and operations refer to it."""

    def __init__(self, schemas: SchemaSet, correlated: set[type[BaseModel]]) -> None:
        self.schemas = schemas
        self.correlated = correlated
        self.messages: dict[str, Any] = {}
        self.correlation_ids: dict[str, Any] = {}
        self.security_schemes: dict[str, Any] = {}

    def message_key(self, model: type[BaseModel]) -> str:
        key = self.schemas.names[model]
        if key not in self.messages:
            self.messages[key] = self._message(model)
        return key

    def _message(self, model: type[BaseModel]) -> dict[str, Any]:
        message: dict[str, Any] = {"name": message_name(model), "title": model.__name__}
        message.update(summary_and_description(own_doc(model)))
        message["payload"] = self.schemas.ref(model)
        if model in self.correlated and (key := self._correlation_key(model)):
            message["correlationId"] = {"$ref": f"#/components/correlationIds/{key}"}
        return message

    def _correlation_key(self, model: type[BaseModel]) -> str | None:
        info = model.model_fields.get("ref")
        if info is None:
            return None
        wire = info.serialization_alias or info.alias or "ref"
        location = f"$message.payload#/{wire}"
        for key, existing in self.correlation_ids.items():
            if existing["location"] == location:
                return key
        key = unique("ref" if wire == "ref" else f"ref_{wire}", self.correlation_ids)
        self.correlation_ids[key] = {"description": _CORRELATION, "location": location}
        return key

    def security(self, authenticator: type[BaseAuthenticator] | None) -> list[dict[str, str]]:
        refs: list[dict[str, str]] = []
        credentials: Sequence[Credential] = getattr(authenticator, "credentials", ())
        for credential in credentials:
            scheme: dict[str, Any] = {
                "type": "httpApiKey",
                "name": credential.name,
                "in": credential.location,
            }
            if credential.description:
                scheme["description"] = credential.description
            key = UNSAFE_KEY.sub("_", f"{credential.location}_{credential.name}")
            if self.security_schemes.get(key, scheme) != scheme:
                key = unique(key, self.security_schemes)
            self.security_schemes[key] = scheme
            refs.append({"$ref": f"#/components/securitySchemes/{key}"})
        return refs

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.schemas.schemas:
            out["schemas"] = self.schemas.schemas
        if self.messages:
            out["messages"] = dict(sorted(self.messages.items()))
        if self.security_schemes:
            out["securitySchemes"] = self.security_schemes
        if self.correlation_ids:
            out["correlationIds"] = self.correlation_ids
        return out


def _correlated(plans: Sequence[Plan]) -> set[type[BaseModel]]:
    """Requests, replies and the frames that echo a request's ``ref``."""
    found: set[type[BaseModel]] = {ErrorMessage, CompleteMessage}
    for plan in plans:
        for handler, outputs in plan.receives:
            found.update(handler.input_types)
            found.update(outputs)
    return found


def _tags(tags: Sequence[str]) -> list[dict[str, str]]:
    return [{"name": tag} for tag in tags]


class _ChannelWriter:
    """Writes one route's channel and operations."""

    def __init__(self, plan: Plan, components: _Components, operations: dict[str, Any]):
        self.plan = plan
        self.components = components
        self.operations = operations
        self.channel_ref = {"$ref": f"#/channels/{plan.channel_id}"}
        self.security = components.security(plan.route.consumer.authenticator_class)

    def message_refs(self, models: Sequence[type[BaseModel]]) -> list[dict[str, str]]:
        keys = dict.fromkeys(self.components.message_key(m) for m in models)
        return [{"$ref": f"#/channels/{self.plan.channel_id}/messages/{k}"} for k in keys]

    def channel(self) -> dict[str, Any]:
        plan, consumer = self.plan, self.plan.route.consumer
        channel: dict[str, Any] = {"address": plan.address, "title": consumer.__name__}
        description = plan.info.description or own_doc(consumer)
        if description:
            channel["description"] = description
        keys = [self.components.message_key(m) for m in plan.messages()]
        channel["messages"] = {k: {"$ref": f"#/components/messages/{k}"} for k in keys}
        if plan.params:
            channel["parameters"] = {
                name: parameter_object(name, kind) for name, kind in plan.params.items()
            }
        if plan.info.tags:
            channel["tags"] = _tags(plan.info.tags)
        return channel

    def add(self, name: str, operation: dict[str, Any]) -> None:
        operation.setdefault("channel", self.channel_ref)
        if self.security:
            operation["security"] = self.security
        self.operations[unique(f"{self.plan.channel_id}.{name}", self.operations)] = operation

    def handler_text(self, summary: str | None, text: str | None) -> dict[str, str]:
        out = summary_and_description(text)
        if summary:
            out["summary"] = summary
            if text:
                out["description"] = text
        return out

    def write(self) -> dict[str, Any]:
        channel = self.channel()
        for handler, outputs in self.plan.receives:
            op: dict[str, Any] = {"action": "receive", "channel": self.channel_ref}
            op.update(self.handler_text(handler.mark.summary, handler.description))
            op["messages"] = self.message_refs(handler.input_types)
            if handler.mark.tags:
                op["tags"] = _tags(handler.mark.tags)
            if outputs:
                replies = self.message_refs([*outputs, ErrorMessage])
                op["reply"] = {"channel": self.channel_ref, "messages": replies}
            self.add(handler.name, op)
        for handler, outputs in self.plan.events:
            events = ", ".join(f"`{t}`" for t in handler.keys)
            default = f"Sent when the channel-layer event {events} reaches this connection."
            op = {"action": "send", "channel": self.channel_ref}
            op.update(self.handler_text(handler.mark.summary, handler.description or default))
            op["messages"] = self.message_refs(outputs)
            op["x-chanx-events"] = list(handler.keys)
            if handler.mark.tags:
                op["tags"] = _tags(handler.mark.tags)
            self.add(handler.name, op)
        for model in self.plan.emits:
            op = {"action": "send", "channel": self.channel_ref}
            op.update(summary_and_description(own_doc(model)) or {"summary": model.__name__})
            op["messages"] = self.message_refs([model])
            self.add(self.components.message_key(model), op)
        self.add(
            "error",
            {
                "action": "send",
                "summary": "Error frame",
                "description": "Sent for any frame the server cannot handle; the socket "
                "stays open. Carries the request's `ref` when it had one.",
                "messages": self.message_refs([ErrorMessage]),
            },
        )
        if CompleteMessage in self.plan.extras:
            self.add(
                "complete",
                {
                    "action": "send",
                    "summary": "Completion frame",
                    "description": "Sent after each handled frame, with the request's `ref`.",
                    "messages": self.message_refs([CompleteMessage]),
                },
            )
        return channel


def assemble(plans: Sequence[Plan], schemas: SchemaSet) -> dict[str, Any]:
    """``channels``, ``operations`` and ``components`` of the document."""
    components = _Components(schemas, _correlated(plans))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for plan in plans:
        channels[plan.channel_id] = _ChannelWriter(plan, components, operations).write()
    return {"channels": channels, "operations": operations, "components": components.as_dict()}
