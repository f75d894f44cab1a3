from django.http import HttpRequest

from xueji.notifications.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, object]:
    """The unread count for the navbar bell (one indexed COUNT per page)."""
    user = getattr(request, "user", None)
    return {"UNREAD_NOTIFICATIONS": unread_count(user) if user is not None else 0}
