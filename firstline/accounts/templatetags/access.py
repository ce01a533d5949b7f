"""``{% may "capability" obj as flag %}``: whether the current user holds a capability over obj."""

from django import template

from firstline.scoping import user_can

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, capability: str, obj) -> bool:
    request = context.get("request")
    return bool(request is not None and obj is not None and user_can(request.user, capability, obj))


@register.simple_tag(takes_context=True)
def may_within(context, capability: str, community) -> bool:
    """Whether the user holds ``capability`` anywhere in ``community`` (a grid or building will do)."""
    from firstline.scoping import memberships_with

    request = context.get("request")
    if request is None or community is None:
        return False
    return any(
        membership.community_id == community.id
        or (membership.level == "street" and membership.street_id == community.street_id)
        for membership in memberships_with(request.user, capability)
    )
