"""The English 在校证明 (Certificate of Enrolment): filled in only where the registrar has not
written an English template yet."""

from django.db import migrations

from xueji.certificates.builtin import ENROLMENT_HTML_EN


def install(apps, schema_editor):
    DocumentType = apps.get_model("certificates", "DocumentType")
    DocumentType.objects.filter(code="zxzm", template_html_en="").update(
        template_html_en=ENROLMENT_HTML_EN
    )


class Migration(migrations.Migration):
    dependencies = [("certificates", "0003_document_type_template_html_en")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
