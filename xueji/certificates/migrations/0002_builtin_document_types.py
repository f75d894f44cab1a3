"""Install the built-in document types (在校证明, 学籍证明); existing rows are left as edited."""

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
        if spec["code"] not in ("zxzm", "xjzm"):
            continue  # later types come with later migrations (0007)
        DocumentType.objects.get_or_create(
            code=spec["code"],
            defaults={**{field: spec[field] for field in FIELDS}, "is_builtin": True},
        )


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_document_types")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
