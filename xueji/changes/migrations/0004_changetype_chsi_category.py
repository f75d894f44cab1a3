from django.db import migrations, models

# The built-in types' 学籍异动类别码 (as in changes.catalogue.DEFAULT_TYPES).
BUILTIN_CATEGORIES = {
    "suspension": "11",
    "resumption": "12",
    "admission_reservation": "14",
    "military_reservation": "19",
    "other_reservation": "19",
    "major_change": "23",
    "transfer_out": "21",
    "transfer_in": "22",
    "repeat_year": "03",
    "extension": "06",
    "withdrawal": "31",
    "cancellation": "18",
    "expulsion": "42",
    "death": "51",
    "reinstatement": "17",
}


def fill_builtins(apps, schema_editor):
    ChangeType = apps.get_model("changes", "ChangeType")
    for code, category in BUILTIN_CATEGORIES.items():
        ChangeType.objects.filter(code=code, is_builtin=True, chsi_category="").update(
            chsi_category=category
        )


class Migration(migrations.Migration):
    dependencies = [
        ("changes", "0003_ending_reminder_admission_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="changetype",
            name="chsi_category",
            field=models.CharField(blank=True, max_length=2, verbose_name="学信网异动类别码"),
        ),
        migrations.RunPython(fill_builtins, migrations.RunPython.noop),
    ]
