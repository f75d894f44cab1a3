"""Rendering many documents at once on every core: a pool of processes, each with its own warm
font configuration (WeasyPrint renders one document at a time per process).

The processes are started with "spawn", never "fork": a forked child would share the parent's
database connections and its font configuration's temporary folder. Children only turn HTML
into signed PDF bytes (`produce.produce_pdf`); numbering, storing and auditing stay in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from django.conf import settings

from xueji.certificates.produce import produce_pdf_job
from xueji.core.exceptions import DomainError


def render_processes() -> int:
    """XUEJI_RENDER_PROCESSES, or one per core."""
    configured = getattr(settings, "RENDER_PROCESSES", 0)
    return max(1, configured or os.cpu_count() or 1)


def _start_child(settings_module: str) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    django.setup()


class RenderFailed(DomainError):
    """A render process died (killed for memory, a crash in a native library)."""

    code = "render_failed"


class RenderPool:
    """`with RenderPool(n) as pool: pool.render(items)` → the PDFs, in order. With n == 1 the
    documents are rendered in this process (no children).

    Built on `ProcessPoolExecutor`: a child that dies breaks the pool, and the waiting parent
    gets `RenderFailed` instead of waiting for ever (`multiprocessing.Pool` loses the task)."""

    def __init__(self, processes: int | None = None, *, job=produce_pdf_job) -> None:
        self.processes = processes or render_processes()
        self._job = job
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> RenderPool:
        if self.processes > 1:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),),
            )
        return self

    def __exit__(self, exc_type, *exc_info: object) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if exc_type is not None:  # stop the children now; their results are not wanted
            for process in list(getattr(executor, "_processes", {}).values()):
                process.terminate()
            executor.shutdown(wait=True, cancel_futures=True)
        else:
            executor.shutdown(wait=True)

    def render(self, items: Sequence[tuple[str, str]]) -> Iterator[bytes]:
        """The PDFs of (html, signature reason) pairs, in order."""
        if self._executor is None:
            return (self._job(item) for item in items)
        return self._results(self._executor.map(self._job, items, chunksize=4))

    @staticmethod
    def _results(results: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from results
        except BrokenProcessPool as exc:
            raise RenderFailed(
                "生成 PDF 的进程意外退出（可能是内存不足），本批次已停止；已开具的证明保留有效，"
                "重新运行该任务会继续为其余学生开具。"
            ) from exc
