"""Compile every .po under LOCALE_PATHS to .mo with polib.

`compilemessages` needs GNU gettext's msgfmt, which a fresh machine may lack; polib is a pinned
Python dependency, so set-up can always compile. Fuzzy and untranslated entries are left out of
the .mo (Django then shows the Chinese source text), and `--strict` fails on any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Compile every .po file under LOCALE_PATHS to .mo (pure Python, no gettext needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Fail when any entry is untranslated or fuzzy.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        po_files = sorted(po for base in settings.LOCALE_PATHS for po in Path(base).rglob("*.po"))
        if not po_files:
            self.stdout.write("没有找到 .po 文件 / no .po files found")
            return
        incomplete: list[str] = []
        for po_path in po_files:
            try:
                catalogue = polib.pofile(str(po_path))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{po_path}: {exc}") from exc
            mo_path = po_path.with_suffix(".mo")
            catalogue.save_as_mofile(str(mo_path))
            untranslated = len(catalogue.untranslated_entries())
            fuzzy = len(catalogue.fuzzy_entries())
            self.stdout.write(
                f"{mo_path}: {len(catalogue.translated_entries())} translated,"
                f" {untranslated} untranslated, {fuzzy} fuzzy"
            )
            if untranslated or fuzzy:
                incomplete.append(f"{po_path} ({untranslated} untranslated, {fuzzy} fuzzy)")
        if incomplete and options["strict"]:
            raise CommandError("翻译不完整 / incomplete translations: " + "; ".join(incomplete))
