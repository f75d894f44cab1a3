"""A sample 在校证明 (certificate of enrolment): what the tests and bench/certificate_render.py
render, and a starting point for the real templates (school name, seal placeholder, issue date,
serial number, QR code for the verification URL)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from xueji.certificates.pdf import SANS_STACK
from xueji.certificates.qr import qr_svg


@dataclass(frozen=True)
class SampleData:
    school: str = "示例大学"
    name: str = "王䶮"
    gender: str = "男"
    student_number: str = "2024010101"
    college: str = "计算机学院"
    major: str = "计算机科学与技术"
    level: str = "本科"
    enrolled: str = "2024年9月"
    years: str = "四"
    issued: str = "2026年11月22日"
    serial: str = "ZM-2026-000001"
    verify_url: str = "https://xueji.example.edu.cn/v/K7Q2M9XW"

    def variable_text(self) -> list[str]:
        """The text that comes from records, to check for glyphs before rendering."""
        return [self.school, self.name, self.college, self.major]


STYLE = f"""
@page {{ size: A4; margin: 25mm 22mm; }}
body {{ font-size: 14pt; line-height: 2; }}
h1 {{ font-family: {SANS_STACK}; font-weight: 700; font-size: 26pt; text-align: center;
      letter-spacing: 0.5em; margin: 10mm 0 12mm; }}
.school {{ text-align: center; font-size: 16pt; font-weight: 700; }}
.body {{ text-indent: 2em; }}
.closing {{ text-indent: 2em; margin-top: 6mm; }}
.foot {{ position: relative; margin-top: 22mm; height: 42mm; }}
/* Where the school's seal image goes; a placeholder until the school uploads one. */
.seal {{ position: absolute; right: 8mm; top: 0; width: 42mm; height: 42mm;
         border: 1.2mm solid #c00; border-radius: 50%; color: #c00; opacity: 0.85;
         display: flex; align-items: center; justify-content: center; font-size: 12pt; }}
.signed {{ position: absolute; right: 0; top: 12mm; text-align: right; }}
.verify {{ position: absolute; bottom: 0; left: 0; right: 0; display: flex; align-items: center;
           font-size: 9pt; line-height: 1.6; }}
.verify svg {{ width: 24mm; height: 24mm; margin-right: 4mm; }}
"""


def sample_html(data: SampleData | None = None) -> str:
    d = data or SampleData()
    e = escape
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>在校证明</title>
<style>{STYLE}</style></head>
<body>
<p class="school">{e(d.school)}</p>
<h1>在校证明</h1>
<p class="body">兹证明<b>{e(d.name)}</b>，{e(d.gender)}，学号{e(d.student_number)}，\
系我校{e(d.college)}{e(d.major)}专业{e(d.level)}学生，于{e(d.enrolled)}入学，学制{e(d.years)}年，\
现在校就读。</p>
<p class="closing">特此证明。</p>
<div class="foot">
  <div class="seal">（学校印章）</div>
  <div class="signed">{e(d.school)}<br>{e(d.issued)}</div>
</div>
<div class="verify">{qr_svg(d.verify_url)}
  <div>证明编号：{e(d.serial)}<br>扫描二维码或访问 {e(d.verify_url)} 核验本证明真伪。</div>
</div>
</body></html>"""
