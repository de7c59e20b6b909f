"""Forms shared by every portal."""

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms

from banking.core.errors import InvalidAmount
from banking.core.identifiers import new_token
from banking.core.money import Money, format_money


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


class AmountField(forms.CharField):
    """Rupees as a person types them ("1,500.50", "1,00,000"); cleans to paise above
    zero (or zero too, with allow_zero: a limit may be nil) and at most `max_minor`
    when given. What counts as a typed amount is Money.parse's rule, the bank's only one."""

    def __init__(self, *, allow_zero=False, max_minor=None, **kwargs):
        self.allow_zero, self.max_minor = allow_zero, max_minor
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                           "placeholder": "0.00"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            money = Money.parse(value)
        except InvalidAmount as error:
            raise forms.ValidationError(str(error)) from None
        if money.minor < 0 or (money.minor == 0 and not self.allow_zero):
            raise forms.ValidationError("Enter an amount above zero.")
        if self.max_minor is not None and money.minor > self.max_minor:
            raise forms.ValidationError(f"Enter at most {format_money(self.max_minor, money.currency)}.")
        return money.minor


class WholeNumberField(forms.IntegerField):
    """A count or a number of months as a person types it: ASCII digits only.
    Django's IntegerField reads whatever int() does, full-width １２ and Arabic-Indic
    ١٢ included, which a teller never means to type."""

    default_error_messages = {"invalid": "Enter a whole number in plain digits, like 12."}

    def to_python(self, value):
        text = str(value).strip() if value is not None else ""
        if text and not (text.isascii() and text.lstrip("-").isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


def sent_form_count(data, formset_class, prefix):
    """How many forms a formset's management form says were sent, for a view that
    redraws the formset (a row added or removed) before judging it. The count is read
    here and nowhere else: ASCII digits, at most the formset's absolute_max, so a
    hostile count never builds more forms than a person could send. Blank is the
    formset's minimum; anything else raises ValidationError in the formset's own
    words (codes "too_many_forms" and "missing_management_form")."""
    raw = str(data.get(f"{prefix}-TOTAL_FORMS", "") or "").strip()
    if not raw:
        return formset_class.min_num
    words = formset_class(prefix=prefix).error_messages
    if not (raw.isascii() and raw.isdigit()):
        raise forms.ValidationError(words["missing_management_form"] % {"field_names": f"{prefix}-TOTAL_FORMS"},
                                    code="missing_management_form")
    if len(raw.lstrip("0")) > len(str(formset_class.absolute_max)) or int(raw) > formset_class.absolute_max:
        raise forms.ValidationError(words["too_many_forms"] % {"num": formset_class.max_num}, code="too_many_forms")
    return int(raw)


def keep_typing(form, *, redrawn_by):
    """Marks a form being redrawn by HTMX from what the browser sent so that the
    browser keeps what was typed meanwhile: htmx leaves in place every field of the
    page that the redraw has too (same id, hx-preserve), with its value as it is
    now, and adds or drops only the fields that change. The field that asked for
    the redraw (`redrawn_by`) takes the server's answer."""
    for name, field in form.fields.items():
        if name != redrawn_by:
            field.widget.attrs["hx-preserve"] = "true"
    return form
