"""Checking a freshman file set-based: every row in memory against preloaded code tables,
majors and classes, then one query per unique column against the database.

The identity rules are not repeated here: each row goes through `students.identity`
(`check_id_number`), which is pure. The result is a `Plan`: what would be created, updated
and left alone, and every error as (row, column, value, reason).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from xueji.accounts.models import Role, User
from xueji.core.exceptions import DomainError
from xueji.exchange.imports import normalise
from xueji.exchange.imports.columns import BY_KEY, FRESHMAN_COLUMNS, Column, header_key
from xueji.org.models import CodeItem, CodeTable, College, Major, SchoolClass
from xueji.org.selectors import code_names
from xueji.students.identity import IdentityError, check_id_number
from xueji.students.models import Student
from xueji.students.permissions import LOCKED_FIELDS

# Fields compared with the stored record to tell "unchanged" from "to update".
COMPARED = (
    "name", "gender", "birth_date", "id_type", "id_number", "political_status", "ethnicity",
    "major_id", "college_id", "department", "school_class_id", "level", "study_form",
    "duration", "enrollment_date", "expected_graduation_date", "native_region", "phone",
    "cohort_year",
)  # fmt: skip
# Optional columns: an empty cell keeps what is stored instead of clearing it.
KEEP_WHEN_EMPTY = {"department", "school_class_id", "native_region", "phone"}
FIELD_COLUMN = {
    "major_id": "ZYDM", "college_id": "FY", "school_class_id": "BH", "cohort_year": "RXRQ",
} | {column.field: column.key for column in FRESHMAN_COLUMNS if column.field}  # fmt: skip


@dataclass(frozen=True)
class RowError:
    row: int  # as the user sees it in the sheet (the header is row 1)
    column: str  # CHSI key, "" for the row as a whole
    value: str
    reason: str

    @property
    def label(self) -> str:
        return BY_KEY[self.column].label if self.column in BY_KEY else ""


@dataclass
class Plan:
    header: list[str]
    raw: list[tuple[int, list[str]]]  # (row number, cell texts) for the error report
    positions: dict[str, int]  # column key -> index in the sheet
    new: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[Student, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.raw)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": len(self.new),
            "unchanged": self.unchanged,
            "update": len(self.updates),
            "errors": len(self.errors),
            "error_rows": len({e.row for e in self.errors}),
        }


def import_colleges_for(user: User) -> set[int] | None:
    """Colleges whose freshmen the user may import: None for the whole school (registrar)."""
    if user.is_registrar:
        return None
    return {
        grant.college_id
        for grant in user.active_grants
        if grant.role == Role.COLLEGE_ADMIN and grant.college_id
    }


class _Codes:
    """Code tables in memory: a cell may hold the code or the name ("1" or "男")."""

    def __init__(self) -> None:
        self.names: dict[str, dict[str, str]] = {}
        self.by_name: dict[str, dict[str, str]] = {}
        for column in FRESHMAN_COLUMNS:
            if column.table:
                names = code_names(column.table)
                self.names[column.table] = names
                self.by_name[column.table] = {n: c for c, n in names.items()}
        self.durations = set(code_names(CodeTable.STUDY_DURATION))
        self.id_kinds = {
            code: str((extra or {}).get("check", ""))
            for code, extra in CodeItem.objects.filter(table=CodeTable.ID_TYPE).values_list(
                "code", "extra"
            )
        }

    def resolve(self, table: str, value: str) -> str | None:
        if value in self.names[table]:
            return value
        return self.by_name[table].get(value)


class _Org:
    """Majors, colleges and classes in memory (a school has hundreds, not millions)."""

    def __init__(self, class_codes: set[str]) -> None:
        self.majors: dict[str, list[Major]] = {}
        for major in Major.objects.select_related("college"):
            self.majors.setdefault(major.national_code, []).append(major)
        self.colleges: dict[str, College] = {}
        for college in College.objects.all():
            self.colleges[college.name] = college
            self.colleges[college.code] = college
        self.classes = {
            k.code: k
            for k in SchoolClass.objects.filter(code__in=class_codes).select_related("cohort")
        }


def locate_columns(rows: list[list[Any]]) -> tuple[int, list[str], dict[str, int]]:
    """Find the header row (the first non-empty one) and where each known column is."""
    found = next(
        (i for i, row in enumerate(rows) if any(normalise.text(cell) for cell in row)), None
    )
    if found is None:
        raise DomainError("文件是空的：没有表头和数据行。", field="file")
    index = found
    header = [normalise.text(cell) for cell in rows[index]]
    positions: dict[str, int] = {}
    for position, cell in enumerate(header):
        key = header_key(cell)
        if key is None:
            continue
        if key in positions:
            raise DomainError(f"表头中“{BY_KEY[key].label}”出现了两次。", field="file")
        positions[key] = position
    missing = [c.label for c in FRESHMAN_COLUMNS if c.required and c.key not in positions]
    if missing:
        raise DomainError(
            "表头缺少必填列：" + "、".join(missing) + "。请使用下载的模板。", field="file"
        )
    return index, header, positions


def validate_freshmen(
    rows: list[list[Any]],
    *,
    user: User,
    tick: Callable[[int], None] | None = None,
    system: str = "",
) -> Plan:
    """Check every data row; raise DomainError only when the file as a whole is unusable.

    With `system` (来源系统), the code columns are first translated through that system's code
    mappings; a code the system's mapping lacks is a row error naming the system.
    """
    header_index, header, positions = locate_columns(rows)
    plan = Plan(header=header, raw=[], positions=positions)
    data: list[tuple[int, list[Any], list[str]]] = []
    text = normalise.text
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        cells = [text(cell) for cell in row]
        if any(cells):
            data.append((offset, row, cells))
            # The error report shows the row as the user wrote it, before any translation.
            plan.raw.append((offset, list(cells) if system else cells))
    translated = _translate_codes(data, positions, system) if system else []
    codes = _Codes()
    class_codes = {_cell(cells, positions, "BH") for _, _, cells in data} - {""}
    org = _Org(class_codes)
    allowed = import_colleges_for(user)
    parser = _RowParser(positions, codes, org, allowed)
    errors: dict[tuple[int, str], RowError] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for count, (number, row, cells) in enumerate(data, start=1):
        row_errors: dict[str, RowError] = {}
        values = parser.parse(number, row, cells, row_errors)
        if row_errors:
            errors.update({(number, key): e for key, e in row_errors.items()})
        parsed.append((number, values))
        if tick and count % 500 == 0:
            tick(500)
    if tick:
        tick(len(data) % 500)
    # The mapping's own message (naming the system) replaces "not in the code table".
    errors.update({(e.row, e.column): e for e in translated})
    _check_unique_in_file(parsed, codes, errors)
    _plan_against_database(plan, parsed, codes, allowed, errors)
    plan.errors = sorted(errors.values(), key=lambda e: (e.row, _order(e.column)))
    return plan


CODE_COLUMN_TABLES = {c.key: c.table for c in FRESHMAN_COLUMNS if c.kind == "code"}


def _translate_codes(
    data: list[tuple[int, list[Any], list[str]]], positions: dict[str, int], system: str
) -> list[RowError]:
    from xueji.exchange.imports.mappings import mappings_for, translate_codes

    mapping = mappings_for(system, sorted(set(CODE_COLUMN_TABLES.values())))
    found = translate_codes(
        [(number, cells) for number, _, cells in data],
        positions,
        CODE_COLUMN_TABLES,
        mapping,
        system=system,
    )
    return [RowError(e.row, e.column, e.value, e.reason) for e in found]


def _order(key: str) -> int:
    return [c.key for c in FRESHMAN_COLUMNS].index(key) if key in BY_KEY else -1


def _cell(cells: list[str], positions: dict[str, int], key: str) -> str:
    position = positions.get(key)
    if position is None or position >= len(cells):
        return ""
    return cells[position]


# A cell's verdict: (value, reason) with reason None when the cell is fine.
Verdict = tuple[Any, str | None]


class _RowParser:
    """Turns a row into values and errors. Codes, dates, durations, majors and classes repeat
    from row to row, so each distinct cell is judged once (a 100k-row file has a few hundred
    distinct values in those columns); 学号, 考生号 and ID numbers are checked row by row."""

    def __init__(
        self, positions: dict[str, int], codes: _Codes, org: _Org, allowed: set[int] | None
    ) -> None:
        self.codes, self.org, self.allowed = codes, org, allowed
        self.positions = positions
        self.columns = [(c, positions.get(c.key)) for c in FRESHMAN_COLUMNS]
        self.seen: dict[str, dict[Any, Verdict]] = {c.key: {} for c in FRESHMAN_COLUMNS}
        self.majors: dict[tuple[Any, ...], tuple[Major | None, list[tuple[str, str]]]] = {}
        self.classes: dict[tuple[Any, ...], tuple[SchoolClass | None, list[tuple[str, str]]]] = {}
        self.today = timezone.localdate()

    def parse(
        self, number: int, row: list[Any], cells: list[str], errors: dict[str, RowError]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        width = len(row)

        def fail(column: Column, reason: str, value: str | None = None) -> None:
            if column.key not in errors:
                shown = _cell(cells, self.positions, column.key) if value is None else value
                errors[column.key] = RowError(number, column.key, shown, reason)

        for column, position in self.columns:
            if position is None or position >= width:
                raw, text = None, ""
            else:
                raw, text = row[position], cells[position]
            if column.kind == "number" or column.kind == "code":
                text = text.replace(" ", "")  # = normalise.compact(raw)
            if not text:
                if column.required:
                    fail(column, f"{column.label}为必填项")
                values[column.key] = None
                continue
            if column.max_length and len(text) > column.max_length:
                fail(column, f"{column.label}最长 {column.max_length} 位，实为 {len(text)} 位")
                values[column.key] = None
                continue
            if column.kind == "text" or column.kind == "number":
                values[column.key] = text
                continue
            seen = self.seen[column.key]
            key = raw if type(raw) is str or raw is None else (type(raw), raw)
            verdict = seen.get(key)
            if verdict is None:
                verdict = seen[key] = self._judge(column, raw, text)
            value, reason = verdict
            if reason is not None:
                fail(column, reason)
            values[column.key] = value
        for key in ("KSH", "XH"):
            if values[key] and not values[key].isalnum():
                fail(BY_KEY[key], f"{BY_KEY[key].label}只能包含字母和数字")
                values[key] = None
        birth = values["CSRQ"]
        if birth and birth > self.today:
            fail(BY_KEY["CSRQ"], "出生日期不能晚于今天")
        if values["ZJHM"] and values["ZJLX"]:
            try:
                values["ZJHM"] = check_id_number(
                    self.codes.id_kinds.get(values["ZJLX"], ""),
                    values["ZJHM"],
                    birth_date=birth if "CSRQ" not in errors else None,
                    gender=values["XB"],
                )
            except IdentityError as exc:
                fail(BY_KEY["ZJHM"], exc.message)
                values["ZJHM"] = None
        enrolled, expected = values["RXRQ"], values["YJBYRQ"]
        if isinstance(enrolled, date) and isinstance(expected, date) and expected <= enrolled:
            fail(BY_KEY["YJBYRQ"], "预计毕业日期应晚于入学日期")
        major_key = (values["ZYDM"], values["FY"], values["ZYMC"])
        found = self.majors.get(major_key)
        if found is None:
            found = self.majors[major_key] = _replayed(
                lambda fail: _major(values, self.org, self.allowed, fail)
            )
        values["major"] = _replay(found, fail)
        major = values["major"]
        class_key = (values["BH"], major.pk if major else None, enrolled)
        found_class = self.classes.get(class_key)
        if found_class is None:
            found_class = self.classes[class_key] = _replayed(
                lambda fail: _school_class(values, self.org, fail)
            )
        values["class"] = _replay(found_class, fail)
        return values

    def _judge(self, column: Column, raw: Any, text: str) -> Verdict:
        if column.kind == "date":
            parsed = normalise.parse_date(raw)
            if parsed is None:
                return None, f"{column.label}“{text}”不是有效日期，应为 YYYYMMDD 或 YYYY-MM-DD"
            return parsed, None
        if column.kind == "decimal":
            amount = normalise.parse_decimal(raw)
            if amount is None:
                return None, f"{column.label}应为数字，如 4 或 2.5"
            if format(amount.normalize(), "f") not in self.codes.durations:
                return None, f"学制“{text}”不是学信网允许的取值（1.5 至 8 年）"
            return amount, None
        code = self.codes.resolve(column.table, text)
        if code is None:
            label = CodeTable(column.table).label
            return None, f"{column.label}“{text}”不是{label}中的代码或名称"
        return code, None


def _replayed(check: Callable[[Any], Any]) -> tuple[Any, list[tuple[str, str]]]:
    """Run a check that reports through fail(column, reason), keeping what it reported."""
    reported: list[tuple[str, str]] = []
    result = check(lambda column, reason, value=None: reported.append((column.key, reason)))
    return result, reported


def _replay(found: tuple[Any, list[tuple[str, str]]], fail: Callable[..., None]) -> Any:
    result, reported = found
    for key, reason in reported:
        fail(BY_KEY[key], reason)
    return result


def _major(values: dict[str, Any], org: _Org, allowed: set[int] | None, fail: Any) -> Major | None:
    code = values["ZYDM"]
    if not code:
        return None
    candidates = org.majors.get(code, [])
    if not candidates:
        fail(BY_KEY["ZYDM"], f"专业代码“{code}”不是本校已设置的专业")
        return None
    if values["FY"]:
        college = org.colleges.get(values["FY"])
        if college is None:
            fail(BY_KEY["FY"], f"分院“{values['FY']}”不是本校的学院名称或代码")
            return None
        candidates = [m for m in candidates if m.college_id == college.pk]
        if not candidates:
            fail(BY_KEY["FY"], f"{college.name}没有专业代码为“{code}”的专业")
            return None
    if len(candidates) > 1 and values["ZYMC"]:
        candidates = [m for m in candidates if m.name == values["ZYMC"]] or candidates
    if len(candidates) > 1:
        fail(BY_KEY["FY"], f"专业代码“{code}”在多个学院开设，请填写分院")
        return None
    major = candidates[0]
    if allowed is not None and major.college_id not in allowed:
        fail(BY_KEY["ZYDM"], f"您无权导入{major.college.name}的学生")
        return None
    return major


def _school_class(values: dict[str, Any], org: _Org, fail: Any) -> SchoolClass | None:
    code, major, enrolled = values["BH"], values["major"], values["RXRQ"]
    if not code:
        return None
    klass = org.classes.get(code)
    if klass is None:
        fail(BY_KEY["BH"], f"班号“{code}”不存在，请先在组织机构中建立班级")
        return None
    if major is not None and klass.major_id != major.pk:
        fail(BY_KEY["BH"], f"班级“{klass.name}”不属于专业“{major.name}”")
        return None
    if isinstance(enrolled, date) and klass.cohort.year != enrolled.year:
        fail(BY_KEY["BH"], f"班级“{klass.name}”属于{klass.cohort.year}级，与入学年份不符")
        return None
    return klass


def _id_key(codes: _Codes, id_type: str, number: str) -> tuple[str, str]:
    # A 公民身份号码 is one number whether entered from the 居民身份证 or the 户口簿.
    kind = codes.id_kinds.get(id_type, "")
    return ("ric" if kind == "ric" else id_type, number)


def _check_unique_in_file(
    parsed: list[tuple[int, dict[str, Any]]],
    codes: _Codes,
    errors: dict[tuple[int, str], RowError],
) -> None:
    seen: dict[str, dict[Any, int]] = {"KSH": {}, "XH": {}, "ZJHM": {}}
    for number, values in parsed:
        for key in seen:
            value = values[key]
            if not value or (number, key) in errors:
                continue
            token = _id_key(codes, values["ZJLX"] or "", value) if key == "ZJHM" else value
            first = seen[key].setdefault(token, number)
            if first != number:
                reason = f"{BY_KEY[key].label}与第 {first} 行重复"
                errors[(number, key)] = RowError(number, key, value, reason)


def _plan_against_database(
    plan: Plan,
    parsed: list[tuple[int, dict[str, Any]]],
    codes: _Codes,
    allowed: set[int] | None,
    errors: dict[tuple[int, str], RowError],
) -> None:
    """One query per unique column; then each row is new, unchanged, an update or an error."""
    ksh = {v["KSH"] for _, v in parsed if v["KSH"]}
    xh = {v["XH"] for _, v in parsed if v["XH"]}
    ids = {v["ZJHM"] for _, v in parsed if v["ZJHM"]}
    on_record = {number for (number,) in _existing("candidate_number", ksh)}
    by_ksh = {
        s.candidate_number: s
        for chunk in _chunks(on_record)
        for s in Student.objects.filter(candidate_number__in=chunk).select_related("cohort")
    }
    by_xh = dict(_existing("student_number", xh, "id"))
    by_id: dict[tuple[str, str], int] = {}
    for number, pk, id_type in _existing("id_number", ids, "id", "id_type"):
        by_id[_id_key(codes, id_type, number)] = pk
    registrar = allowed is None

    bad_rows = {row for row, _ in errors}

    def fail(number: int, key: str, value: str, reason: str) -> None:
        errors.setdefault((number, key), RowError(number, key, value, reason))
        bad_rows.add(number)

    for number, values in parsed:
        existing = by_ksh.get(values["KSH"]) if values["KSH"] else None
        if existing is not None and values["XH"] and existing.student_number != values["XH"]:
            fail(number, "XH", values["XH"], f"考生号已对应学号 {existing.student_number}")
            continue
        if existing is not None and allowed is not None and existing.college_id not in allowed:
            fail(number, "KSH", values["KSH"], "该考生号的学生不在您管理的学院，不能修改")
            continue
        own_pk = existing.pk if existing is not None else None
        taken = by_xh.get(values["XH"]) if values["XH"] else None
        if taken is not None and taken != own_pk:
            fail(number, "XH", values["XH"], f"学号“{values['XH']}”已被其他学生使用")
        if values["ZJHM"] and values["ZJLX"]:
            holder = by_id.get(_id_key(codes, values["ZJLX"], values["ZJHM"]))
            if holder is not None and holder != own_pk:
                fail(number, "ZJHM", values["ZJHM"], "该证件号码已属于另一名学生")
        if number in bad_rows:
            continue
        record = _record(values)
        if existing is None:
            plan.new.append(record)
            continue
        changed = _changes(existing, record)
        if not changed:
            plan.unchanged += 1
            continue
        locked = [f for f in changed if f in LOCKED_FIELDS or f == "major_id"]
        if locked and not registrar:
            key = FIELD_COLUMN[locked[0]]
            fail(number, key, _shown(record, locked[0]), "该字段须由校级学籍管理员修改")
            continue
        plan.updates.append((existing, changed))


def _record(values: dict[str, Any]) -> dict[str, Any]:
    major: Major = values["major"]
    klass: SchoolClass | None = values["class"]
    return {
        "candidate_number": values["KSH"],
        "student_number": values["XH"],
        "name": values["XM"],
        "gender": values["XB"],
        "birth_date": values["CSRQ"],
        "id_type": values["ZJLX"],
        "id_number": values["ZJHM"],
        "political_status": values["ZZMM"],
        "ethnicity": values["MZ"],
        "major_id": major.pk,
        "college_id": major.college_id,
        "department": values["XSH"] or "",
        "school_class_id": klass.pk if klass else None,
        "level": values["CC"],
        "study_form": values["XXXS"],
        "duration": Decimal(values["XZ"]),
        "enrollment_date": values["RXRQ"],
        "expected_graduation_date": values["YJBYRQ"],
        "native_region": values["SYD"] or "",
        "phone": values["SJ"] or "",
        "cohort_year": values["RXRQ"].year,
    }


def _changes(student: Student, record: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for name in COMPARED:
        new = record[name]
        if name in KEEP_WHEN_EMPTY and new in ("", None):
            continue
        old = student.cohort.year if name == "cohort_year" else getattr(student, name)
        if old != new:
            changed[name] = new
    return changed


def _shown(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    return "" if value is None else str(value)


def checked_against(user: User, system: str = "") -> str:
    """A digest of everything besides the students that a clean plan depends on: the code
    tables the columns use, the colleges, majors and classes, the user's import scope and the
    来源系统's code mappings. A commit may reuse a dry run's plan only while this is unchanged."""
    digest = hashlib.sha256()
    if system:
        from xueji.exchange.imports.mappings import mappings_for

        mapping = mappings_for(system, sorted(set(CODE_COLUMN_TABLES.values())))
        digest.update(
            repr((system, sorted((t, sorted(m.items())) for t, m in mapping.items()))).encode()
        )
    tables = sorted({c.table for c in FRESHMAN_COLUMNS if c.kind == "code"})
    for row in (
        CodeItem.objects.filter(table__in=[*tables, CodeTable.STUDY_DURATION])
        .order_by("table", "code")
        .values_list("table", "code", "name")
    ):
        digest.update(repr(row).encode())
    for row in (
        CodeItem.objects.filter(table=CodeTable.ID_TYPE).order_by("code").values_list("extra")
    ):
        digest.update(repr(row).encode())  # which identity check applies to each type
    for queryset in (
        College.objects.order_by("pk").values_list("pk", "code", "name"),
        Major.objects.order_by("pk").values_list("pk", "national_code", "name", "college_id"),
        SchoolClass.objects.order_by("pk").values_list("pk", "code", "name", "major_id",
                                                        "cohort__year"),
    ):  # fmt: skip
        for row in queryset:
            digest.update(repr(row).encode())
    allowed = import_colleges_for(user)
    digest.update(repr(None if allowed is None else sorted(allowed)).encode())
    return digest.hexdigest()


def taken_in_database(records: list[dict[str, Any]]) -> bool:
    """Whether any 考生号, 学号 or ID number of these new students is on record by now."""
    for name in ("candidate_number", "student_number"):
        if _existing(name, {r[name] for r in records}):
            return True
    kinds = {
        code: str((extra or {}).get("check", ""))
        for code, extra in CodeItem.objects.filter(table=CodeTable.ID_TYPE).values_list(
            "code", "extra"
        )
    }

    def key(id_type: str, number: str) -> tuple[str, str]:
        return ("ric" if kinds.get(id_type) == "ric" else id_type, number)

    wanted = {key(r["id_type"], r["id_number"]) for r in records}
    found = _existing("id_number", {n for _, n in wanted}, "id_type")
    return any(key(id_type, number) in wanted for number, id_type in found)


def _existing(field: str, values: set[str], *also: str) -> list[tuple[Any, ...]]:
    """(field, *also) of the students whose `field` is one of `values`: plain SQL in slices,
    because the ORM prepares each of 100k parameters one by one."""
    quote = connection.ops.quote_name
    meta = Student._meta
    column = quote(meta.get_field(field).column)
    names = ", ".join([column, *(quote(meta.get_field(name).column) for name in also)])
    table = quote(meta.db_table)
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter: PostgreSQL plans "= ANY(array)" far faster than IN (…5k…).
            cursor.execute(f"SELECT {names} FROM {table} WHERE {column} = ANY(%s)", [list(values)])  # noqa: S608
            return cursor.fetchall()
        for chunk in _chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            # Names come from the model's metadata; the values are parameters.
            cursor.execute(f"SELECT {names} FROM {table} WHERE {column} IN ({marks})", chunk)  # noqa: S608
            found.extend(cursor.fetchall())
    return found


def _chunks(values: set[str], size: int = 5000) -> list[list[str]]:
    """Values for `__in` lookups in slices: one IN list of 100k values costs SQLite and
    PostgreSQL far more than twenty of 5k."""
    ordered = sorted(values)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
