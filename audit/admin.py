"""The audit log page (read-only, filterable) and the History that lists an object's entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.template.response import SimpleTemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from audit.models import AuditEntry
from audit.services import audit_entries_of


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Audit > Audit log: every recorded action, newest first. Nobody adds, changes or deletes an entry;
    seeing them takes the ``view_auditentry`` permission."""

    list_display = (
        "created_at",
        "actor_username",
        "how",
        "action",
        "object_link",
        "outcome",
        "http_status",
        "error_message",
        "client_address",
        "detail",
    )
    # The actor filter lists users (a small table), not the distinct actors of a large log; no date hierarchy:
    # it reads the distinct dates of every entry on each page.
    list_filter = ("action", "outcome", "channel", "token_kind", ("created_at", admin.DateFieldListFilter), "actor")
    search_fields = ("object_repr", "actor_username", "token_name")
    search_help_text = "Object (e.g. #000000012), username or token name"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    actions = None

    @admin.display(description="How")
    def how(self, entry: AuditEntry) -> str:
        return entry.how

    @admin.display(description="Object", ordering="object_repr")
    def object_link(self, entry: AuditEntry) -> str:
        """The object's text as it was, linked to its admin page while there is one."""
        if entry.content_type_id is None or not entry.object_id:
            return entry.object_repr
        model = ContentType.objects.get_for_id(entry.content_type_id)  # cached per process: no query per row
        try:
            url = reverse(f"admin:{model.app_label}_{model.model}_change", args=[entry.object_id])
        except NoReverseMatch:
            return entry.object_repr
        return format_html('<a href="{}">{}</a>', url, entry.object_repr)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]  # what AuditHistoryMixin is mixed into
else:
    _ModelAdmin = object


class AuditHistoryMixin(_ModelAdmin):
    """A ModelAdmin whose History lists the object's audit entries above Django's own LogEntry rows."""

    object_history_template = "admin/audit/object_history.html"

    def audit_targets(self, obj) -> list[tuple[type, list]]:
        """The objects whose entries the History of ``obj`` lists: ``obj`` itself by default."""
        return [(type(obj), [obj.pk])]

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        # A redirect (no such object) has no context.
        context = response.context_data if isinstance(response, SimpleTemplateResponse) else None
        obj = context.get("object") if context else None
        if context and obj is not None:
            context["audit_entries"] = list(audit_entries_of(self.audit_targets(obj)))
        return response
