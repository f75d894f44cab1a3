"""Background jobs of the exchange app (run by `manage.py db_worker`)."""

from __future__ import annotations

from django.tasks import task

from xueji.exchange.services import delivery_attempt


@task
def delivery_attempt_task(delivery_id: int) -> str:
    """Attempt one webhook delivery; the result is the delivery's state afterwards."""
    delivery = delivery_attempt(delivery_id)
    return delivery.state if delivery is not None else "missing"
