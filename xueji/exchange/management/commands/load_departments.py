"""Create the shipped cooperating departments that do not exist yet (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from xueji.core.context import Actor
from xueji.exchange.services import departments_seed


class Command(BaseCommand):
    help = "创建默认协同部门（财务处、宿舍管理中心、图书馆、一卡通中心、学生工作部），已有的不变。"

    def handle(self, *args: Any, **options: Any) -> None:
        created = departments_seed(actor=Actor.system())
        self.stdout.write(f"{len(created)} departments created")
