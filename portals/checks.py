from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver


def iter_patterns(resolver=None, prefix=""):
    """Yield (route, pattern) for every URL pattern, depth first."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from iter_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def is_portal_view(callback):
    module = getattr(callback, "__module__", "") or ""
    return module == "portals" or module.startswith("portals.")


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_view_policies(app_configs=None, **kwargs):
    return list(_errors(get_resolver()))


def _errors(resolver):
    for route, pattern in iter_patterns(resolver):
        callback = pattern.callback
        if is_portal_view(callback) and not hasattr(callback, "access_policy"):
            yield checks.Error(
                f"The view {callback.__module__}.{callback.__name__} at '{route}' has no access policy.",
                hint="Decorate it with one policy from portals.policies.",
                id="portals.E001",
            )
        elif is_portal_view(callback) and hasattr(callback, "cls") and "access_policy" not in vars(callback.cls):
            # A REST framework view answers through its own authentication and
            # permission classes, which only an API policy sets.
            yield checks.Error(
                f"The API view {callback.__module__}.{callback.__name__} at '{route}' has a portal policy, "
                "not an API policy.",
                hint="Decorate it with one policy from portals.api.policies, above @api_view.",
                id="portals.E002",
            )

