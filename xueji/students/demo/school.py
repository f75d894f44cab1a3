"""Building the demo school: organisation, demo accounts, students with their status rows."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from xueji.accounts.models import Role, Scope, User
from xueji.accounts.services import grant_create
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.org.models import (
    AcademicYear,
    CodeItem,
    CodeTable,
    Cohort,
    College,
    Major,
    School,
    SchoolClass,
    Term,
)
from xueji.students.demo.bulk import (
    bulk_insert,
    history_values,
    large_page_cache,
    ledger_row,
    state_row,
)
from xueji.students.demo.data import (
    CHUNK,
    CLASS_SIZE,
    COHORTS,
    COLLEGES,
    DEMO_PASSWORD,
    ETHNIC_CUM,
    ETHNIC_LIST,
    HOME_PROVINCE,
    REGION_PLACEHOLDERS,
    SCHOOL,
    SURNAME_CUM,
    SURNAME_LIST,
    MajorSpec,
    pick,
)
from xueji.students.demo.people import People
from xueji.students.models import (
    LedgerAction,
    ParentLink,
    RegistryStatus,
    StatusLedgerEntry,
    Student,
    StudentState,
    StudentStatus,
    registry_for,
)


@dataclass
class SeedReport:
    """What `demo_seed` did: created or not (and why, in `message`), counts, the accounts."""

    created: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str]] = field(default_factory=list)


def current_intake_year(today: date | None = None) -> int:
    """The newest cohort: this year's intake once September has come, else last year's."""
    today = today or timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


@dataclass
class Group:
    """The students of one major in one cohort, split into classes."""

    college: College
    major: Major
    spec: MajorSpec
    cohort: Cohort
    size: int = 0
    classes: list[SchoolClass] = field(default_factory=list)


class SchoolBuilder:
    """Builds the organisation, the demo accounts and the students, in that order."""

    def __init__(
        self,
        *,
        students: int,
        rng: random.Random,
        intake_year: int,
        progress: Callable[[str], None],
    ) -> None:
        self.total = students
        self.rng = rng
        self.intake_year = intake_year
        self.progress = progress
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.counts: dict[str, int] = {}

    # --- organisation -------------------------------------------------------------------------

    def build(self) -> SeedReport:
        self._codes()
        self._org()
        self._allocate()
        self._classes()
        self._accounts()
        self._students()
        self._parent_link()
        accounts = [(u.username, str(u)) for u in self.users.values()]
        return SeedReport(True, "示例数据已载入 / demo data loaded.", self.counts, accounts)

    def _code(self, table: str, name: str) -> str:
        item = CodeItem.objects.filter(table=table, name=name, valid_to__isnull=True).first()
        if item is None:
            raise DomainError(f"代码表 {table} 中没有“{name}”，请重新运行 manage.py load_codes。")
        return item.code

    def _codes(self) -> None:
        self.level = self._code(CodeTable.EDUCATION_LEVEL, "本科")
        self.study_form = self._code(CodeTable.STUDY_FORM, "普通全日制")
        self.id_type = self._code(CodeTable.ID_TYPE, "居民身份证")
        wanted = {m.national_code for c in COLLEGES for m in c.majors}
        self.catalogue = {
            item.code: item
            for item in CodeItem.objects.filter(
                table=CodeTable.MAJOR_CATALOGUE, code__in=wanted, valid_to__isnull=True
            )
        }
        missing = sorted(wanted - set(self.catalogue))
        if missing:
            raise DomainError(f"2024 年本科专业目录中缺少专业代码：{'、'.join(missing)}")
        known = set(
            CodeItem.objects.filter(table=CodeTable.ETHNICITY).values_list("code", flat=True)
        )
        if not set(ETHNIC_LIST) <= known:
            raise DomainError("民族代码表不完整，请重新运行 manage.py load_codes。")
        self._regions()

    def _regions(self) -> None:
        """Current county codes, with names for addresses; only those in force by 2000."""
        names: dict[str, str] = {}
        counties: list[str] = []
        rows = CodeItem.objects.filter(table=CodeTable.REGION, valid_to__isnull=True)
        for code, name, valid_from in rows.values_list("code", "name", "valid_from"):
            names[code] = name
            if (
                not code.endswith("00")
                and name not in REGION_PLACEHOLDERS
                and (valid_from is None or valid_from <= 2000)
            ):
                counties.append(code)
        if not counties:
            raise DomainError("行政区划代码表为空，请先运行 manage.py load_codes。")
        counties.sort()
        self.people = People(
            self.rng,
            counties=counties,
            home_counties=[c for c in counties if c.startswith(HOME_PROVINCE)] or counties,
            region_names=names,
            today=self.today,
        )

    def _org(self) -> None:
        if not School.objects.exists():
            School.objects.create(**SCHOOL)
        colleges = College.objects.bulk_create(
            [College(code=c.code, name=c.name, name_en=c.name_en) for c in COLLEGES]
        )
        College.history.bulk_history_create(colleges, default_change_reason="示例数据")
        self.colleges = colleges
        majors: list[Major] = []
        self.specs: list[tuple[College, MajorSpec, Major]] = []
        for college, spec in zip(colleges, COLLEGES, strict=True):
            for index, major_spec in enumerate(spec.majors, start=1):
                item = self.catalogue[major_spec.national_code]
                major = Major(
                    college=college,
                    national_code=item.code,
                    code=f"{college.code}{index:02d}",
                    name=item.name,
                    name_en=item.name_en,
                    level=self.level,
                    duration=Decimal(str(item.extra.get("years", 4))),
                    catalogue_year=2024,
                )
                majors.append(major)
                self.specs.append((college, major_spec, major))
        Major.objects.bulk_create(majors)
        Major.history.bulk_history_create(majors, default_change_reason="示例数据")
        years = range(self.intake_year - COHORTS + 1, self.intake_year + 1)
        self.cohorts = [Cohort.objects.get_or_create(year=year)[0] for year in years]
        for start in range(years[0], current_intake_year(self.today) + 1):
            self._academic_year(start)
        self.counts.update(colleges=len(colleges), majors=len(majors), cohorts=len(self.cohorts))

    def _academic_year(self, start: int) -> None:
        # Same calendar as org.services.academic_year_save: 1 Sep – 31 Aug, two terms.
        year, created = AcademicYear.objects.get_or_create(
            start_year=start,
            defaults={"start_date": date(start, 9, 1), "end_date": date(start + 1, 8, 31)},
        )
        if created:
            Term.objects.bulk_create(
                [
                    Term(
                        academic_year=year,
                        number=1,
                        start_date=date(start, 9, 1),
                        end_date=date(start + 1, 2, 14),
                        registration_deadline=date(start, 9, 15),
                    ),
                    Term(
                        academic_year=year,
                        number=2,
                        start_date=date(start + 1, 2, 15),
                        end_date=date(start + 1, 8, 31),
                        registration_deadline=date(start + 1, 3, 1),
                    ),
                ]
            )

    def _allocate(self) -> None:
        """Share students among (major, cohort) groups by weight: at least one each."""
        groups = [
            Group(college=college, major=major, spec=spec, cohort=cohort)
            for college, spec, major in self.specs
            for cohort in self.cohorts
        ]
        for group in groups:
            group.size = 1
        rest = self.total - len(groups)
        weights = [g.spec.weight for g in groups]
        total_weight = sum(weights)
        shares = [rest * w / total_weight for w in weights]
        for group, share in zip(groups, shares, strict=True):
            group.size += int(share)
        remainder = self.total - sum(g.size for g in groups)
        by_fraction = sorted(
            range(len(groups)), key=lambda i: shares[i] - int(shares[i]), reverse=True
        )
        for i in by_fraction[:remainder]:
            groups[i].size += 1
        self.groups = groups

    def _classes(self) -> None:
        classes: list[SchoolClass] = []
        for group in self.groups:
            count = max(1, round(group.size / CLASS_SIZE))
            short_year = group.cohort.year % 100
            for number in range(1, count + 1):
                school_class = SchoolClass(
                    code=f"{group.major.code}{short_year:02d}{number:02d}",
                    name=f"{group.spec.abbreviation}{short_year:02d}{number:02d}",
                    college=group.college,
                    major=group.major,
                    cohort=group.cohort,
                )
                group.classes.append(school_class)
                classes.append(school_class)
        SchoolClass.objects.bulk_create(classes, batch_size=1000)
        SchoolClass.history.bulk_history_create(
            classes, batch_size=1000, default_change_reason="示例数据"
        )
        self.counts["classes"] = len(classes)
        # The counsellor's class: the first class of the first major of the first college, in
        # the second-year cohort (a class with some history); the demo student is its first.
        first_college = self.colleges[0]
        candidates = [g for g in self.groups if g.college.pk == first_college.pk]
        second_year = [g for g in candidates if g.cohort.year == self.intake_year - 1]
        self.home_group = (second_year or candidates)[0]
        self.home_class = self.home_group.classes[0]
        # Advisees: seniors of the first college (graduation projects need a supervisor).
        self.advisee_group = min(candidates, key=lambda g: (g.cohort.year, g.major.code))

    # --- accounts -------------------------------------------------------------------------------

    def _accounts(self) -> None:
        system = Actor.system()
        first = self.colleges[0]
        people = {
            "registrar": (
                "周敏（学籍科）",
                Role.REGISTRAR,
                Scope.SCHOOL,
                {"can_view_full_id": True},
            ),
            "college-admin": (
                f"陈静（{first.name}教务办）",
                Role.COLLEGE_ADMIN,
                Scope.COLLEGE,
                {"college": first},
            ),
            "counsellor": (
                "刘洋（辅导员）",
                Role.COUNSELLOR,
                Scope.CLASSES,
                {"classes": [self.home_class]},
            ),
            "advisor": ("黄志强（学业导师）", Role.ADVISOR, Scope.ADVISEES, {}),
            "student": ("", Role.STUDENT, Scope.SELF, {}),
            "parent": ("", Role.PARENT, Scope.CHILD, {}),
            "auditor": ("吴蕾（审计处）", Role.AUDITOR, Scope.SCHOOL, {}),
        }
        self.users: dict[str, User] = {}
        # Argon2 is slow on purpose (~0.5 s); the seven demo accounts share one public password.
        password = make_password(DEMO_PASSWORD)
        for username, (display, role, scope, grant) in people.items():
            user = User.objects.create(username=username, password=password, display_name=display)
            grant_create(actor=system, user=user, role=role, scope=scope, **grant)
            self.users[username] = user
        self.counts["accounts"] = len(self.users)

    # --- students -------------------------------------------------------------------------------

    def _students(self) -> None:
        stats = {"students": 0, "states": 0, "ledger": 0, "suspended": 0, "reserved": 0}
        next_id = 1 + max(
            Student.objects.aggregate(m=Max("id"))["m"] or 0,
            Student.history.aggregate(m=Max("id"))["m"] or 0,
        )
        rows = self._generate()
        with large_page_cache():
            self._insert_students(rows, next_id, stats)
        # Ids were given explicitly; move PostgreSQL's sequence past them (a no-op on SQLite).
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Student]):
                cursor.execute(sql)
        self.counts.update(stats)

    def _insert_students(
        self,
        rows: Iterator[tuple[dict[str, Any], tuple[str, date, str] | None]],
        next_id: int,
        stats: dict[str, int],
    ) -> None:
        now = self.now
        while batch := list(islice(rows, CHUNK)):
            for row, _change in batch:
                row["id"] = next_id
                next_id += 1
                row["created_at"] = row["updated_at"] = now
            students = [row for row, _ in batch]
            bulk_insert(Student, students)
            bulk_insert(
                Student.history.model,
                [
                    {
                        **history_values(row),
                        "history_date": now,
                        "history_type": "+",
                        "history_change_reason": "示例数据",
                        "history_user_id": None,
                    }
                    for row in students
                ],
            )
            states: list[dict[str, Any]] = []
            ledger: list[dict[str, Any]] = []
            for row, change in batch:
                student_id, enrolled = row["id"], row["enrollment_date"]
                ledger.append(
                    ledger_row(
                        student_id,
                        LedgerAction.ADMITTED,
                        "",
                        StudentStatus.IN_SCHOOL,
                        enrolled,
                        now,
                        "新生建档",
                    )
                )
                if change is None:
                    states.append(
                        state_row(student_id, StudentStatus.IN_SCHOOL, enrolled, None, "入学")
                    )
                    continue
                status, on, reason = change
                stats[status] += 1
                states.append(state_row(student_id, StudentStatus.IN_SCHOOL, enrolled, on, "入学"))
                states.append(state_row(student_id, status, on, None, reason))
                ledger.append(
                    ledger_row(
                        student_id,
                        LedgerAction.STATUS_CHANGED,
                        StudentStatus.IN_SCHOOL,
                        status,
                        on,
                        now,
                        reason,
                    )
                )
            bulk_insert(StudentState, states)
            bulk_insert(StatusLedgerEntry, ledger)
            stats["students"] += len(students)
            stats["states"] += len(states)
            stats["ledger"] += len(ledger)
            self.progress(f"  {stats['students']}/{self.total} students")

    def _generate(self) -> Iterator[tuple[dict[str, Any], tuple[str, date, str] | None]]:
        advisees = 0
        candidate = 0
        student_user, advisor = self.users["student"], self.users["advisor"]
        for group in self.groups:
            per_class, extra = divmod(group.size, len(group.classes))
            for number, school_class in enumerate(group.classes):
                for seq in range(1, per_class + (1 if number < extra else 0) + 1):
                    candidate += 1
                    row = self._student(group, school_class, number + 1, seq, candidate)
                    change = None
                    if school_class is self.home_class and seq == 1:
                        self.demo_student = row
                        row["user_id"] = student_user.pk
                        row["advisor_id"] = advisor.pk
                    else:
                        change = self.people.status_change(row["enrollment_date"])
                        if group is self.advisee_group and advisees < 15:
                            row["advisor_id"] = advisor.pk
                            advisees += 1
                    if change is not None:
                        row["status"] = change[0]
                        row["registry_status"] = registry_for(change[0])
                    yield row, change

    def _student(
        self,
        group: Group,
        school_class: SchoolClass,
        class_number: int,
        seq: int,
        candidate: int,
    ) -> dict[str, Any]:
        """Column values (attnames) of one student, ready for `bulk.bulk_insert`."""
        rng = self.rng
        year = group.cohort.year
        gender = "1" if rng.random() < group.spec.male_share else "2"
        surname, given = self.people.name(gender)
        name = surname + given
        pinyin, key, initials = self.people.pinyin(surname, given)
        birth = self.people.birth_date(year)
        region = self.people.region()
        years = int(group.major.duration)
        study_year = self.intake_year - year + 1
        father = rng.random() < 0.6
        parent_name = (
            surname + self.people.given("1")
            if father
            else pick(rng, SURNAME_LIST, SURNAME_CUM) + self.people.given("2")
        )
        number = f"{year}{group.major.code}{class_number:03d}{seq:02d}"
        return {
            "user_id": None,
            "candidate_number": f"{year % 100:02d}{region[:4]}{candidate:08d}",
            "student_number": number,
            "name": name,
            "name_pinyin": pinyin,
            "pinyin_key": key,
            "pinyin_initials": initials,
            "gender": gender,
            "birth_date": birth,
            "id_type": self.id_type,
            "id_number": self.people.id_number(region, birth, gender),
            "political_status": self.people.political_status(study_year),
            "ethnicity": "10" if surname == "朴" else pick(rng, ETHNIC_LIST, ETHNIC_CUM),
            "native_region": region,
            "college_id": group.college.pk,
            "department": "",
            "major_id": group.major.pk,
            "school_class_id": school_class.pk,
            "cohort_id": group.cohort.pk,
            "level": self.level,
            "study_form": self.study_form,
            "duration": group.major.duration,
            "enrollment_date": date(year, 9, 1),
            "expected_graduation_date": date(year + years, 6, 30),
            "max_study_date": date(year + years + 2, 6, 30),
            "registry_status": RegistryStatus.ENROLLED.value,
            "status": StudentStatus.IN_SCHOOL.value,
            "photo": "",
            "phone": self.people.phone(),
            "email": f"{number}@stu.example.edu.cn",
            "address": self.people.address(region),
            "emergency_contact": f"{parent_name}（{'父亲' if father else '母亲'}）",
            "emergency_phone": self.people.phone(),
            "advisor_id": None,
        }

    def _parent_link(self) -> None:
        student = self.demo_student
        parent = self.users["parent"]
        name, _, relation = student["emergency_contact"].partition("（")
        parent.display_name = name
        parent.phone = student["emergency_phone"]
        parent.save(update_fields=["display_name", "phone"])
        user = self.users["student"]
        user.display_name = student["name"]
        user.save(update_fields=["display_name"])
        ParentLink.objects.create(
            parent=parent,
            student_id=student["id"],
            relation=relation.rstrip("）"),
            consent_given_at=self.now,
        )
        self.counts["parent_links"] = 1
