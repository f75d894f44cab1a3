from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "xueji.registration"
    label = "registration"
    verbose_name = "学期注册"
