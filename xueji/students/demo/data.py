"""The tables demo data is drawn from: colleges and majors, names, ethnicities, places."""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - published demo password, by design
DEMO_USERNAMES = (
    "registrar",
    "college-admin",
    "counsellor",
    "advisor",
    "student",
    "parent",
    "auditor",
)
MIN_STUDENTS = 100
CLASS_SIZE = 30
COHORTS = 4
CHUNK = 5000
SCHOOL = {"code": "10999", "name": "示例大学", "name_en": "Example University"}
HOME_PROVINCE = "42"  # 湖北: a provincial university draws many students from its own province


@dataclass(frozen=True)
class MajorSpec:
    national_code: str  # without the catalogue's T/K suffix, as stored in major_catalogue_2024
    abbreviation: str  # for class names: 计科2401
    male_share: float
    weight: float = 1.0


@dataclass(frozen=True)
class CollegeSpec:
    code: str
    name: str
    name_en: str
    majors: tuple[MajorSpec, ...]


def _majors(text: str) -> tuple[MajorSpec, ...]:
    """'080901 计科 0.72 1.6; …' → national code, class-name abbreviation, male share, weight."""
    specs = []
    for item in text.split(";"):
        code, abbreviation, male_share, *weight = item.split()
        specs.append(MajorSpec(code, abbreviation, float(male_share), float(*weight or [1])))
    return tuple(specs)


# Majors exist in major_catalogue_2024 (checked before seeding); durations come from it
# (临床医学, 预防医学 and 建筑学 are five-year programmes).
COLLEGES: tuple[CollegeSpec, ...] = (
    CollegeSpec(
        "01",
        "计算机学院",
        "School of Computer Science",
        _majors("080901 计科 .72 1.6; 080902 软工 .70 1.3; 080910 数据 .64; 080717 智能 .70"),
    ),
    CollegeSpec(
        "02",
        "外国语学院",
        "School of Foreign Languages",
        _majors("050201 英语 .20 1.3; 050207 日语 .30; 050261 翻译 .25"),
    ),
    CollegeSpec(
        "03",
        "经济与管理学院",
        "School of Economics and Management",
        _majors("020301 金融 .45 1.3; 120203 会计 .28 1.4; 120201 工管 .45; 020101 经济 .50"),
    ),
    CollegeSpec(
        "04",
        "数学与统计学院",
        "School of Mathematics and Statistics",
        _majors("070101 数学 .55 1.2; 071201 统计 .50; 070102 信计 .60"),
    ),
    CollegeSpec(
        "05",
        "医学院",
        "School of Medicine",
        _majors("100201 临床 .48 1.6; 101101 护理 .12; 100401 预防 .42"),
    ),
    CollegeSpec(
        "06",
        "土木与建筑工程学院",
        "School of Civil Engineering and Architecture",
        _majors("081001 土木 .80 1.2; 082801 建筑 .58"),
    ),
    CollegeSpec(
        "07",
        "文学与新闻传播学院",
        "School of Literature and Journalism",
        _majors("050101 汉语言 .20 1.2; 050301 新闻 .30"),
    ),
    CollegeSpec(
        "08",
        "电子信息工程学院",
        "School of Electronic Information Engineering",
        _majors("080701 电信 .75 1.2; 080703 通信 .75"),
    ),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _weights(text: str) -> tuple[list[str], list[float]]:
    """'王 71 李 70 …' → (items, cumulative weights) for weighted picks with bisect."""
    words = text.split()
    return words[::2], list(accumulate(float(w) for w in words[1::2]))


# Surnames with rough shares (per mille) of the population. The rarer ones with a special
# reading as a surname (单 shàn, 曾 zēng, 解 xiè, 仇 qiú, 朴 piáo, 区 ōu, 查 zhā, 盖 gě, 翟 zhái,
# 乐 yuè, 任 rén …) and some compound surnames are there on purpose, so pinyin search is tested
# by the demo data itself. 覃 (qín) is left out: pypinyin reads it tán and our table lacks it.
SURNAME_LIST, SURNAME_CUM = _weights("""
    王 71 李 70 张 67 刘 54 陈 46 杨 31 黄 25 赵 24 吴 20 周 19 徐 15 孙 15 马 13 朱 13 胡 12
    郭 12 何 11 林 11 高 11 罗 10 郑 9 梁 9 谢 8 宋 7 唐 7 许 7 韩 7 冯 7 邓 7 曹 6 彭 6 曾 6
    肖 6 田 5 董 5 袁 5 潘 5 于 5 蒋 5 蔡 5 余 5 杜 5 叶 4 程 4 苏 4 魏 4 吕 4 丁 4 任 4 沈 4
    姚 4 卢 4 姜 3 崔 3 钟 3 谭 3 陆 3 汪 3 范 3 金 3 石 3 廖 3 贾 3 夏 3 韦 3 付 3 方 3 白 3
    邹 3 孟 3 熊 3 秦 3 邱 3 江 3 尹 2 薛 2 闫 2 段 2 雷 2 侯 2 龙 2 史 2 陶 2 黎 2 贺 2 顾 2
    毛 2 郝 2 龚 2 邵 2 万 2 钱 2 严 2 武 2 戴 2 莫 2 孔 2 向 1 汤 1 翟 .6 单 .5 解 .5 查 .4
    仇 .3 朴 .5 区 .2 盖 .2 乐 .2 欧阳 .5 司马 .2 诸葛 .1 上官 .1 令狐 .05
""")

# Given-name characters without a common second reading (no 行, 长, 重, 乐 …), so the
# generated pinyin is what a registrar would expect.
MALE_CHARS = (
    "伟刚勇毅俊峰强军平东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞"
    "彬富顺信杰涛昌成康星光天达安岩中茂进林有坚彪博诚先敬震振壮思群豪心邦承浩亮政谦固翰朗伯宏"
    "言鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士建家致树炎德时泰盛雄琛钧冠策腾楠榕风航弘宇轩睿铭皓哲"
    "凯锐晟煜霖"
)
FEMALE_CHARS = (
    "秀娟英慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱霞香月莺媛艳"
    "瑞凡佳嘉琼勤珍贞莉桂娣叶璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓仪荷丹蓉眉君琴"
    "蕊薇菁梦岚苑婕馨琰韵园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希欣飘育滢馥筠柔竹凝晓欢霄枫芸菲寒伊亚"
    "宜可舒影荔丽妮宝贝初诗涵萱怡雯语梓"
)
NEUTRAL_CHARS = "子文安宇佳明晨一嘉思雨欣天睿泽可"
# GB 3304 codes with rough shares (per mille) among students: 汉族 first, then the larger
# minorities. Students surnamed 朴 are given 朝鲜族.
ETHNIC_LIST, ETHNIC_CUM = _weights("""
    01 910 08 13 03 8 11 8 05 7 06 7 07 6 15 6 04 5 02 4 12 3 13 2 14 2 10 2
""")
STREETS = _words(
    "人民路 解放路 中山路 建设路 和平路 新华路 胜利路 文化路 朝阳路 长江路 黄河路 青年路 光明路"
    " 友谊路 迎宾大道 学府路 滨江路 东风路 工业大道 花园路"
)
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 166 177 180 181 182"
    " 185 186 187 188 189 191 199"
)
REGION_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
SUSPENSION_SHARE = 0.006
RESERVATION_SHARE = 0.003


def pick(rng: random.Random, items: list[str], cumulative: list[float]) -> str:
    return items[bisect(cumulative, rng.random() * cumulative[-1])]
