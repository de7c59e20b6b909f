from .context import AuditContext, RequestTrail, _current, _trail, new_request_id


def client_ip(request):
    """The address of the person making the request: the one place that says it, for
    the sign-in rate limits (banking.users.adapters) and the audit trail alike.

    Behind the bank's own reverse proxy (TRUSTED_PROXY on), the proxy appends the
    address it saw to X-Forwarded-For, so the last entry is the client; anything
    before it was written by the client and proves nothing. Without a trusted proxy
    the header is ignored and the socket's address is the client's."""
    import ipaddress

    from django.conf import settings

    if getattr(settings, "TRUSTED_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


class AuditContextMiddleware:
    """Binds the request's actor, address and id to the audit context, and writes
    one `http.<method>` event for every state-changing request that left no audit
    event of its own. A request whose work was audited (a deposit, an approval) is
    already on the trail under its request id, with the same actor, address and
    browser; a refused or failed one, whose events were rolled back, still is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id", "")[:64] or new_request_id()
        token = _current.set(self._context_for(request))
        trail = RequestTrail()
        trail_token = _trail.set(trail)
        try:
            response = self.get_response(request)
            if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not trail.committed:
                # The login may have happened during this request.
                _current.set(self._context_for(request))
                from .actions import record_event

                record_event(
                    action=f"http.{request.method.lower()}",
                    object_type="url",
                    object_id=request.path[:200],
                    summary=f"{request.method} {request.path} → {response.status_code}",
                    after={"status": response.status_code},
                )
            response["X-Request-Id"] = request.request_id
            return response
        finally:
            _trail.reset(trail_token)
            _current.reset(token)

    @staticmethod
    def _context_for(request):
        user = getattr(request, "user", None)
        authenticated = bool(user and user.is_authenticated)
        return AuditContext(
            actor_id=user.pk if authenticated else None,
            actor_username=user.get_username() if authenticated else "",
            role=(user.role.value if authenticated and user.role else ""),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
            request_id=request.request_id,
            channel="web",
        )
