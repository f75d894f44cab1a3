from django.http import HttpRequest

from xueji.accounts.models import Role


def workbench(request: HttpRequest) -> dict[str, object]:
    """The navbar's pending-approval count (approvers only) and department membership."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from xueji.exchange.selectors import departments_of
    from xueji.workflow.selectors import pending_count

    context: dict[str, object] = {"IS_DEPARTMENT_MEMBER": departments_of(user).exists()}
    if user.has_role(Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR):
        context["WORKBENCH_PENDING"] = pending_count(user)
    return context
