"""ID number masks show the last 4 characters only (they showed the first 4 too): docs/security.md."""

from django.db import migrations


def remask(apps, schema_editor):
    from firstline.sealing import remask_stored_id_numbers

    remask_stored_id_numbers(apps.get_model("people", "Resident"))


class Migration(migrations.Migration):
    dependencies = [("people", "0004_resident_colour_index")]
    operations = [migrations.RunPython(remask, migrations.RunPython.noop, elidable=True)]
