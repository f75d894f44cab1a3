"""Document templates: the sandboxed Django template engine, the editor's checks, and the
sample student the editor's preview renders.

Templates are edited by registrars, so they are compiled by a dedicated engine without loaders
(no `{% include %}` or `{% extends %}` of files) and without tag libraries (no `{% load %}`),
with autoescaping. The editor refuses a template that does not compile (naming the line) and one
that uses a variable outside `builtin.TEMPLATE_VARIABLES` (it would print as nothing).
"""

from __future__ import annotations

from typing import Any

from django.template import Context as TemplateContext
from django.template import Engine, Template, TemplateSyntaxError
from django.template.base import FilterExpression, Variable, VariableNode
from django.template.defaulttags import ForNode, WithNode
from django.template.loader_tags import ExtendsNode, IncludeNode
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe

from xueji.certificates.builtin import TEMPLATE_VARIABLES
from xueji.certificates.pdf import GlyphMissing, missing_glyphs
from xueji.certificates.qr import qr_svg
from xueji.certificates.sample import SampleData
from xueji.certificates.transcript import SAMPLE_TRANSCRIPT
from xueji.core.exceptions import ValidationFailed

ENGINE = Engine(debug=False, loaders=[], autoescape=True)
# The same engine with debug on, for the editor: a syntax error then carries its line number.
_CHECK_ENGINE = Engine(debug=True, loaders=[], autoescape=True)


def render_template(source: str, context: dict[str, Any]) -> str:
    return ENGINE.from_string(source).render(TemplateContext(context))


def _compile(source: str, field: str) -> Template:
    try:
        return _CHECK_ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        debug = getattr(exc, "template_debug", None) or {}
        line = debug.get("line")
        message = debug.get("message") or str(exc)
        where = f"第 {line} 行：" if line else ""
        raise ValidationFailed({field: [f"模板有语法错误，{where}{message}"]}) from exc


def _names_used(expression: FilterExpression) -> list[str]:
    variables = [expression.var] + [arg for _f, args in expression.filters for _l, arg in args]
    return [v.lookups[0] for v in variables if isinstance(v, Variable) and v.lookups]


def unknown_variables(template: Template) -> list[str]:
    """Names printed with `{{ … }}` (or given to a filter there) that are neither document
    variables nor bound by a `{% for %}` / `{% with %}` of the template, in order."""
    bound = {"forloop"}
    for node in template.nodelist.get_nodes_by_type(ForNode):
        bound.update(node.loopvars)
    for node in template.nodelist.get_nodes_by_type(WithNode):
        bound.update(node.extra_context)
    known = set(TEMPLATE_VARIABLES) | bound
    unknown: dict[str, None] = {}
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        for name in _names_used(node.filter_expression):
            if name not in known:
                unknown[name] = None
    return list(unknown)


def check_template(source: str, *, field: str) -> None:
    """Raise ValidationFailed (on `field`) if `source` does not compile, uses an unknown
    variable, or has fixed text with a character no certificate font can draw."""
    if not source.strip():
        raise ValidationFailed({field: ["模板不能为空。"]})
    template = _compile(source, field)
    if template.nodelist.get_nodes_by_type(IncludeNode) or template.nodelist.get_nodes_by_type(
        ExtendsNode
    ):
        raise ValidationFailed(
            {field: ["模板不能使用 {% include %} 或 {% extends %}，请把内容直接写在模板里。"]}
        )
    unknown = unknown_variables(template)
    if unknown:
        listed = "、".join(f"{{{{ {name} }}}}" for name in unknown)
        raise ValidationFailed(
            {
                field: [
                    f"模板使用了未知的变量 {listed}，打印出来会是空白。"
                    f"可用的变量：{'、'.join(TEMPLATE_VARIABLES)}。"
                ]
            }
        )
    missing = missing_glyphs(strip_tags(source))
    if missing:
        raise ValidationFailed({field: [GlyphMissing(missing).message]})
    # Compiling is not enough: fill it in once with the sample student, as issuing will.
    try:
        template.render(TemplateContext(sample_context("en" if field.endswith("_en") else "zh")))
    except Exception as exc:
        raise ValidationFailed(
            {field: [f"模板无法用示例学生生成（{type(exc).__name__}: {exc}），请修改。"]}
        ) from exc


# The fictitious student of the preview, in Chinese and in English. The name has a rare
# character (䶮, CJK Extension A) so the preview shows the fallback font at work.
SAMPLE = SampleData()
SAMPLE_EN: dict[str, str] = {
    "school": "Example University",
    "name": "Wang Yan",
    "gender": "Male",
    "student_number": SAMPLE.student_number,
    "college": "School of Computing",
    "major": "Computer Science and Technology",
    "level": "Undergraduate (Bachelor's)",
    "enrolled": "September 2024",
    "years": "4",
    "status": "In school",
    "issued": "22 November 2026",
    "serial": SAMPLE.serial,
    "verify_url": SAMPLE.verify_url,
}


# The 学籍表's and the transcript's variables for the preview (fictitious).
SAMPLE_RECORD: dict[str, Any] = {
    "birth_date": "2006年3月15日",
    "ethnicity": "汉族",
    "political_status": "共青团员",
    "id_type": "居民身份证",
    "id_number": "110101200603150000",
    "native_region": "北京市东城区",
    "candidate_number": "24110101150001",
    "class_name": "计科2401",
    "study_form": "普通全日制",
    "enrollment_date": "2024年9月1日",
    "expected_graduation": "2028年6月30日",
    "registry_status": "在籍",
    "photo": "",
    "history": [{"date": "2024年9月1日", "action": "新生建档", "note": "2024级新生入学"}],
    "terms": SAMPLE_TRANSCRIPT.terms,
    "credits_total": f"{SAMPLE_TRANSCRIPT.credits_total.normalize():f}",
    "gpa": SAMPLE_TRANSCRIPT.gpa,
}


def sample_context(language: str = "zh") -> dict[str, Any]:
    """The template variables for the preview's sample student (nothing is looked up)."""
    if language == "en":
        values = dict(SAMPLE_EN)
    else:
        values = {
            "school": SAMPLE.school,
            "name": SAMPLE.name,
            "gender": SAMPLE.gender,
            "student_number": SAMPLE.student_number,
            "college": SAMPLE.college,
            "major": SAMPLE.major,
            "level": SAMPLE.level,
            "enrolled": SAMPLE.enrolled,
            "years": SAMPLE.years,
            "status": "在校",
            "issued": SAMPLE.issued,
            "serial": SAMPLE.serial,
            "verify_url": SAMPLE.verify_url,
        }
    values["qr"] = mark_safe(qr_svg(values["verify_url"]))  # noqa: S308 (segno's SVG)
    values.update(SAMPLE_RECORD)
    return values
