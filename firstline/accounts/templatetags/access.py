"""``{% may "capability" obj as flag %}``: whether the current user holds a capability over obj."""

from django import template

from firstline.scoping import user_can

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, capability: str, obj) -> bool:
    request = context.get("request")
    return bool(request is not None and obj is not None and user_can(request.user, capability, obj))
