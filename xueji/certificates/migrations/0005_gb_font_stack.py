"""Headings of the templates name the GB 2312 cut of the sans face before the whole face (see
`xueji.certificates.fontcut`): same glyphs, a smaller and faster PDF. Only the exact stack the
built-in templates used is replaced, wherever it appears."""

import re

from django.db import migrations

# The old stack, where the GB cut does not already precede it (a fresh database's templates
# come from the current builtin.py, which has it).
OLD = re.compile(r'(?<!"Xueji Sans GB", )"Xueji Sans", "Xueji Rare A", "Xueji Rare B"')
NEW = '"Xueji Sans GB", "Xueji Sans", "Xueji Rare A", "Xueji Rare B"'


def forwards(apps, schema_editor):
    DocumentType = apps.get_model("certificates", "DocumentType")
    for document_type in DocumentType.objects.all():
        html, html_en = document_type.template_html, document_type.template_html_en
        document_type.template_html = OLD.sub(NEW, html)
        document_type.template_html_en = OLD.sub(NEW, html_en)
        if (html, html_en) != (document_type.template_html, document_type.template_html_en):
            document_type.save(update_fields=["template_html", "template_html_en"])


class Migration(migrations.Migration):
    dependencies = [("certificates", "0004_builtin_english_enrolment")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
