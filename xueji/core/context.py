"""Who is acting, and from where: passed explicitly to every service so audit rows are complete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

    from xueji.accounts.models import User


@dataclass(frozen=True)
class Actor:
    """The acting user (None for the system itself) and the client the action came from."""

    user: User | None
    ip: str = ""
    user_agent: str = ""
    via: str = "web"

    def require_user(self) -> User:
        """The acting user; PermissionDenied ("请先登录。") when nobody is logged in."""
        from xueji.core.exceptions import PermissionDenied

        if self.user is None or not self.user.is_authenticated:
            raise PermissionDenied("请先登录。")
        return self.user

    @classmethod
    def system(cls, via: str = "command") -> Actor:
        return cls(user=None, via=via)

    @classmethod
    def from_request(cls, request: HttpRequest, via: str = "web") -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,  # type: ignore[arg-type]
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:400],
            via=via,
        )


def client_ip(request: HttpRequest) -> str:
    # Behind a reverse proxy the deployment sets XUEJI_TRUSTED_PROXY_HEADER; by default we trust
    # only the socket address, because X-Forwarded-For is client-controlled.
    from django.conf import settings

    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header:
        forwarded = request.META.get(header, "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
