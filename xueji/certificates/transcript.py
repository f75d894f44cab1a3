"""The transcript (成绩单) interface: what a transcript template sees, and the one place the
academics app will plug its grades in.

Xueji has no grades yet (they come with the academics issue). The built-in 成绩单 type is
therefore installed inactive, with the rule `has_transcript`, which refuses with a clear reason
until a provider is registered. The academics app will, in its `AppConfig.ready()`:

    from xueji.certificates.transcript import register_provider
    register_provider(transcript_of)   # (Student) -> Transcript | None

and the 成绩单 template (editable like any other) prints `terms`, `credits_total` and `gpa`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xueji.students.models import Student


@dataclass(frozen=True)
class Course:
    code: str  # 课程代码
    name: str  # 课程名称
    credits: Decimal  # 学分
    score: str  # 成绩: a mark ("92"), a grade ("优秀", "通过") or a note ("免修")
    kind: str = ""  # 课程性质: 必修 / 选修 / 通识 …


@dataclass(frozen=True)
class TranscriptTerm:
    name: str  # "2024—2025学年第一学期"
    courses: tuple[Course, ...] = field(default_factory=tuple)

    @property
    def credits(self) -> Decimal:
        return sum((course.credits for course in self.courses), Decimal(0))


@dataclass(frozen=True)
class Transcript:
    terms: tuple[TranscriptTerm, ...]
    gpa: str = ""  # as the school computes and prints it; empty when it prints none

    @property
    def credits_total(self) -> Decimal:
        return sum((term.credits for term in self.terms), Decimal(0))


Provider = Callable[["Student"], Transcript | None]
_provider: Provider | None = None


def register_provider(provider: Provider | None) -> None:
    """Set (or, with None, remove) the function that gives a student's transcript."""
    global _provider
    _provider = provider


def has_provider() -> bool:
    return _provider is not None


def transcript_for(student: Student) -> Transcript | None:
    """The student's transcript; None when there is no provider or no grades."""
    return _provider(student) if _provider is not None else None


SAMPLE_TRANSCRIPT = Transcript(
    terms=(
        TranscriptTerm(
            "2024—2025学年第一学期",
            (
                Course("MATH1001", "高等数学（上）", Decimal("5"), "91", "必修"),
                Course("CS1001", "程序设计基础", Decimal("4"), "88", "必修"),
                Course("ENG1001", "大学英语（一）", Decimal("3"), "优秀", "必修"),
            ),
        ),
        TranscriptTerm(
            "2024—2025学年第二学期",
            (
                Course("MATH1002", "高等数学（下）", Decimal("5"), "86", "必修"),
                Course("CS1002", "数据结构", Decimal("4"), "93", "必修"),
                Course("PE1002", "体育（二）", Decimal("1"), "通过", "通识"),
            ),
        ),
    ),
    gpa="3.72",
)
