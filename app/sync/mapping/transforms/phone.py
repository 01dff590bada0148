"""Phone numbers normalised to E.164 with the phonenumbers library."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat

from app.sync.mapping.transforms.base import Args, OutputType, Transform

_FORMATS = {
    "e164": PhoneNumberFormat.E164,
    "international": PhoneNumberFormat.INTERNATIONAL,
    "national": PhoneNumberFormat.NATIONAL,
}


class Phone(Transform):
    """A phone number → E.164 (``044 668 18 00`` → ``+41446681800``), numbers without a
    country code read in ``region`` (default CH).

    The reverse formats as ``format``: ``international`` (default), ``national`` (for
    numbers of ``region``; others international) or ``e164``. ``invalid`` decides what
    an invalid number does: ``error`` (default: the record fails), ``keep`` or ``empty``.
    """

    name = "phone"
    reversible = True
    blank_is_empty = True
    output_type = OutputType.string

    def __init__(self, args: Args) -> None:
        self.region = args.get("region", str, "CH").upper()
        if self.region not in phonenumbers.SUPPORTED_REGIONS:
            raise args.error("region", f"unknown region {self.region!r}")
        self.format = args.choice("format", _FORMATS, "international")
        self.invalid = args.choice("invalid", ("error", "keep", "empty"), "error")

    def _forward(self, value: object) -> object:
        number = self.parse(value)
        return self._invalid(value) if number is None else self.show(number, "e164")

    def _reverse(self, value: object) -> object:
        number = self.parse(value)
        return self._invalid(value) if number is None else self.show(number, self.format)

    def parse(self, value: object) -> PhoneNumber | None:
        """The number in ``value``, None if it is no valid phone number."""
        try:
            number = phonenumbers.parse(str(value), self.region)
        except phonenumbers.NumberParseException:
            return None
        return number if phonenumbers.is_valid_number(number) else None

    def show(self, number: PhoneNumber, fmt: str) -> str:
        """``number`` in a format; ``national`` only for numbers of the default region."""
        foreign = phonenumbers.region_code_for_number(number) != self.region
        if fmt == "national" and foreign:
            fmt = "international"
        return phonenumbers.format_number(number, _FORMATS[fmt])

    def _invalid(self, value: object) -> object:
        if self.invalid == "error":
            raise self._reject(value, "not a valid phone number")
        return value if self.invalid == "keep" else ""
