"""Cursor pagination for every list: `{"results": [...], "next": "<url or null>"}`."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .problems import ApiProblem


class Cursor(CursorPagination):
    """Newest first; a stable order that ends with the id, so a page never repeats or
    skips a row that arrives while a client pages."""

    page_size = 50
    ordering = ("-id",)
    cursor_query_param = "cursor"

    def __init__(self, ordering=None, page_size=None):
        if ordering:
            self.ordering = ordering
        if page_size:
            self.page_size = page_size

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise ApiProblem(400, "invalid_cursor", "That cursor is not one this list gave; start from the "
                             "first page.") from None

    def get_paginated_response_data(self, results):
        return {"results": results, "next": self.get_next_link()}

    @staticmethod
    def schema(item):
        return {"type": "object", "required": ["results", "next"], "properties": {
            "results": {"type": "array", "items": item},
            "next": {"type": ["string", "null"], "format": "uri"}}}


CURSOR_PARAMETER = OpenApiParameter("cursor", str, description="The `next` link's cursor, for the next page.")


def paginate(request, queryset, serializer_class, *, ordering=None, page_size=None, context=None):
    """One page of `queryset` as the list body."""
    pager = Cursor(ordering=ordering, page_size=page_size)
    page = pager.paginate_queryset(queryset, request)
    data = serializer_class(page, many=True, context={"request": request, **(context or {})}).data
    return pager.get_paginated_response_data(data)
