from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImagegenConfig(AppConfig):
    name = "imagegen"
    verbose_name = _("Image generation")

    def ready(self) -> None:
        from imagegen import time_zones  # noqa: F401 (connects the sign-in signal)
