"""Logins and logouts go to the audit log, failures count against their address (auth's own hooks);
a password change or a deactivation revokes the user's device tokens."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from firstline.accounts.actions import do_revoke_all_tokens
from firstline.accounts.backends import count_address_failure
from firstline.accounts.models import ApiToken, User
from firstline.audit.log import record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    record("login", actor=user, request=request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record("logout", actor=user, request=request)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The attempted username is kept in the detail; the password never is.
    record("login_failed", detail={"username": str(credentials.get("username", ""))[:150]}, request=request)
    if request is not None and not getattr(request, "firstline_address_locked", False):
        count_address_failure(request)


@receiver(pre_save, sender=User)
def note_credential_change(sender, instance, update_fields=None, **kwargs) -> None:
    """A new password or a deactivation ends every device token of the user (see ``revoke_tokens``)."""
    instance._revoke_tokens_why = ""
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["is_active"] and not instance.is_active:
        instance._revoke_tokens_why = ApiToken.Why.DEACTIVATED
    elif before["password"] != instance.password:
        instance._revoke_tokens_why = ApiToken.Why.PASSWORD


@receiver(post_save, sender=User)
def revoke_tokens(sender, instance, created, **kwargs) -> None:
    why = getattr(instance, "_revoke_tokens_why", "")
    if why:
        instance._revoke_tokens_why = ""
        do_revoke_all_tokens(instance, why)
