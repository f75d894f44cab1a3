"""The freshman import's columns: the CHSI new-student registration columns (in CHSI order)
plus two optional ones. The template, the reader, the checks and the docs all read this table."""

from __future__ import annotations

from dataclasses import dataclass

from xueji.org.models import CodeTable


@dataclass(frozen=True)
class Column:
    key: str  # the CHSI field code (KSH …); our own codes for the extra columns
    label: str  # the Chinese header people see
    field: str  # the Student field it fills ("" when it only helps to find another field)
    required: bool
    kind: str  # text, number (digits kept as text), date, code, decimal
    rule: str  # the rule in one sentence, for the template's notes sheet and the docs
    table: str = ""  # code table for kind == "code"
    max_length: int = 0


FRESHMAN_COLUMNS: tuple[Column, ...] = (
    Column("KSH", "考生号", "candidate_number", True, "number",
           "高考考生号，最长 18 位字母或数字；重复导入时按考生号识别同一学生", max_length=18),
    Column("XH", "学号", "student_number", True, "number",
           "学校编定的学号，最长 15 位字母或数字，全校唯一", max_length=15),
    Column("XM", "姓名", "name", True, "text", "与身份证件一致，最长 60 字", max_length=60),
    Column("XB", "性别", "gender", True, "code", "GB/T 2261.1 代码（1 男、2 女）或名称",
           CodeTable.GENDER),
    Column("CSRQ", "出生日期", "birth_date", True, "date",
           "YYYYMMDD、YYYY-MM-DD 或 YYYY/M/D；须与身份证号中的出生日期一致"),
    Column("ZJLX", "证件类型", "id_type", True, "code",
           "证件类型代码（1 居民身份证 …）或名称", CodeTable.ID_TYPE),
    Column("ZJHM", "证件号码", "id_number", True, "number",
           "居民身份证 18 位，校验位正确，出生日期与性别须与所填一致；末位 x 自动改为 X",
           max_length=30),
    Column("ZZMM", "政治面貌", "political_status", True, "code",
           "GB/T 4762 代码（如 03 共青团员、13 群众）或名称", CodeTable.POLITICAL_STATUS),
    Column("MZ", "民族", "ethnicity", True, "code", "GB 3304 代码（如 01 汉族）或名称",
           CodeTable.ETHNICITY),
    Column("ZYDM", "专业代码", "major", True, "number",
           "国家专业代码（6 位），须是本校已设置的专业；同一代码在多个学院开设时按“分院”区分",
           max_length=8),
    Column("ZYMC", "专业名称", "", False, "text",
           "专业名称；同一代码对应多个校内专业时用于区分"),
    Column("FY", "分院", "college", False, "text",
           "学院名称或学院代码；不填时取专业所属学院，填写时须与专业一致"),
    Column("XSH", "系所", "department", False, "text", "系或研究所名称，可不填", max_length=60),
    Column("BH", "班号", "school_class", False, "number",
           "校内班号，须属于该专业与年级；不填则暂不分班", max_length=30),
    Column("CC", "层次", "level", True, "code", "层次代码（如 05 本科）或名称",
           CodeTable.EDUCATION_LEVEL),
    Column("XXXS", "学习形式", "study_form", True, "code",
           "学习形式代码（如 11 普通全日制）或名称", CodeTable.STUDY_FORM),
    Column("XZ", "学制", "duration", True, "decimal", "年数，1.5 至 8，如 4 或 2.5"),
    Column("RXRQ", "入学日期", "enrollment_date", True, "date",
           "日期格式同出生日期；年份即年级"),
    Column("YJBYRQ", "预计毕业日期", "expected_graduation_date", True, "date",
           "须晚于入学日期"),
    Column("SYD", "生源地", "native_region", False, "number",
           "GB/T 2260 行政区划代码（6 位），可不填", CodeTable.REGION, max_length=6),
    Column("SJ", "手机", "phone", False, "number", "手机号码，可不填", max_length=20),
)  # fmt: skip

BY_KEY = {column.key: column for column in FRESHMAN_COLUMNS}


def header_key(text: str) -> str | None:
    """Which column a header cell names: the Chinese label, the CHSI code, or both
    ("考生号(KSH)", "KSH 考生号"), in any case and with stray spaces."""
    cleaned = "".join(str(text).split()).upper()
    for ch in "()（）[]【】:：-_/":
        cleaned = cleaned.replace(ch, "")
    for column in FRESHMAN_COLUMNS:
        if cleaned in {
            column.key,
            column.label,
            column.key + column.label,
            column.label + column.key,
        }:
            return column.key
    return None
