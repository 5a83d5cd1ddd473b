from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImagegenConfig(AppConfig):
    name = "imagegen"
    verbose_name = _("Image generation")
