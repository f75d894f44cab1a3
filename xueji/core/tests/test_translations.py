"""The English translation: complete, compiled without GNU gettext, and shown when chosen."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

ENGLISH = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"


def test_every_chinese_source_string_has_an_english_translation():
    catalogue = polib.pofile(str(ENGLISH))

    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


def test_english_translations_keep_every_placeholder():
    for entry in polib.pofile(str(ENGLISH)).translated_entries():
        translations = [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values()
        for english in translations:
            for placeholder in ("%(", "{{"):
                assert entry.msgid.count(placeholder) == english.count(placeholder), entry.msgid


def write_po(directory: Path, translated: bool) -> Path:
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "en"}
    po.append(polib.POEntry(msgid="学籍", msgstr="Student Status" if translated else ""))
    path = directory / "en" / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    po.save(str(path))
    return path


def test_compile_translations_writes_a_mo_next_to_every_po(settings, tmp_path):
    po_path = write_po(tmp_path, translated=True)
    settings.LOCALE_PATHS = [tmp_path]

    call_command("compile_translations")

    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    assert [(entry.msgid, entry.msgstr) for entry in compiled] == [("学籍", "Student Status")]


def test_compile_translations_strict_fails_on_an_untranslated_string(settings, tmp_path):
    write_po(tmp_path, translated=False)
    settings.LOCALE_PATHS = [tmp_path]

    with pytest.raises(CommandError, match="1 untranslated"):
        call_command("compile_translations", "--strict")


@pytest.fixture
def restore_language():
    yield
    # A request in English leaves English active in this thread; later tests expect Chinese.
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.django_db
@pytest.mark.usefixtures("restore_language")
def test_a_registrar_who_switches_to_english_sees_the_organisation_page_in_english(
    client, cast, settings
):
    call_command("compile_translations")
    # Reassigning LOCALE_PATHS makes Django drop the catalogues it already loaded.
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)
    client.force_login(cast.registrar)

    response = client.post(
        reverse("set-language"), {"language": "en", "next": reverse("org-home")}, follow=True
    )

    content = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("org-home")
    assert "Organisation" in content and "School and colleges" in content
    assert "组织机构" not in content
