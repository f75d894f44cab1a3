from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "xueji.certificates"
    label = "certificates"
    verbose_name = "证明文书"
