"""The downloadable freshman template (XlsxWriter): Chinese headers with the CHSI code in a
note, ID and number columns formatted as text (so Excel keeps leading zeros and all 18
digits), dropdowns for code fields, and a notes sheet with each column's rule."""

from __future__ import annotations

import io

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from xueji.exchange.imports.columns import FRESHMAN_COLUMNS
from xueji.org.selectors import code_names

TEMPLATE_ROWS = 5000  # rows that get the text format and the dropdowns


def freshman_template() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("新生名单")
    codes = book.add_worksheet("代码表")
    notes = book.add_worksheet("填写说明")
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    optional = book.add_format({"bold": True, "bg_color": "#EDEDED", "border": 1})
    as_text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    code_col = 0
    for index, column in enumerate(FRESHMAN_COLUMNS):
        sheet.write_string(0, index, column.label, required if column.required else optional)
        sheet.write_comment(
            0,
            index,
            f"{column.key}：{column.rule}" + ("（必填）" if column.required else "（可不填）"),
            {"x_scale": 2, "y_scale": 1.5},
        )
        width = 22 if column.key in ("ZJHM", "KSH") else 14
        if column.kind in ("number", "code", "text"):
            sheet.set_column(index, index, width, as_text)
        else:
            sheet.set_column(index, index, width)
        # The region table has thousands of codes: too many for a dropdown, checked on import.
        if column.table and column.key != "SYD":
            names = code_names(column.table)
            codes.write_string(0, code_col, f"{column.label}（{column.key}）", bold)
            for row, (code, name) in enumerate(sorted(names.items()), start=1):
                codes.write_string(row, code_col, code, as_text)
                codes.write_string(row, code_col + 1, name)
            letter = xl_col_to_name(code_col)
            sheet.data_validation(
                1,
                index,
                TEMPLATE_ROWS,
                index,
                {
                    "validate": "list",
                    "source": f"=代码表!${letter}$2:${letter}${len(names) + 1}",
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
    for row, column in enumerate(FRESHMAN_COLUMNS, start=1):
        notes.write_string(row, 0, column.key)
        notes.write_string(row, 1, column.label)
        notes.write_string(row, 2, "是" if column.required else "否")
        notes.write_string(row, 3, column.rule)
    tail = len(FRESHMAN_COLUMNS) + 2
    notes.write_string(tail, 0, "导入规则", bold)
    notes.write_string(
        tail + 1,
        3,
        "按考生号识别同一学生：考生号已存在且学号相同则更新有变化的字段；考生号已存在但学号"
        "不同、或学号已属于其他考生号，均报错。先预检，全部无误才能确认导入；导入要么全部"
        "成功，要么不写入任何数据。",
    )
    book.close()
    return buffer.getvalue()
