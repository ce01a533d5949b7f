from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatesConfig(AppConfig):
    name = "firstline.gates"
    label = "gates"
    verbose_name = _("Gates and passes")

    def ready(self) -> None:
        from firstline.gates import actions  # noqa: F401 (its receivers suspend passes on isolation)
