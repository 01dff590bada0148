"""Number, integer and boolean transforms: ERP notations in, HubSpot's strings out."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from app.sync.mapping.transforms.base import Args, OutputType, Transform

_APOSTROPHES_AND_SPACES = ("'", "’", " ", "\u00a0", "\u202f")
TRUE_WORDS = ("1", "ja", "j", "yes", "y", "true", "wahr", "x", "on")
FALSE_WORDS = ("0", "nein", "n", "no", "false", "falsch", "off")


def decimal_text(number: Decimal) -> str:
    """A decimal as HubSpot reads it: plain digits, no exponent, no trailing zeros."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class Number(Transform):
    """A decimal number from text such as ``1'234.50`` or ``1.234,50``; HubSpot gets ``1234.5``.

    The reverse gives a ``Decimal``, or with ``text: true`` text in the source's notation
    (``places`` decimals, thousands grouped when ``group`` is true).
    """

    name = "number"
    reversible = True
    blank_is_empty = True
    output_type = OutputType.number

    def __init__(self, args: Args) -> None:
        self.decimal = args.choice("decimal", (".", ","), ".")
        other = "," if self.decimal == "." else "."
        given = args.get("thousands", object, None)
        listed = given if isinstance(given, list) else [] if given is None else [given]
        self.thousands: tuple[str, ...] = tuple(t for t in listed if isinstance(t, str) and t)
        if len(self.thousands) != len(listed) or self.decimal in self.thousands:
            raise args.error("thousands", "must be text other than the decimal separator")
        self.separators = self.thousands or (*_APOSTROPHES_AND_SPACES, other)
        group_by = "|".join(re.escape(s) for s in self.separators)
        self.pattern = re.compile(
            rf"^[+-]?(?:\d+|\d{{1,3}}(?:(?:{group_by})\d{{3}})+)(?:{re.escape(self.decimal)}\d+)?$"
        )
        self.text = args.get("text", bool, False)
        self.places = args.get("places", int, None)
        self.group = args.get("group", bool, False)
        if self.group and len(self.thousands) != 1:
            raise args.error("group", "needs one `thousands` separator to group with")
        if self.places is not None and not 0 <= self.places <= 20:
            raise args.error("places", "must be between 0 and 20")

    def parse(self, value: object) -> Decimal:
        """The value as a finite ``Decimal``."""
        if isinstance(value, bool):
            raise self._reject(value, "a true/false value is no number")
        if isinstance(value, int | Decimal | float):
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            if number.is_finite():
                return number
            raise self._reject(value, "not a finite number")
        text = str(value).strip()
        if not self.pattern.match(text):  # thousands separators only between groups of three
            raise self._reject(value, "not a number in the configured notation")
        for separator in self.separators:
            text = text.replace(separator, "")
        return Decimal(text.replace(self.decimal, "."))

    def _forward(self, value: object) -> object:
        return decimal_text(self.parse(value))

    def _reverse(self, value: object) -> object:
        number = self.parse(value) if not isinstance(value, str) else self._hubspot(value)
        if self.places is not None:
            number = number.quantize(Decimal(1).scaleb(-self.places))
        return self.format(number) if self.text else number

    def _hubspot(self, text: str) -> Decimal:
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            raise self._reject(text, "HubSpot sent no number") from None
        if not number.is_finite():
            raise self._reject(text, "HubSpot sent no finite number")
        return number

    def format(self, number: Decimal) -> str:
        """A decimal in the source's notation."""
        grouping = "," if self.group else ""
        text = format(number, f"{grouping}f")
        swap = {",": self.thousands[0] if self.group else "", ".": self.decimal}
        return "".join(swap.get(char, char) for char in text)


class Integer(Number):
    """A whole number (``"12.00"`` is 12, ``"12.5"`` is refused); the reverse gives an ``int``."""

    name = "integer"
    output_type = OutputType.integer

    def _forward(self, value: object) -> object:
        return str(self.whole(value, self.parse(value)))

    def _reverse(self, value: object) -> object:
        text = value.strip() if isinstance(value, str) else value
        return self.whole(value, self._hubspot(text) if isinstance(text, str) else self.parse(text))

    def whole(self, value: object, number: Decimal) -> int:
        """``number`` as an ``int``, refusing a fraction."""
        if number != number.to_integral_value():
            raise self._reject(value, "not a whole number")
        return int(number)


class Boolean(Transform):
    """Yes/no words (ja, nein, x, 1, 0, …) → HubSpot's ``true`` / ``false``.

    The reverse gives ``true_value`` / ``false_value`` when set, else a Python ``bool``.
    """

    name = "boolean"
    reversible = True
    blank_is_empty = True
    output_type = OutputType.boolean
    output_values = frozenset({"true", "false"})

    def __init__(self, args: Args) -> None:
        self.true_words = self._words(args, "true_words", TRUE_WORDS)
        self.false_words = self._words(args, "false_words", FALSE_WORDS)
        if self.true_words & self.false_words:
            raise args.error("false_words", "shares words with true_words")
        self.true_value = args.scalar("true_value", True)
        self.false_value = args.scalar("false_value", False)

    @staticmethod
    def _words(args: Args, name: str, default: tuple[str, ...]) -> frozenset[str]:
        words = args.get(name, list, list(default))
        if not words or not all(
            isinstance(w, str | int) and not isinstance(w, bool) for w in words
        ):
            raise args.error(name, "must be a non-empty list of words")
        return frozenset(str(w).strip().casefold() for w in words)

    def parse(self, value: object, true_words: frozenset[str], false_words: frozenset[str]) -> bool:
        """The truth of ``value`` by the given words."""
        if isinstance(value, bool):
            return value
        word = str(value).strip().casefold()
        if word in true_words:
            return True
        if word in false_words:
            return False
        raise self._reject(value, "neither a yes nor a no word")

    def _forward(self, value: object) -> object:
        return "true" if self.parse(value, self.true_words, self.false_words) else "false"

    def _reverse(self, value: object) -> object:
        truth = self.parse(value, self.true_words | {"true"}, self.false_words | {"false"})
        return self.true_value if truth else self.false_value
