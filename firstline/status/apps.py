from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "firstline.status"
    label = "status"
    verbose_name = _("Status and screening")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from firstline.people.models import Resident
        from firstline.places.models import Building, Entrance, Grid, Household, bump_map_version

        def changed(sender, instance, **kwargs) -> None:
            community_id = getattr(instance, "community_id", None)
            if community_id is None and isinstance(instance, Entrance):
                community_id = Building.objects.filter(pk=instance.building_id).values_list("community_id").first()
                community_id = community_id[0] if community_id else None
            bump_map_version(community_id)

        # Saves and deletions of what the battle map draws; bulk writers (imports, bulk households)
        # call bump_map_version themselves.
        for model in (Resident, Household, Building, Entrance, Grid):
            post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"map-version-save-{model.__name__}")
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"map-version-delete-{model.__name__}")
