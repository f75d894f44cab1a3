"""The registry of import kinds. Each kind says who may run it, what files it takes, how its
template is built and which two job kinds do its dry run and its commit; the import pages and
the API are generic over this registry.

exchange registers its own kinds (freshmen, student updates, photos, code mappings) in
`register_builtin_kinds`, called from its AppConfig.ready(); a higher app registers its kind
from its own ready() (registration's finance import), so exchange never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from xueji.core.exceptions import NotFound
from xueji.exchange.imports.columns import Column

if TYPE_CHECKING:
    from xueji.accounts.models import User

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")


@dataclass(frozen=True)
class ImportKind:
    key: str  # in URLs: /exchange/imports/<key>/
    title: str  # 中文, e.g. "学生信息更新"
    may_run: Callable[[User], bool]
    refusal: str  # the message for those who may not
    template: Callable[[], bytes] | None  # None: no template (photos come as a zip)
    template_name: str  # the download's file name (ASCII)
    dry_run_kind: str  # job kinds, registered with xueji.jobs.registry
    commit_kind: str
    columns: Sequence[Column] = ()  # for the page's short column list (empty for photos)
    summary: str = ""  # one sentence: what it does and how it matches records
    suffixes: tuple[str, ...] = SPREADSHEETS
    file_label: str = gettext_noop("文件")
    file_help: str = gettext_noop("xlsx、xls 或 CSV（UTF-8 或 GBK），按模板的列填写")
    unit: str = "人"  # what the counts count
    max_upload: int = 50 * 1024 * 1024
    accepts_system: bool = False  # 来源系统: translate codes through the code mappings
    order: int = 100
    job_kinds: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "job_kinds", frozenset({self.dry_run_kind, self.commit_kind}))


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> None:
    _KINDS[kind.key] = kind


def all_kinds() -> list[ImportKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.key))


def get_kind(key: str) -> ImportKind:
    """The kind named `key`; NotFound for an unknown one."""
    try:
        return _KINDS[key]
    except KeyError:
        raise NotFound("没有这种导入。") from None


def kinds_for(user: User) -> list[ImportKind]:
    """The kinds `user` may run, in page order."""
    return [kind for kind in all_kinds() if kind.may_run(user)]


def kind_of_job(job_kind: str) -> ImportKind | None:
    """The import kind a job belongs to (by its dry-run or commit job kind)."""
    return next((k for k in _KINDS.values() if job_kind in k.job_kinds), None)


def import_job_kinds() -> set[str]:
    return {job_kind for kind in _KINDS.values() for job_kind in kind.job_kinds}


def register_builtin_kinds() -> None:
    """exchange's own kinds and their job runners (called from ExchangeConfig.ready)."""
    from xueji.exchange.imports import mappings, permissions, photos, runner, updates
    from xueji.exchange.imports.columns import FRESHMAN_COLUMNS
    from xueji.exchange.imports.template import freshman_template
    from xueji.jobs.registry import register as register_job

    register(
        ImportKind(
            key="freshmen",
            title=gettext_noop("新生导入"),
            may_run=permissions.can_import_freshmen,
            refusal=gettext_noop("只有校级学籍管理员和学院教务员可以导入新生。"),
            template=freshman_template,
            template_name="freshmen-template.xlsx",
            dry_run_kind=runner.DRY_RUN,
            commit_kind=runner.COMMIT,
            columns=FRESHMAN_COLUMNS,
            summary=gettext_noop(
                "录取库（学信网新生学籍注册字段）导入为新生学籍；按考生号识别同一学生。"
            ),
            file_label=gettext_noop("新生名单文件"),
            accepts_system=True,
            order=10,
        )
    )
    for module in (updates, photos, mappings):
        register(module.KIND)
        register_job(module.KIND.dry_run_kind, module.run_dry_run)
        register_job(module.KIND.commit_kind, module.run_commit)
