"""The admin's login form: the staff sign-in lockout it shares with the admin token route, and a rate limit
per client address. Installed as ``admin.site.login_form`` in ``config/urls.py``."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from integrations.exceptions import InvalidCredentials
from integrations.services import staff_sign_in
from sales.api.throttling import AdminLoginRateThrottle

TOO_MANY_ATTEMPTS = "Too many sign-in attempts from your address. Please wait and try again later."


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Every refusal, a wrong password or a locked username, reads the same (Magento's text): the page must not
    tell a guesser that a username exists or is locked. Past the address's rate no password is checked."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": InvalidCredentials.message,
        "too_many_attempts": TOO_MANY_ATTEMPTS,
    }

    def clean(self):
        if not AdminLoginRateThrottle().allow_request(self.request, None):
            raise ValidationError(self.error_messages["too_many_attempts"], code="too_many_attempts")
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = staff_sign_in(request=self.request, username=username, password=password)
            except InvalidCredentials:
                raise ValidationError(self.error_messages["invalid_login"], code="invalid_login") from None
        return self.cleaned_data
