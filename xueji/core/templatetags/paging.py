"""Paging helpers for templates of every app (`{% load paging %}`)."""

from __future__ import annotations

from django import template
from django.core.paginator import Page

register = template.Library()


@register.filter
def elided_pages(page: Page) -> list[int | None]:
    """Page numbers around the current one, None where numbers are left out."""
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return [n if isinstance(n, int) else None for n in numbers]
