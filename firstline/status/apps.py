from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "firstline.status"
    label = "status"
    verbose_name = _("Status and screening")

    def ready(self) -> None:
        # The battle map's print job lives beside the map; importing it registers it with the job queue.
        from firstline.status import map  # noqa: F401
