"""The built-in document types, installed by migration 0002 (plain data: the migration must not
depend on the models of a later state). Registrars edit the templates afterwards in place.

Template variables (see `services.template_context`): school, name, gender, student_number,
college, major, level, enrolled (2024年9月), years (四), status, issued (2026年11月22日), serial,
verify_url, qr (inline SVG). The English templates (`template_html_en`) see the same names in
English (`services.template_context_en`): name in pinyin ("Shan Xiaoming"), dates as
"22 November 2026". Fonts (`xueji.certificates.pdf`): the serif stack is the default; a heading
names the sans stack, "Xueji Sans GB", "Xueji Sans", "Xueji Rare A", "Xueji Rare B" — the GB 2312
cut first (small and fast), then the whole face, then the rare-character fonts.
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
    # The full record (学籍表); computed only when a template prints them.
    "birth_date",
    "ethnicity",
    "political_status",
    "id_type",
    "id_number",
    "native_region",
    "candidate_number",
    "class_name",
    "study_form",
    "enrollment_date",
    "expected_graduation",
    "registry_status",
    "photo",
    "history",
    # The transcript (成绩单), from `xueji.certificates.transcript`.
    "terms",
    "credits_total",
    "gpa",
)

STYLE = """
@page { size: A4; margin: 25mm 22mm; }
body { font-size: 14pt; line-height: 2; }
h1 { font-family: "Xueji Sans GB", "Xueji Sans", "Xueji Rare A", "Xueji Rare B";
     font-weight: 700; font-size: 26pt; text-align: center; letter-spacing: 0.5em;
     margin: 10mm 0 12mm; }
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

RECORD_STYLE = """
@page { size: A4; margin: 16mm 15mm 18mm; }
body { font-size: 10.5pt; line-height: 1.5; }
h1 { font-family: "Xueji Sans GB", "Xueji Sans", "Xueji Rare A", "Xueji Rare B"; font-weight: 700;
     font-size: 20pt; text-align: center; letter-spacing: 0.3em; margin: 0 0 2mm; }
.school { text-align: center; font-size: 13pt; font-weight: 700; }
.meta { display: flex; justify-content: space-between; font-size: 9pt; margin: 3mm 0 1mm; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.3mm solid #000; padding: 1.2mm 1.6mm; vertical-align: middle; }
th { font-weight: 400; background: #f2f2f2; white-space: nowrap; width: 17mm; }
td.photo { width: 30mm; height: 40mm; padding: 0; text-align: center; color: #666; }
td.photo img { width: 28mm; height: 38mm; object-fit: cover; }
h2 { font-size: 11pt; margin: 4mm 0 1.5mm; }
.history th { width: auto; }
.foot { display: flex; justify-content: space-between; align-items: flex-end; margin-top: 6mm;
        font-size: 9pt; line-height: 1.6; }
.foot > div:first-child { width: 100mm; }
.foot > div:last-child { text-align: right; white-space: nowrap; }
.foot svg { width: 22mm; height: 22mm; }
.seal { width: 36mm; height: 36mm; border: 1mm solid #c00; border-radius: 50%; color: #c00;
        display: flex; align-items: center; justify-content: center; opacity: 0.85; }
"""

RECORD_HTML = (
    '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>学籍表</title>\n'
    f"<style>{RECORD_STYLE}</style></head>\n<body>\n"
    + """<p class="school">{{ school }}</p>
<h1>学生学籍表</h1>
<div class="meta"><span>学号：{{ student_number }}</span><span>编号：{{ serial }}</span></div>
<table>
<tr><th>姓名</th><td>{{ name }}</td><th>性别</th><td>{{ gender }}</td>
    <td class="photo" rowspan="4">{% if photo %}<img src="{{ photo }}" alt="照片">\
{% else %}（照片）{% endif %}</td></tr>
<tr><th>出生日期</th><td>{{ birth_date }}</td><th>民族</th><td>{{ ethnicity }}</td></tr>
<tr><th>政治面貌</th><td>{{ political_status }}</td><th>生源地</th><td>{{ native_region }}</td></tr>
<tr><th>证件类型</th><td>{{ id_type }}</td><th>证件号码</th><td>{{ id_number }}</td></tr>
<tr><th>考生号</th><td>{{ candidate_number }}</td><th>层次</th><td colspan="2">{{ level }}</td></tr>
<tr><th>学院</th><td>{{ college }}</td><th>专业</th><td colspan="2">{{ major }}</td></tr>
<tr><th>班级</th><td>{{ class_name }}</td><th>学习形式</th><td colspan="2">{{ study_form }}\
（学制{{ years }}年）</td></tr>
<tr><th>入学日期</th><td>{{ enrollment_date }}</td><th>预计毕业</th>\
<td colspan="2">{{ expected_graduation }}</td></tr>
<tr><th>学籍状态</th><td>{{ registry_status }}</td><th>在校状态</th>\
<td colspan="2">{{ status }}</td></tr>
</table>
<h2>学籍记录</h2>
<table class="history">
<tr><th>日期</th><th>事项</th><th>说明</th></tr>
{% for entry in history %}<tr><td>{{ entry.date }}</td><td>{{ entry.action }}</td>\
<td>{{ entry.note }}</td></tr>
{% empty %}<tr><td colspan="3">无</td></tr>{% endfor %}
</table>
<div class="foot">
  <div>{{ qr }}<br>扫描二维码或访问 {{ verify_url }} 核验。</div>
  <div class="seal">（学校印章）</div>
  <div>{{ school }}<br>{{ issued }}</div>
</div>
</body></html>
"""
)

TRANSCRIPT_HTML = (
    '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>成绩单</title>\n'
    f"<style>{RECORD_STYLE}</style></head>\n<body>\n"
    + """<p class="school">{{ school }}</p>
<h1>成绩单</h1>
<div class="meta"><span>{{ name }}　学号：{{ student_number }}　{{ college }}　{{ major }}\
</span><span>编号：{{ serial }}</span></div>
{% for term in terms %}<h2>{{ term.name }}</h2>
<table class="history">
<tr><th>课程代码</th><th>课程名称</th><th>性质</th><th>学分</th><th>成绩</th></tr>
{% for course in term.courses %}<tr><td>{{ course.code }}</td><td>{{ course.name }}</td>\
<td>{{ course.kind }}</td><td>{{ course.credits }}</td><td>{{ course.score }}</td></tr>
{% endfor %}</table>
{% endfor %}
<p>总学分：{{ credits_total }}{% if gpa %}　平均学分绩点：{{ gpa }}{% endif %}</p>
<div class="foot">
  <div>{{ qr }}<br>扫描二维码或访问 {{ verify_url }} 核验。</div>
  <div class="seal">（学校印章）</div>
  <div>{{ school }}<br>{{ issued }}</div>
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
        "description": "证明学生具有（或曾具有）我校学籍及当前学籍状态。在籍学生和毕业生可申请。",
        "for_students": True,
        "for_graduates": True,
        "for_staff": True,
        "rules": ["enrolled_or_graduated"],
        "auto_issue": True,
        "free_per_term": 5,
        "template_html": STATUS_HTML,
        "order": 20,
    },
    {
        "code": "xjb",
        "name": "学籍表",
        "name_en": "Student Record Form",
        "description": (
            "学生学籍表：基本信息、照片和学籍记录，含完整证件号码。在籍学生和毕业生可申请。"
        ),
        "for_students": True,
        "for_graduates": True,
        "for_staff": True,
        "rules": ["enrolled_or_graduated"],
        "auto_issue": True,
        "free_per_term": 3,
        "template_html": RECORD_HTML,
        "order": 30,
    },
    {
        "code": "cjd",
        "name": "成绩单",
        "name_en": "Academic Transcript",
        "description": (
            "各学期课程成绩。成绩数据接入后启用（见 xueji/certificates/transcript.py）。"
        ),
        "for_students": True,
        "for_graduates": True,
        "for_staff": True,
        "rules": ["enrolled_or_graduated", "has_transcript"],
        "auto_issue": True,
        "free_per_term": 5,
        "template_html": TRANSCRIPT_HTML,
        "order": 40,
        "is_active": False,
    },
)
