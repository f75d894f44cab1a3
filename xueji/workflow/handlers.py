"""Subjects of approval flows plug into the engine through a handler registered per `kind`.

The engine owns steps, permissions and transitions; the subject (a change request, a correction
request, …) owns its own meaning. Each subject app registers its handler in `AppConfig.ready()`:

    from xueji.workflow.handlers import register
    register("correction", CorrectionFlowHandler())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from xueji.core.exceptions import DomainError

if TYPE_CHECKING:
    from xueji.core.context import Actor
    from xueji.workflow.models import Flow, FlowStep


class FlowHandler(Protocol):
    """What the engine asks of a subject.

    `check_approve` runs before a step is approved (raise DomainError to refuse — a rule of the
    regulation that fails, say); `on_transition` runs inside the same transaction after every
    transition (verbs: start, approve, approve_final, reject, return, resubmit, withdraw) so the
    subject keeps its own status in step; `url` is the subject's page, used by notifications
    and the workbench. A handler may also carry a `label` (shown as the kind in filters).
    """

    def check_approve(self, flow: Flow, step: FlowStep, actor: Actor, final: bool) -> None: ...

    def on_transition(self, flow: Flow, actor: Actor, verb: str) -> None: ...

    def url(self, flow: Flow) -> str: ...


_HANDLERS: dict[str, FlowHandler] = {}


def register(kind: str, handler: FlowHandler) -> None:
    """Register the handler of `kind`; registering again replaces (tests, reloads)."""
    _HANDLERS[kind] = handler


def handler_for(kind: str) -> FlowHandler:
    """The handler of `kind`; DomainError when none is registered (a configuration error)."""
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise DomainError(f"未登记审批事项类别“{kind}”的处理程序。") from None


def kind_label(kind: str) -> str:
    handler = _HANDLERS.get(kind)
    return str(getattr(handler, "label", "") or kind)


def registered_kinds() -> list[tuple[str, str]]:
    """(kind, label) pairs of every registered handler, for filters."""
    return sorted((kind, kind_label(kind)) for kind in _HANDLERS)
