"""In Chromium: a registrar uploads a file with bad rows, watches the progress bar reach 100 %
and downloads the error report. The job runs in the test thread while the page polls."""

from __future__ import annotations

import io
import re

import pytest
from python_calamine import CalamineWorkbook

from xueji.exchange.imports.runner import DRY_RUN
from xueji.exchange.tests.test_imports import freshman_rows, xlsx_bytes
from xueji.jobs.models import Job
from xueji.jobs.services import job_run
from xueji.students.tests.test_browser import (  # noqa: F401 (fixtures)
    browser,
    live_cast,
    log_in,
    page,
    shot,
)

pytestmark = pytest.mark.browser


def test_registrar_uploads_bad_rows_sees_progress_and_downloads_the_error_report(
    page,  # noqa: F811
    live_server,
    live_cast,  # noqa: F811
    tmp_path,
):
    rows = freshman_rows(live_cast, 200)
    rows[4]["MZ"] = "99"
    rows[9]["XM"] = ""
    rows[19]["XH"] = rows[18]["XH"]
    path = tmp_path / "新生名单.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    log_in(page, live_server, "registrar")
    page.goto(f"{live_server.url}/exchange/imports/freshmen/")
    shot(page, "import-home")
    page.get_by_label("新生名单文件").set_input_files(str(path))
    page.get_by_role("button", name="上传并预检").click()
    page.wait_for_url(re.compile(r"/exchange/imports/jobs/\d+/$"))
    assert page.locator("#job-progress").get_attribute("data-status") == "queued"
    job = Job.objects.get(kind=DRY_RUN)
    job_run(job.pk)  # the page keeps polling while this runs
    page.locator('#job-progress[data-status="succeeded"]').wait_for()
    assert page.locator("#job-progress .progress-bar").inner_text() == "100%"
    page.locator("#import-counts").wait_for()
    assert page.locator('[data-count="errors"]').inner_text() == "3"
    assert page.locator("#import-errors tbody tr").count() == 3
    assert page.locator("#confirm-import").count() == 0
    shot(page, "import-dry-run-errors")
    with page.expect_download() as info:
        page.locator("#error-report").click()
    report = CalamineWorkbook.from_filelike(io.BytesIO(info.value.path().read_bytes()))
    listing = report.get_sheet_by_name("错误清单").to_python()
    assert [(int(r[0]), r[1]) for r in listing[1:]] == [(6, "民族"), (11, "姓名"), (21, "学号")]
