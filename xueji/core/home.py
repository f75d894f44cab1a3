"""Panels on the home page contributed by apps above `students` (which owns the home view).

An app registers `provider(user) -> dict | None` in its AppConfig.ready(); a dict needs a
"template" key and carries that template's context. Keeping the registry here lets the home
page show approvals, registration and events without the students app importing those apps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Provider = Callable[[Any], dict[str, Any] | None]

_PROVIDERS: list[tuple[int, str, Provider]] = []


def register(name: str, provider: Provider, *, order: int = 100) -> None:
    global _PROVIDERS
    _PROVIDERS = [p for p in _PROVIDERS if p[1] != name]
    _PROVIDERS.append((order, name, provider))
    _PROVIDERS.sort(key=lambda p: (p[0], p[1]))


def panels_for(user: Any) -> list[dict[str, Any]]:
    panels = []
    for _order, _name, provider in _PROVIDERS:
        panel = provider(user)
        if panel:
            panels.append(panel)
    return panels
