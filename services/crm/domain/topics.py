"""Stable topics, so stored events survive module moves and renames."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import register_topic

T = TypeVar("T", bound=type[Any])


def stable_topics(name: str) -> Callable[[T], T]:
    """Name an aggregate and its event classes "crm.{name}" and "crm.{name}.{Event}"
    instead of the default module path."""

    def decorate(aggregate_class: T) -> T:
        _name(aggregate_class, f"crm.{name}")
        for attribute, value in list(vars(aggregate_class).items()):
            if isinstance(value, type) and issubclass(value, DomainEvent):
                _name(value, f"crm.{name}.{attribute}")
        return aggregate_class

    return decorate


def _name(cls: type[Any], topic: str) -> None:
    cls.TOPIC = topic
    register_topic(topic, cls)
