"""Device tokens get a public code, a name, a scope of use and a revocation."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import firstline.codes
import firstline.places.models


def give_codes(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(code__isnull=True).only("id"):
        ApiToken.objects.filter(pk=token.pk).update(code=firstline.codes.new_code())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_rate_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="code",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.RunPython(give_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="code",
            field=firstline.places.models.CodeField(
                default=firstline.codes.new_code, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="name",
            field=models.CharField(blank=True, max_length=60, verbose_name="device name"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[
                    ("worker", "worker's device: everything the user's roles allow"),
                    ("gate", "gate phone: the gate only"),
                ],
                default="worker",
                max_length=8,
                verbose_name="scope",
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_why",
            field=models.CharField(
                blank=True,
                choices=[
                    ("user", "revoked by its user"),
                    ("admin", "revoked by an administrator"),
                    ("logout", "logged out on the device"),
                    ("password", "the password was changed"),
                    ("deactivated", "the account was deactivated"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(fields=["user", "revoked_at"], name="apitoken_user_open_idx"),
        ),
    ]
