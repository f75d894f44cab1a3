from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "xueji.exchange"
    label = "exchange"
    verbose_name = "数据交换"

    def ready(self) -> None:
        from xueji.core.periodic import register
        from xueji.exchange.services import deliveries_sweep

        # Catches deliveries whose task was lost (queue down, worker restarted mid-call).
        register("exchange.deliveries_sweep", 60, deliveries_sweep)
