"""Downloadable import templates (XlsxWriter): Chinese headers with the column's key and rule in
a note, ID and number columns formatted as text (so Excel keeps leading zeros and all 18
digits), dropdowns for code fields from a 代码表 sheet, and a 填写说明 sheet with each column's
rule and the import's upsert rule. `sheet_template` builds any kind's; `freshman_template` is
the freshman list's."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from xueji.exchange.imports.columns import FRESHMAN_COLUMNS, Column
from xueji.org.selectors import code_names

TEMPLATE_ROWS = 5000  # rows that get the text format and the dropdowns
WIDE = {"ZJHM", "KSH"}
FRESHMAN_RULE = (
    "按考生号识别同一学生：考生号已存在且学号相同则更新有变化的字段；考生号已存在但学号"
    "不同、或学号已属于其他考生号，均报错。先预检，全部无误才能确认导入；导入要么全部"
    "成功，要么不写入任何数据。"
)


def code_choices(columns: Sequence[Column], *, skip: Sequence[str] = ()) -> dict[str, list]:
    """Dropdown lists for the code columns: (code, name) pairs from their code tables."""
    return {
        column.key: sorted(code_names(column.table).items())
        for column in columns
        if column.table and column.key not in skip
    }


def sheet_template(
    *,
    sheet_name: str,
    columns: Sequence[Column],
    choices: Mapping[str, Sequence[tuple[str, str]]],
    rule: str,
) -> bytes:
    """An xlsx with the data sheet, 代码表 (one block per dropdown: the value, then its
    meaning) and 填写说明. `choices` maps a column key to the values its dropdown offers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    codes = book.add_worksheet("代码表")
    notes = book.add_worksheet("填写说明")
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    optional = book.add_format({"bold": True, "bg_color": "#EDEDED", "border": 1})
    as_text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    code_col = 0
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.label, required if column.required else optional)
        sheet.write_comment(
            0,
            index,
            f"{column.key}：{column.rule}" + ("（必填）" if column.required else "（可不填）"),
            {"x_scale": 2, "y_scale": 1.5},
        )
        width = 22 if column.key in WIDE else 14
        if column.kind in ("number", "code", "text"):
            sheet.set_column(index, index, width, as_text)
        else:
            sheet.set_column(index, index, width)
        options = choices.get(column.key)
        if options:
            codes.write_string(0, code_col, f"{column.label}（{column.key}）", bold)
            for row, (value, meaning) in enumerate(options, start=1):
                codes.write_string(row, code_col, value, as_text)
                codes.write_string(row, code_col + 1, meaning)
            letter = xl_col_to_name(code_col)
            sheet.data_validation(
                1,
                index,
                TEMPLATE_ROWS,
                index,
                {
                    "validate": "list",
                    "source": f"=代码表!${letter}$2:${letter}${len(options) + 1}",
                    "error_type": "warning",
                    "error_message": f"请从{column.label}代码表中选择（见“代码表”工作表）",
                },
            )
            code_col += 3
    sheet.freeze_panes(1, 0)
    notes.set_column(0, 0, 10)
    notes.set_column(1, 1, 16)
    notes.set_column(2, 2, 8)
    notes.set_column(3, 3, 80, wrap)
    for col, title in enumerate(("字段代码", "列名", "必填", "规则")):
        notes.write_string(0, col, title, bold)
    for row, column in enumerate(columns, start=1):
        notes.write_string(row, 0, column.key)
        notes.write_string(row, 1, column.label)
        notes.write_string(row, 2, "是" if column.required else "否")
        notes.write_string(row, 3, column.rule)
    tail = len(columns) + 2
    notes.write_string(tail, 0, "导入规则", bold)
    notes.write_string(tail + 1, 3, rule)
    book.close()
    return buffer.getvalue()


def freshman_template() -> bytes:
    # The region table has thousands of codes: too many for a dropdown, checked on import.
    return sheet_template(
        sheet_name="新生名单",
        columns=FRESHMAN_COLUMNS,
        choices=code_choices(FRESHMAN_COLUMNS, skip=("SYD",)),
        rule=FRESHMAN_RULE,
    )
