from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.template.response import TemplateResponse

from audit.models import AuditAction
from audit.services import admin_action_record
from integrations.acl import acl_resource_choices, acl_resources_of_user
from integrations.models import AccessToken, IdempotencyKey, SignInFailureLog, token_hash_of
from integrations.services import access_token_revoke, integration_token_create


class IntegrationTokenForm(forms.ModelForm):
    """Staff issue an integration token: who it acts as, the integration's name and its ACL resources.

    The resources offered are those the issuing staff member holds, so nobody hands out more than
    they may do themselves; the token works only where its user has the permissions too.
    """

    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))
    name = forms.CharField(max_length=255, help_text="The integration, e.g. ERP-XYZ or the payment webhook.")
    acl_resources = forms.MultipleChoiceField(
        label="Resources",
        widget=forms.CheckboxSelectMultiple,
        help_text="What the token may do. A request also needs the user's permission for the resource.",
    )

    issuer = None  # the staff member issuing, set by the admin

    class Meta:
        model = AccessToken
        fields = ("user", "name", "acl_resources")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = acl_resource_choices()
        if self.issuer is not None:
            allowed = set(acl_resources_of_user(self.issuer))
            choices = [(resource, label) for resource, label in choices if resource in allowed]
        cast(forms.MultipleChoiceField, self.fields["acl_resources"]).choices = choices  # declared above


_SHOWN_FIELDS = ("user", "kind", "name", "acl_resources", "created_at", "expires_at", "revoked_at")
_LISTED_FIELDS = ("user", "kind", "name", "created_at", "expires_at", "revoked_at")


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Admin tokens come from the API; staff issue and revoke integration tokens here.

    A token is stored as its hash only, so the raw token is shown once, on the page answering its issue.
    """

    list_display = _LISTED_FIELDS
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
            kwargs["form"] = type("IntegrationTokenIssueForm", (IntegrationTokenForm,), {"issuer": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("user", "name", "acl_resources") if obj is None else _SHOWN_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else _SHOWN_FIELDS

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # issued tokens are never edited, only revoked
        user, resources = form.cleaned_data["user"], form.cleaned_data["acl_resources"]
        raw_token = integration_token_create(user=user, name=form.cleaned_data["name"], acl_resources=resources)
        # The row named by the token's (unique) hash, not "the user's newest token": another staff member
        # issuing one for the same user at the same moment would make that theirs, and the change log and
        # the page's link would name a token other than the one shown here.
        issued = AccessToken.objects.get(token_hash=token_hash_of(raw_token))
        obj.pk, obj.kind, obj.created_at = issued.pk, issued.kind, issued.created_at
        obj._state.adding = False
        admin_action_record(
            request,
            action=AuditAction.TOKEN_ISSUE,
            obj=issued,
            detail=f"as {user.get_username()}: {', '.join(resources)}",
        )
        obj.raw_token = raw_token  # for response_add's page only; never saved, never in a message
        lacking = sorted(set(resources) - set(acl_resources_of_user(user)))
        if lacking:
            messages.warning(
                request,
                f"{user} lacks the permissions of {', '.join(lacking)}: the token is refused there "
                "until the user is given them.",
            )

    def response_add(self, request, obj, post_url_continue=None):
        """The issued token on this response's page, once: not in a message (the messages cookie is signed,
        not encrypted), the session or a redirect URL. Only its hash is stored, so nothing can show it again."""
        return TemplateResponse(
            request,
            "admin/integrations/accesstoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Integration token issued",
                "token": obj,
                "raw_token": obj.raw_token,
            },
        )

    @admin.action(permissions=["change"], description="Revoke selected tokens")
    def revoke_selected_tokens(self, request: HttpRequest, queryset) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            access_token_revoke(token=token)
            admin_action_record(request, action=AuditAction.TOKEN_REVOKE, obj=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).")


@admin.register(SignInFailureLog)
class SignInFailureLogAdmin(admin.ModelAdmin):
    """Usernames with failed sign-ins (admin login or admin token); staff may lift a lock before it runs out."""

    list_display = ("username", "failures_count", "lock_expires_at", "updated_at")
    search_fields = ("username",)
    ordering = ("-updated_at",)
    readonly_fields = list_display
    actions = ("unlock_selected_usernames",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(permissions=["delete"], description="Unlock selected usernames (reset their failures)")
    def unlock_selected_usernames(self, request: HttpRequest, queryset) -> None:
        released = list(queryset)
        unlocked, _ = queryset.delete()
        for entry in released:
            locked = f", locked until {entry.lock_expires_at:%Y-%m-%d %H:%M:%S}" if entry.lock_expires_at else ""
            admin_action_record(
                request,
                action=AuditAction.SIGN_IN_UNLOCK,
                obj=entry,
                detail=f"{entry.failures_count} failure(s){locked}",
            )
        self.message_user(request, f"Unlocked {unlocked} username(s).")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Idempotency-Key records, read-only; deleting one lets its key run again at once."""

    list_display = (
        "key",
        "principal",
        "request_method",
        "request_path",
        "state",
        "response_status",
        "created_at",
        "expires_at",
    )
    list_filter = ("state",)
    search_fields = ("key", "principal", "request_path")
    ordering = ("-created_at",)
    readonly_fields = (*list_display, "request_fingerprint", "response_content_type", "response_body", "started_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
