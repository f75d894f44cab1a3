"""Photos from a zip named by 学号 or 考生号: each bad entry reported by its name, the zip-bomb
guard before extraction, all-or-nothing commit (files too), PNG stored as JPEG, identical
re-import changes nothing, scope as entry errors."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.exceptions import PermissionDenied
from xueji.exchange.imports import photos
from xueji.exchange.tests.test_imports_kinds import (
    audit_after,
    errors_of,
    more_students,
    report_listing,
    run_kind,
)
from xueji.jobs.models import JobStatus
from xueji.students.models import Student


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (480, 640), shade: int = 0) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if kind == "PNG" else "RGB"
    Image.new(mode, size, (200, 180 + shade % 50, 160, 255)[: len(mode)]).save(out, format=kind)
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_clean_zip_stores_the_photos_and_a_second_run_changes_nothing(cast: Cast) -> None:
    data = zip_bytes(
        {
            f"2024级/{cast.student.student_number}.jpg": image_bytes(),
            # By 考生号, as a PNG: stored as JPEG.
            f"{cast.classmate_b.candidate_number}.PNG": image_bytes("PNG", shade=7),
            "__MACOSX/._x.jpg": b"junk",
            ".DS_Store": b"junk",
            "2024级/Thumbs.db": b"junk",
        }
    )
    dry = run_kind(cast, "photos", data, name="照片.zip")
    assert dry.status == JobStatus.SUCCEEDED, dry.error
    assert (dry.result["rows"], dry.result["new"], dry.result["errors"]) == (2, 2, 0)
    assert (dry.phase, dry.done, dry.total) == ("校验", 2, 2)
    assert not Student.objects.get(pk=cast.student.pk).photo
    commit = run_kind(cast, "photos", data, name="照片.zip", dry_run=False)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert (commit.result["created"], commit.result["updated"]) == (2, 0)
    student = Student.objects.get(pk=cast.student.pk)
    assert student.photo.name.startswith(f"photos/{student.student_number}-")
    assert student.photo.read() == image_bytes()
    classmate = Student.objects.get(pk=cast.classmate_b.pk)
    stored = classmate.photo.read()
    assert stored[:2] == b"\xff\xd8"  # JPEG
    assert Image.open(io.BytesIO(stored)).size == (480, 640)
    assert student.history.first().history_change_reason == "照片导入"
    assert audit_after("import.photos")["created"] == 2
    versions = student.history.count()
    again = run_kind(cast, "photos", data, name="照片.zip", dry_run=False)
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert (again.result["created"], again.result["updated"], again.result["unchanged"]) == (
        0,
        0,
        2,
    )
    assert student.history.count() == versions
    assert Student.objects.get(pk=cast.student.pk).photo.name == student.photo.name


def test_a_different_photo_replaces_the_stored_one_and_keeps_the_old_file(cast: Cast) -> None:
    name = f"{cast.student.student_number}.jpg"
    run_kind(cast, "photos", zip_bytes({name: image_bytes()}), name="a.zip", dry_run=False)
    first = Student.objects.get(pk=cast.student.pk).photo.name
    job = run_kind(
        cast, "photos", zip_bytes({name: image_bytes(shade=20)}), name="b.zip", dry_run=False
    )
    assert (job.result["created"], job.result["updated"]) == (0, 1)
    second = Student.objects.get(pk=cast.student.pk).photo.name
    assert second != first
    # The earlier version in the history still points at an existing file.
    assert default_storage.exists(first) and default_storage.exists(second)


def test_the_dry_run_reports_each_bad_entry_by_its_name(cast: Cast) -> None:
    s = more_students(cast, 3)
    entries = {
        f"{cast.student.student_number}.jpg": image_bytes(),  # 1: fine
        "2099999999.jpg": image_bytes(),  # 2: nobody
        f"{s[0].student_number}.jpg": b"not an image at all",  # 3
        f"{s[1].student_number}.jpg": image_bytes(size=(60, 80)),  # 4: too small
        f"{cast.student.candidate_number}.jpg": image_bytes(),  # 5: same student as 1
        f"{s[2].student_number}.gif": image_bytes(),  # 6: wrong suffix
        f"{cast.classmate_b.student_number}.jpg": image_bytes("GIF"),  # 7: a GIF named .jpg
    }
    job = run_kind(cast, "photos", zip_bytes(entries), name="p.zip")
    assert job.status == JobStatus.SUCCEEDED, job.error
    found = errors_of(job)
    assert [row for row, _, _ in found] == [2, 3, 4, 5, 6, 7]
    assert {column for _, column, _ in found} == {"文件"}
    reasons = {row: reason for row, _, reason in found}
    assert "不是您管理范围内学生的学号或考生号" in reasons[2]
    assert "无法识别为图片" in reasons[3]
    assert "60×80" in reasons[4]
    assert f"与“{cast.student.student_number}.jpg”是同一名学生" in reasons[5]
    assert "只接受 .jpg" in reasons[6]
    assert "不是 JPG 或 PNG" in reasons[7]
    names = list(entries)
    assert [(r, v) for r, _, v in report_listing(job)] == [(i + 1, names[i]) for i in range(1, 7)]


def test_a_college_admin_gets_an_entry_error_for_another_colleges_student(cast: Cast) -> None:
    data = zip_bytes(
        {
            f"{cast.student.student_number}.jpg": image_bytes(),
            f"{cast.other_student.student_number}.jpg": image_bytes(),
        }
    )
    commit = run_kind(cast, "photos", data, name="p.zip", user=cast.college_admin, dry_run=False)
    assert commit.status == JobStatus.FAILED and "未导入任何数据" in commit.error
    assert [(r, v) for r, _, v in report_listing(commit)] == [
        (2, f"{cast.other_student.student_number}.jpg")
    ]
    assert not Student.objects.get(pk=cast.student.pk).photo
    assert not Student.objects.get(pk=cast.other_student.pk).photo
    assert not AuditEvent.objects.filter(action="import.photos").exists()
    assert not default_storage.exists("photos") or not default_storage.listdir("photos")[1]


def test_the_zip_bomb_guard_refuses_before_extracting(cast: Cast, monkeypatch) -> None:
    # 20 MB of zeros compress to some KB: a ratio no photo has.
    bomb = zip_bytes(
        {f"{cast.student.student_number}.jpg": b"\0" * (20 * 1024 * 1024)},
        compression=zipfile.ZIP_DEFLATED,
    )
    job = run_kind(cast, "photos", bomb, name="bomb.zip")
    assert job.status == JobStatus.FAILED
    assert "压缩比异常" in job.error and "已拒绝整个压缩包" in job.error
    monkeypatch.setattr(photos, "MAX_ENTRIES", 2)
    many = zip_bytes({f"{i}.jpg": b"x" for i in range(3)})
    job = run_kind(cast, "photos", many, name="many.zip")
    assert job.status == JobStatus.FAILED and "超过上限 2" in job.error
    monkeypatch.setattr(photos, "MAX_TOTAL", 1000)
    big = zip_bytes({"a.jpg": b"x" * 600, "b.jpg": b"y" * 600})
    job = run_kind(cast, "photos", big, name="big.zip")
    assert job.status == JobStatus.FAILED and "解压后共" in job.error
    assert not Student.objects.get(pk=cast.student.pk).photo


def test_a_file_that_is_not_a_zip_or_has_no_photos_is_refused_clearly(cast: Cast) -> None:
    job = run_kind(cast, "photos", b"PK-not-really", name="x.zip")
    assert job.status == JobStatus.FAILED and "无法读取该压缩包" in job.error
    job = run_kind(cast, "photos", zip_bytes({"__MACOSX/a.jpg": b"x"}), name="y.zip")
    assert job.status == JobStatus.FAILED and "没有照片文件" in job.error


def test_only_importers_may_start_a_photo_import(cast: Cast) -> None:
    for user in (cast.counsellor, cast.auditor, cast.student_user):
        with pytest.raises(PermissionDenied):
            run_kind(cast, "photos", zip_bytes({"a.jpg": image_bytes()}), name="a.zip", user=user)
