"""Made-up but well-formed people: names with their pinyin, 居民身份证 numbers, phones,
addresses, political status and the odd change of status."""

from __future__ import annotations

import random
from datetime import date, timedelta

from xueji.core.exceptions import DomainError
from xueji.students.demo.data import (
    FEMALE_CHARS,
    MALE_CHARS,
    MOBILE_PREFIXES,
    NEUTRAL_CHARS,
    REGION_PLACEHOLDERS,
    RESERVATION_SHARE,
    STREETS,
    SURNAME_CUM,
    SURNAME_LIST,
    SUSPENSION_SHARE,
    pick,
)
from xueji.students.idcards import make_resident_id
from xueji.students.models import StudentStatus
from xueji.students.pinyin import name_syllables

HOME_SHARE = 0.4  # of students from the school's own province


class People:
    """Draws every personal value from one random generator, so a seed gives the same people.

    `counties` are county codes in force at the students' births, `region_names` the current
    names of all region codes (for addresses).
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        counties: list[str],
        home_counties: list[str],
        region_names: dict[str, str],
        today: date,
    ) -> None:
        self.rng = rng
        self.counties = counties
        self.home_counties = home_counties
        self.region_names = region_names
        self.today = today
        self._syllables: dict[str, list[str]] = {}
        self._ids: set[str] = set()

    def region(self) -> str:
        rng = self.rng
        return rng.choice(self.home_counties if rng.random() < HOME_SHARE else self.counties)

    def name(self, gender: str) -> tuple[str, str]:
        surname = pick(self.rng, SURNAME_LIST, SURNAME_CUM)
        return surname, self.given(gender)

    def given(self, gender: str) -> str:
        rng = self.rng
        chars = MALE_CHARS if gender == "1" else FEMALE_CHARS
        first = rng.choice(NEUTRAL_CHARS if rng.random() < 0.15 else chars)
        if rng.random() < 0.2:
            return first
        second = rng.choice(chars)
        while second == first:
            second = rng.choice(chars)
        return first + second

    def pinyin(self, surname: str, given: str) -> tuple[str, str, str]:
        """(姓名拼音, search key, initials) — what name_pinyin and search_keys_for give.

        pypinyin costs about 0.2 ms a name and 100k names are mostly distinct, so the syllables
        are cached per surname and per given-name character and joined the way
        `students.pinyin` joins them. That is exact because the given-name characters have one
        reading each (the demo tests compare every seeded name with `name_pinyin`).
        """
        syllables = self._syllables
        head = syllables.get(surname) or syllables.setdefault(surname, name_syllables(surname))
        tail: list[str] = []
        for char in given:
            tail += syllables.get(char) or syllables.setdefault(char, name_syllables(char))
        display = f"{''.join(head).capitalize()} {''.join(tail).capitalize()}"
        both = head + tail
        return display, "".join(both), "".join(s[0] for s in both)

    def birth_date(self, intake: int) -> date:
        # Most start university at 18: born between September 19 years and August 18 years
        # before their intake; some a year older (复读) or younger (early school start).
        born = date(intake - 19, 9, 1) + timedelta(days=self.rng.randrange(365))
        roll = self.rng.random()
        if roll < 0.15:
            born -= timedelta(days=365)
        elif roll > 0.96:
            born += timedelta(days=365)
        return born

    def id_number(self, region: str, birth: date, gender: str) -> str:
        # make_resident_id takes a serial whose last two digits become the sequence code; start
        # at a random one and step on collisions so every number is unique.
        serial = self.rng.randrange(100)
        for _ in range(100):
            number = make_resident_id(region, birth, gender, serial)
            if number not in self._ids:
                self._ids.add(number)
                return number
            serial += 1
        raise DomainError("示例身份证号已用尽（同一地区同一天出生的人数过多）。")

    def political_status(self, study_year: int) -> str:
        roll = self.rng.random()
        if roll < 0.015 * study_year:
            return "01"  # 中共党员: more among seniors
        if roll < 0.03 * study_year:
            return "02"  # 中共预备党员
        if roll < 0.83:
            return "03"  # 共青团员
        return "13"  # 群众

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def address(self, county: str) -> str:
        parts = [self.region_names.get(county[:2] + "0000", "")]
        prefecture = self.region_names.get(county[:4] + "00", "")
        if prefecture not in REGION_PLACEHOLDERS:
            parts.append(prefecture)
        parts.append(self.region_names[county])
        street = self.rng.choice(STREETS)
        house = self.rng.randrange(1, 400)
        rng = self.rng
        flat = f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(101, 2400)}室"
        return "".join(parts) + f"{street}{house}号{flat}"

    def status_change(self, enrolled: date) -> tuple[str, date, str] | None:
        roll = self.rng.random()
        if roll >= SUSPENSION_SHARE + RESERVATION_SHARE:
            return None
        earliest = enrolled + timedelta(days=60)
        days = (self.today - earliest).days
        if days <= 0:
            return None
        on = earliest + timedelta(days=self.rng.randrange(days))
        if roll < SUSPENSION_SHARE:
            return StudentStatus.SUSPENDED, on, "因病休学一年"
        return StudentStatus.RESERVED, on, "应征入伍，保留学籍"
