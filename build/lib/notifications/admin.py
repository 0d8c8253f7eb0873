"""The outbox, read-only: what was sent, what failed and why, every attempt."""

from django.contrib import admin

from notifications.models import EmailAttempt, EmailOutbox


class EmailAttemptInline(admin.TabularInline):
    model = EmailAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "finished_at", "outcome", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EmailOutbox)
class EmailOutboxAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "invoice", "recipient_list", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("=recipients", "=message_id", "=invoice__increment_id")
    list_select_related = ("invoice",)
    show_full_result_count = False
    inlines = [EmailAttemptInline]
    exclude = ("body_html",)

    @admin.display(description="Recipients")
    def recipient_list(self, email):
        return ", ".join(email.recipients)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in EmailOutbox._meta.fields if field.name != "body_html"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
