"""Forms of the cross-check pages."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.exchange.models import DiscrepancyKind, DiscrepancyStatus


class AdmissionUploadForm(forms.Form):
    name = forms.CharField(label=_("批次名称"), max_length=120)
    year = forms.IntegerField(
        label=_("录取年份"), min_value=2000, max_value=2100, initial=timezone.localdate().year
    )
    file = forms.FileField(
        label=_("录取数据文件"),
        help_text=_(
            "xlsx、xls、ods 或 CSV（UTF-8 或 GBK）。第一行为列名：考生号、姓名、证件号码、性别、"
            "出生日期、专业代码、专业名称、层次、学制、照片（是/否）。"
        ),
    )


class DiscrepancyFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), *DiscrepancyStatus.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    kind = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=[("", _("全部")), *DiscrepancyKind.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"status": DiscrepancyStatus.OPEN}
        return {"status": self.cleaned_data["status"], "kind": self.cleaned_data["kind"]}


class ResolveForm(forms.Form):
    status = forms.ChoiceField(
        label=_("处理结果"),
        choices=[
            (DiscrepancyStatus.RESOLVED, DiscrepancyStatus.RESOLVED.label),
            (DiscrepancyStatus.ACCEPTED, DiscrepancyStatus.ACCEPTED.label),
        ],
    )
    note = forms.CharField(label=_("处理说明"), max_length=400)
