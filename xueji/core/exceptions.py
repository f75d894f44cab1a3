"""Domain errors: each carries a message a registrar understands, and the field it concerns."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the action. `message` is shown to the user as is (Chinese first)."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Several field errors at once: {field: [message, ...]}."""

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.values()))[0] if errors else "输入有误"
        super().__init__(first, code="invalid")
        self.errors = errors


class PermissionDenied(DomainError):
    code = "permission_denied"


class NotFound(DomainError):
    """Also raised for records outside the caller's scope, so their existence does not leak."""

    code = "not_found"
