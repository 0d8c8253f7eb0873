from django.contrib import admin
from django.http import HttpRequest

from integrations.models import AccessToken
from integrations.services import access_token_revoke

_SHOWN_FIELDS = ("user", "kind", "name", "created_at", "expires_at", "revoked_at")


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by the API (admin) or by a later integration screen, never typed in here."""

    list_display = _SHOWN_FIELDS
    list_filter = ("kind", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "name")
    ordering = ("-created_at",)
    # token_hash is never shown nor editable; every shown field is read-only.
    fields = _SHOWN_FIELDS
    readonly_fields = _SHOWN_FIELDS
    actions = ("revoke_selected_tokens",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(permissions=["change"], description="Revoke selected tokens")
    def revoke_selected_tokens(self, request: HttpRequest, queryset) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            access_token_revoke(token=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).")
