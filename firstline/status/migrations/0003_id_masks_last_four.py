"""Declarations' ID number masks show the last 4 characters only, as the ledger's do."""

from django.db import migrations


def remask(apps, schema_editor):
    from firstline.sealing import remask_stored_id_numbers

    remask_stored_id_numbers(apps.get_model("status", "Declaration"))


class Migration(migrations.Migration):
    dependencies = [("status", "0002_dashboard_indexes"), ("people", "0005_id_masks_last_four")]
    operations = [migrations.RunPython(remask, migrations.RunPython.noop, elidable=True)]
