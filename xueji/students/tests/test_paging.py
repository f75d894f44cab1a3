from django.core.paginator import Paginator

from xueji.conftest import make_student
from xueji.students.selectors import DeferredJoinPages, student_search


def test_deferred_join_pages_match_plain_paging_page_by_page(cast):
    for serial in range(10, 33):
        make_student(
            college=cast.cs,
            major=cast.cs_major,
            school_class=cast.class_b,
            cohort=cast.cohort,
            serial=serial,
            name="赵六",
        )
    students = student_search(user=cast.registrar)
    plain = Paginator(students, 4)
    deferred = Paginator(DeferredJoinPages(students), 4)

    assert deferred.count == plain.count == 26
    for number in plain.page_range:
        expected = [s.student_number for s in plain.page(number)]
        assert [s.student_number for s in deferred.page(number)] == expected


def test_deferred_join_pages_keep_the_callers_scope(cast):
    pages = Paginator(DeferredJoinPages(student_search(user=cast.counsellor)), 50)
    assert [s.pk for s in pages.page(1)] == [cast.student.pk]
