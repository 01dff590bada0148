"""Text transforms: trim, case, truncate, replace, default, constant, domain, split, join."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from app.sync.mapping.transforms.base import Args, OutputType, Transform, is_empty

HUBSPOT_MULTI_SEPARATOR = ";"
_HOST = re.compile(r"^(?:[\w-]+\.)+[\w-]+$")  # letters incl. IDN, digits, "_", "-"


class _Text(Transform):
    """A normaliser of text: the reverse takes a HubSpot value as it is."""

    reversible = True

    def _forward(self, value: object) -> object:
        return self.apply(value if isinstance(value, str) else str(value))

    def apply(self, text: str) -> str:
        """The transform on one piece of text."""
        raise NotImplementedError


class Trim(_Text):
    """Leading and trailing whitespace removed."""

    name = "trim"

    def apply(self, text: str) -> str:
        """``text`` without surrounding whitespace."""
        return text.strip()


class Case(_Text):
    """Lower, upper or title case."""

    def __init__(self, name: str, change: Callable[[str], str]) -> None:
        self.name = name
        self.change = change

    def apply(self, text: str) -> str:
        """``text`` in this case."""
        return self.change(text)


class Truncate(_Text):
    """Text cut to at most ``length`` characters (HubSpot's text limit is 65,536)."""

    name = "truncate"

    def __init__(self, args: Args) -> None:
        self.length = args.require("length", int)
        if self.length < 1:
            raise args.error("length", "must be at least 1")

    def apply(self, text: str) -> str:
        """``text``, cut to length."""
        return text[: self.length]


class Replace(_Text):
    """Every occurrence of a literal text replaced (no regular expressions)."""

    name = "replace"
    reversible = False

    def __init__(self, args: Args) -> None:
        self.old = args.require("old", str)
        self.new = args.get("new", str, "")
        if not self.old:
            raise args.error("old", "must not be empty")

    def apply(self, text: str) -> str:
        """``text`` with the replacements."""
        return text.replace(self.old, self.new)


class Default(Transform):
    """A value for empty ones (the one transform that changes an empty value)."""

    name = "default"
    reversible = True  # a HubSpot value is taken as it is

    def __init__(self, args: Args) -> None:
        self.value = args.require_scalar("value")

    def forward(self, value: object) -> object:
        """``value``, or the default when it is empty."""
        return self.value if is_empty(value) else value

    def reverse(self, value: object) -> object:
        """The HubSpot value as it is."""
        return value

    def values_after(self, values: frozenset[str] | None) -> frozenset[str] | None:
        """The previous closed set plus the default."""
        return None if values is None else values | {str(self.value)}


class Constant(Transform):
    """Always the same value, whatever the source holds; no reverse."""

    name = "constant"

    def __init__(self, args: Args) -> None:
        value = args.require_scalar("value")
        self.value = value
        if isinstance(value, bool):
            self.output_type, shown = OutputType.boolean, str(value).lower()
        elif isinstance(value, int | float):
            self.output_type, shown = OutputType.number, str(value)
        else:
            self.output_type, shown = OutputType.enumeration, value
        self.output_values = frozenset({shown})

    def forward(self, value: object) -> object:
        """The constant."""
        return self.value


class Domain(_Text):
    """The domain of a URL, website or e-mail address, without ``www.``; no reverse.

    Text with no recognisable domain gives ``""``; this transform never fails.
    """

    name = "domain"
    reversible = False
    output_type = OutputType.string

    def apply(self, text: str) -> str:
        """``https://www.muster.ch/kontakt`` → ``muster.ch``."""
        text = text.strip()  # an e-mail address reads as user@host
        try:
            host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
        except ValueError:  # e.g. an unbalanced "[" read as an IPv6 address
            return ""
        host = host.rstrip(".")
        if host.startswith("www.") and "." in host[4:]:
            host = host[4:]
        return host if _HOST.match(host) else ""


class Split(Transform):
    """Text → list at a separator, items trimmed, empty items dropped; reverse joins."""

    name = "split"
    reversible = True

    def __init__(self, args: Args) -> None:
        self.separator = args.get("separator", str, HUBSPOT_MULTI_SEPARATOR)
        if not self.separator:
            raise args.error("separator", "must not be empty")

    def forward(self, value: object) -> object:
        """``"a, b"`` → ``["a", "b"]`` (a list stays a list)."""
        return split(value, self.separator)

    def reverse(self, value: object) -> object:
        """``["a", "b"]`` → ``"a,b"``."""
        return join(value, self.separator)


class Join(Split):
    """List → text with a separator (HubSpot multi-select: ``;``); reverse splits."""

    name = "join"

    def forward(self, value: object) -> object:
        """``["a", "b"]`` → ``"a;b"`` (text stays text)."""
        return join(value, self.separator)

    def reverse(self, value: object) -> object:
        """``"a;b"`` → ``["a", "b"]``."""
        return split(value, self.separator)


def split(value: object, separator: str) -> object:
    """Text split into trimmed, non-empty items; empty values and lists unchanged."""
    if is_empty(value) or isinstance(value, list | tuple):
        return value
    items = (item.strip() for item in str(value).split(separator))
    return [item for item in items if item]


def join(value: object, separator: str) -> object:
    """A list joined with ``separator`` (empty items left out); other values unchanged."""
    if not isinstance(value, list | tuple):
        return value
    return separator.join(str(item) for item in value if not is_empty(item))
