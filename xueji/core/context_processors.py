from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    from xueji.org.selectors import school_current

    school = school_current()
    return {
        "SCHOOL_NAME": school.name if school else (settings.SCHOOL_NAME or "学籍管理系统"),
    }
