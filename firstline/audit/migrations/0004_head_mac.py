"""The chain head carries a MAC under the audit key; the existing head is signed as it stands."""

from django.db import migrations, models


def sign_existing_head(apps, schema_editor):
    from firstline.audit.log import head_mac

    AuditHead = apps.get_model("audit", "AuditHead")
    for head in AuditHead.objects.all():
        head.mac = head_mac(head.last_id, head.last_digest, head.count)
        head.save(update_fields=["mac"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_list_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="audithead",
            name="mac",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.RunPython(sign_existing_head, migrations.RunPython.noop),
    ]
