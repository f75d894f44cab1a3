"""Template context from the organisation: the school's name on every page."""

from django.conf import settings
from django.http import HttpRequest

from xueji.org.selectors import school_current


def site(request: HttpRequest) -> dict[str, object]:
    school = school_current()
    return {
        "SCHOOL_NAME": school.name if school else (settings.SCHOOL_NAME or "学籍管理系统"),
    }
