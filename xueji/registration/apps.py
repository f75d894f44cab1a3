from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "xueji.registration"
    label = "registration"
    verbose_name = "学期注册"

    def ready(self) -> None:
        from xueji.core.periodic import register
        from xueji.registration.services import registration_reminders_sweep

        # Hourly; the rows themselves guarantee at most one reminder per student per day.
        register("registration.reminders", 3600, registration_reminders_sweep)

        from xueji.exchange.chsi.kinds import register as register_chsi_kind
        from xueji.registration.chsi import KIND as CHSI_YEARLY_REGISTRATION

        register_chsi_kind(CHSI_YEARLY_REGISTRATION)

        from xueji.registration.imports import register_kind

        # The finance-status import plugs into exchange's generic import pages and API.
        register_kind()
