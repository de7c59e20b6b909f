"""Forms shared by every portal."""

from allauth.account.forms import LoginForm as AllauthLoginForm


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
