"""Serializer bases every API body shares."""

from rest_framework import serializers

NARRATION_MAX = 140


class StrictSerializer(serializers.Serializer):
    """Refuses a field it does not know (422 `unknown_field`), so a misspelt field is
    never silently ignored, and a body that is not a JSON object."""

    default_error_messages = {"unknown_field": "{field} is not a field of this request."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": [serializers.ErrorDetail(
                "Send a JSON object.", code="invalid_body")]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [serializers.ErrorDetail(
                f"{name} is not a field of this request.", code="unknown_field")] for name in unknown})
        return super().to_internal_value(data)


class OtpField(serializers.RegexField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("help_text", "The 6-digit code of the customer's authenticator app.")
        super().__init__(r"^[0-9]{6}$", max_length=6, **kwargs)
