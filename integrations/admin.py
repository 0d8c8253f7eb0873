from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from integrations.models import AccessToken
from integrations.services import access_token_revoke, integration_token_create


class IntegrationTokenForm(forms.ModelForm):
    """Staff issue an integration token: who it acts as, and the integration's name."""

    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))
    name = forms.CharField(max_length=255, help_text="The integration, e.g. ERP-XYZ or the payment webhook.")

    class Meta:
        model = AccessToken
        fields = ("user", "name")


_SHOWN_FIELDS = ("user", "kind", "name", "created_at", "expires_at", "revoked_at")


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Admin tokens come from the API; staff issue and revoke integration tokens here.

    A token is stored as its hash only, so the raw token is shown once, right after it is issued.
    """

    list_display = _SHOWN_FIELDS
    list_filter = ("kind", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "name")
    ordering = ("-created_at",)
    # token_hash is never shown nor editable; every shown field is read-only.
    fields = _SHOWN_FIELDS
    readonly_fields = _SHOWN_FIELDS
    actions = ("revoke_selected_tokens",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IntegrationTokenForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("user", "name") if obj is None else _SHOWN_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else _SHOWN_FIELDS

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # issued tokens are never edited, only revoked
        raw_token = integration_token_create(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        issued = AccessToken.objects.filter(user=form.cleaned_data["user"], kind=AccessToken.Kind.INTEGRATION)
        obj.pk = issued.order_by("-pk").values_list("pk", flat=True).first()
        obj._state.adding = False
        messages.warning(
            request, f"Integration token for {obj.name or form.cleaned_data['name']}: {raw_token} - copy it now, "
            "it is shown only this once.",
        )  # fmt: skip

    @admin.action(permissions=["change"], description="Revoke selected tokens")
    def revoke_selected_tokens(self, request: HttpRequest, queryset) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            access_token_revoke(token=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).")
