"""学籍表 (with photo) and 成绩单 (inactive until grades exist) as built-in types; 学籍证明 opens to
graduates (rule `enrolled_or_graduated`) where the registrar has not changed its rules."""

from django.db import migrations

from xueji.certificates.builtin import BUILTIN_TYPES

FIELDS = (
    "name",
    "name_en",
    "description",
    "for_students",
    "for_graduates",
    "for_staff",
    "rules",
    "auto_issue",
    "free_per_term",
    "template_html",
    "order",
)


def install(apps, schema_editor):
    DocumentType = apps.get_model("certificates", "DocumentType")
    for spec in BUILTIN_TYPES:
        if spec["code"] not in ("xjb", "cjd"):
            continue
        DocumentType.objects.get_or_create(
            code=spec["code"],
            defaults={
                **{field: spec[field] for field in FIELDS},
                "is_builtin": True,
                "is_active": spec.get("is_active", True),
            },
        )
    DocumentType.objects.filter(code="xjzm", rules=["enrolled"], for_graduates=False).update(
        rules=["enrolled_or_graduated"], for_graduates=True
    )


class Migration(migrations.Migration):
    dependencies = [("certificates", "0006_batches_requests_reissue")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
