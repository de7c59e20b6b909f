"""Forms shared by every portal."""

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms

from banking.core.identifiers import new_token


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form, labelled for the people who use it: the field takes
    a username or an email address, and the page carries its own
    "Forgotten your password?" link below the button."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        login.widget.attrs.update({"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
        login.widget.attrs.pop("placeholder", None)
        password = self.fields["password"]
        password.help_text = ""
        password.widget.attrs.pop("placeholder", None)


class TokenField(forms.CharField):
    """The form's idempotency token: drawn fresh with each new form, sent back with
    it, so the same form sent twice queues one request."""

    def __init__(self, **kwargs):
        super().__init__(widget=forms.HiddenInput, max_length=80, error_messages={
            "required": "This form has no token; reload the page and enter it again."}, **kwargs)


class TokenForm(forms.Form):
    """A form that posts once however often it is sent: a fresh token is drawn with
    each new form and the action it feeds is idempotent by that token."""

    idempotency_key = TokenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_token())
