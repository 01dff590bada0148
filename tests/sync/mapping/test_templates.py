"""Sandboxed templates: derived values from a record's fields, and nothing else."""

from __future__ import annotations

import pytest

from app.sync.mapping.templates import MAX_OUTPUT, TemplateError, compile_template


@pytest.mark.parametrize(
    ("source", "record", "expected"),
    [
        ("{{ first_name }} {{ last_name }}", {"first_name": "Hans", "last_name": "Muster"},
         "Hans Muster"),
        ("{{ street }} {{ house_no }}", {"street": "Bahnhofstrasse", "house_no": None},
         "Bahnhofstrasse"),
        ("{{ name|trim|upper }}", {"name": "  muster ag "}, "MUSTER AG"),
        ("{{ code|default('n/a') }}", {"code": ""}, "n/a"),
        ("{{ code|default('n/a') }}", {"code": None}, "n/a"),
        ("{{ tags|join(';') }}", {"tags": ["a", None, "b"]}, "a;b"),
        ("{{ name|replace('GmbH', 'AG') }}", {"name": "Muster GmbH"}, "Muster AG"),
        ("{% if vip %}VIP {% endif %}{{ name }}", {"vip": True, "name": "Muster"}, "VIP Muster"),
        ("{{ zip ~ ' ' ~ city }}", {"zip": 8001, "city": "Zürich"}, "8001 Zürich"),
        ("{{ address.city }}", {"address": {"city": "Bern"}}, "Bern"),
        ("{{ name|truncate(9, true, '') }}", {"name": "Muster und Söhne"}, "Muster un"),
        ("<b>{{ name }}</b>", {"name": "A & B"}, "<b>A & B</b>"),  # data, not HTML
    ],
)  # fmt: skip
def test_renders_derived_values(source: str, record: dict[str, object], expected: str) -> None:
    assert compile_template(source).render(record) == expected


def test_compiled_once_rendered_per_record_and_lists_its_fields() -> None:
    template = compile_template("{{ first_name }} {{ last_name|default('') }}")
    assert template.variables == {"first_name", "last_name"}
    assert template.render({"first_name": "Anna", "last_name": "Beispiel"}) == "Anna Beispiel"
    assert template.render({"first_name": "Hans", "last_name": None}) == "Hans"


def test_a_missing_field_is_named() -> None:
    template = compile_template("{{ first_name }} {{ last_name }}")
    with pytest.raises(TemplateError, match="last_name") as caught:
        template.render({"first_name": "Hans"})
    assert caught.value.variable == "last_name"
    assert caught.value.template == "{{ first_name }} {{ last_name }}"


def test_a_missing_key_inside_a_field_is_an_error_not_empty() -> None:
    with pytest.raises(TemplateError, match="town"):
        compile_template("{{ address.town }}").render({"address": {"city": "Bern"}})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ name._secret }}",
        "{{ name.upper() }}",
        "{{ range(10) }}",
        "{{ lipsum() }}",
        "{{ cycler }}{% for x in name %}{{ x }}{% endfor %}",
        "{% set x = 1 %}{{ x }}",
        "{% macro m() %}{% endmacro %}",
        "{% include 'other' %}",
        "{% import 'other' as o %}",
        "{{ name * 100000000 }}",
        "{{ 9 ** 999999 }}",
        "{{ '%099999999d' % 1 }}",
        "{{ name|format(1) }}",
        "{{ name|attr('__class__') }}",
        "{{ name|center(100000000) }}",
        "{{ name }",
    ],
)
def test_the_sandbox_refuses_at_compile_time(source: str) -> None:
    with pytest.raises(TemplateError):
        compile_template(source)


@pytest.mark.parametrize(
    "source", ["{{ name['__class__'] }}", "{{ name['__class__']['__mro__'] }}"]
)
def test_the_sandbox_refuses_internals_at_render_time(source: str) -> None:
    with pytest.raises(TemplateError, match="unsafe"):
        compile_template(source).render({"name": "x"})


def test_the_output_is_capped() -> None:
    blow_up = "{{ name|replace('', name)|replace('', name) }}"
    with pytest.raises(TemplateError, match="output limit"):
        compile_template(blow_up).render({"name": "x" * 300})
    long_field = compile_template("{{ a }}{{ a }}")
    with pytest.raises(TemplateError, match=str(MAX_OUTPUT)):
        long_field.render({"a": "x" * MAX_OUTPUT})


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError, match="line 2"):
        compile_template("{{ a }}\n{{ b }")
