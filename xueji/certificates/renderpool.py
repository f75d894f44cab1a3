"""Rendering many documents at once on every core: a pool of processes, each with its own warm
font configuration (WeasyPrint renders one document at a time per process).

The pool is started with "spawn", never "fork": a forked child would share the parent's
database connections and its font configuration's temporary folder. Children only turn HTML
into signed PDF bytes (`produce.produce_pdf`); numbering, storing and auditing stay in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence

from django.conf import settings

from xueji.certificates.produce import produce_pdf_job


def render_processes() -> int:
    """XUEJI_RENDER_PROCESSES, or one per core."""
    configured = getattr(settings, "RENDER_PROCESSES", 0)
    return max(1, configured or os.cpu_count() or 1)


def _start_child(settings_module: str) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    django.setup()


class RenderPool:
    """`with RenderPool(n) as pool: pool.render(items)` → the PDFs, in order. With n == 1 the
    documents are rendered in this process (no children)."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or render_processes()
        self._pool = None

    def __enter__(self) -> RenderPool:
        if self.processes > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(
                self.processes,
                initializer=_start_child,
                initargs=(os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),),
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def render(self, items: Sequence[tuple[str, str]]) -> Iterator[bytes]:
        """The PDFs of (html, signature reason) pairs, in order."""
        if self._pool is None:
            return (produce_pdf_job(item) for item in items)
        return self._pool.imap(produce_pdf_job, items, chunksize=4)
