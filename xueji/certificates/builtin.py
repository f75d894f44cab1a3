"""The built-in document types, installed by migration 0002 (plain data: the migration must not
depend on the models of a later state). Registrars edit the templates afterwards in place.

Template variables (see `services.template_context`): school, name, gender, student_number,
college, major, level, enrolled (2024年9月), years (四), status, issued (2026年11月22日), serial,
verify_url, qr (inline SVG). The English templates (`template_html_en`) see the same names in
English (`services.template_context_en`): name in pinyin ("Shan Xiaoming"), dates as
"22 November 2026". Fonts: "Xueji Serif" is the default; "Xueji Sans" for headings;
add "Xueji Rare A", "Xueji Rare B" after either for rare characters in names.
"""

from __future__ import annotations

# The variables every document template may use; the template editor refuses any other.
TEMPLATE_VARIABLES: tuple[str, ...] = (
    "school",
    "name",
    "gender",
    "student_number",
    "college",
    "major",
    "level",
    "enrolled",
    "years",
    "status",
    "issued",
    "serial",
    "verify_url",
    "qr",
)

STYLE = """
@page { size: A4; margin: 25mm 22mm; }
body { font-size: 14pt; line-height: 2; }
h1 { font-family: "Xueji Sans", "Xueji Rare A", "Xueji Rare B"; font-weight: 700; font-size: 26pt;
     text-align: center; letter-spacing: 0.5em; margin: 10mm 0 12mm; }
.school { text-align: center; font-size: 16pt; font-weight: 700; }
.body { text-indent: 2em; }
.closing { text-indent: 2em; margin-top: 6mm; }
.foot { position: relative; margin-top: 22mm; height: 42mm; }
.seal { position: absolute; right: 8mm; top: 0; width: 42mm; height: 42mm;
        border: 1.2mm solid #c00; border-radius: 50%; color: #c00; opacity: 0.85;
        display: flex; align-items: center; justify-content: center; font-size: 12pt; }
.signed { position: absolute; right: 0; top: 12mm; text-align: right; }
.verify { position: absolute; bottom: 0; left: 0; right: 0; display: flex; align-items: center;
          font-size: 9pt; line-height: 1.6; }
.verify svg { width: 24mm; height: 24mm; margin-right: 4mm; }
"""


def _head(title: str, lang: str = "zh-CN") -> str:
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n"
    )


_FOOT = """<p class="closing">特此证明。</p>
<div class="foot">
  <div class="seal">（学校印章）</div>
  <div class="signed">{{ school }}<br>{{ issued }}</div>
</div>
<div class="verify">{{ qr }}
  <div>证明编号：{{ serial }}<br>扫描二维码或访问 {{ verify_url }} 核验本证明真伪。</div>
</div>
</body></html>
"""

ENROLMENT_HTML = (
    _head("在校证明")
    + """<p class="school">{{ school }}</p>
<h1>在校证明</h1>
<p class="body">兹证明<b>{{ name }}</b>，{{ gender }}，学号{{ student_number }}，\
系我校{{ college }}{{ major }}专业{{ level }}学生，于{{ enrolled }}入学，学制{{ years }}年，\
现在校就读。</p>
"""
    + _FOOT
)

STATUS_HTML = (
    _head("学籍证明")
    + """<p class="school">{{ school }}</p>
<h1>学籍证明</h1>
<p class="body">兹证明<b>{{ name }}</b>，{{ gender }}，学号{{ student_number }}，\
于{{ enrolled }}入学，就读于我校{{ college }}{{ major }}专业（{{ level }}，学制{{ years }}年），\
具有我校学籍，现学籍状态为“{{ status }}”。</p>
"""
    + _FOOT
)

ENROLMENT_HTML_EN = (
    _head("Certificate of Enrolment", "en")
    + """<p class="school">{{ school }}</p>
<h1 style="letter-spacing: 0.05em">Certificate of Enrolment</h1>
<p class="body">This is to certify that <b>{{ name }}</b> ({{ gender }}, student number \
{{ student_number }}) was admitted to {{ school }} in {{ enrolled }} and is currently enrolled \
as a full-time {{ level }} student of {{ major }} in the {{ college }}, in a programme of \
{{ years }} years.</p>
<p class="closing">This certificate is issued at the student's request.</p>
<div class="foot">
  <div class="seal">(School Seal)</div>
  <div class="signed">{{ school }}<br>{{ issued }}</div>
</div>
<div class="verify">{{ qr }}
  <div>Serial number: {{ serial }}<br>Scan the QR code or visit {{ verify_url }} \
to verify this certificate.</div>
</div>
</body></html>
"""
)

BUILTIN_TYPES: tuple[dict[str, object], ...] = (
    {
        "code": "zxzm",
        "name": "在校证明",
        "name_en": "Certificate of Enrolment",
        "description": "证明学生现在校就读。要求具有学籍、在校状态为“在校”、本学期已注册。",
        "for_students": True,
        "for_graduates": False,
        "for_staff": True,
        "rules": ["enrolled", "in_school", "registered_this_term"],
        "auto_issue": True,
        "free_per_term": 5,
        "template_html": ENROLMENT_HTML,
        "order": 10,
    },
    {
        "code": "xjzm",
        "name": "学籍证明",
        "name_en": "Certificate of Student Status",
        "description": "证明学生具有我校学籍及当前学籍状态。要求具有学籍。",
        "for_students": True,
        "for_graduates": False,
        "for_staff": True,
        "rules": ["enrolled"],
        "auto_issue": True,
        "free_per_term": 5,
        "template_html": STATUS_HTML,
        "order": 20,
    },
)
