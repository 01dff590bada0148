"""Loading mapping tables and interface files: safe YAML, located problems, ``${VAR}``."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from app.sync.mapping.loader import (
    MAX_FILE_BYTES,
    load_interface_file,
    load_mapping,
    read_interface_file,
    read_mapping,
)
from app.sync.mapping.model import Direction
from app.sync.mapping.problems import MappingError, MappingProblem

ENV = {"HUBSPOT_TOKEN": "pat-na1-secret", "ERP_PASSWORD": "pw"}


def yaml_text(text: str) -> str:
    """Dedented YAML whose first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


TABLE = yaml_text("""
    objects:
      - name: companies
        source: {object: customers, key: customer_no}
        hubspot: {object: companies, match: erp_customer_no}
        direction: both
        fields:
          - {source: name, hubspot: name}
          - source: country_code
            hubspot: country
            transform: {map: {CH: Switzerland}}
      - name: contacts
        source: {object: persons, key: person_id}
        hubspot: {object: contacts, match: email}
        fields:
          - {source: email, hubspot: email, transform: [trim, lower]}
        associations:
          - {field: customer_no, to: companies}
""")


def interface_text(interval: int = 15) -> str:
    return yaml_text(f"""
        tenant: acme
        name: erp-companies
        interval_minutes: {interval}
        source:
          connector: sql
          config: {{url: "postgresql://erp:${{ERP_PASSWORD}}@127.0.0.1/erp"}}
        hubspot:
          base_url: http://127.0.0.1:8100
          access_token: ${{HUBSPOT_TOKEN}}
        mapping:
        """) + textwrap.indent(TABLE, "  ")


def problems_of(text: str, **kwargs: object) -> list[MappingProblem]:
    with pytest.raises(MappingError) as caught:
        load_mapping(text, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def only_problem(text: str) -> MappingProblem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def broken(old: str, new: str) -> str:
    assert old in TABLE
    return TABLE.replace(old, new, 1)


class TestLoadMapping:
    def test_a_bare_table_loads(self) -> None:
        table = load_mapping(TABLE)

        companies = table.mapping("companies")
        assert companies.direction == Direction.both
        assert [f.hubspot for f in companies.fields] == ["name", "country"]
        assert table.mapping("contacts").fields[0].transform == ["trim", "lower"]

    def test_the_mapping_of_an_interface_file_loads(self) -> None:
        assert load_mapping(interface_text()) == load_mapping(TABLE)

    def test_the_locator_finds_lines_relative_to_the_table(self) -> None:
        in_table = read_mapping(TABLE).locator
        in_interface = read_mapping(interface_text()).locator

        assert in_table.line(("objects", 0, "fields", 1, "transform")) == 10
        assert in_interface.line(("objects", 0, "fields", 1, "transform")) == 20
        assert in_table.line(("objects", 1, "associations", 0)) == 17

    def test_a_missing_path_falls_back_to_its_nearest_parent(self) -> None:
        locator = read_mapping(TABLE).locator

        assert locator.line(("objects", 1, "fields", 0, "default")) == 15


class TestModelProblems:
    def test_a_bad_enum_value_names_object_field_and_line(self) -> None:
        problem = only_problem(broken("transform: [trim, lower]}", "direction: sideways}"))

        assert (problem.object, problem.field, problem.line) == ("contacts", "email", 15)
        assert problem.message.startswith("direction: Input should be 'to_hubspot'")

    def test_a_misspelt_key_is_refused_on_its_own_line(self) -> None:
        problem = only_problem(broken("transform: {map", "transfrom: {map"))

        assert (problem.object, problem.field, problem.line) == ("companies", "country", 10)
        assert problem.message == "transfrom: Extra inputs are not permitted"

    def test_a_missing_key_is_reported_at_its_parent(self) -> None:
        problem = only_problem(broken("{object: persons, key: person_id}", "{object: persons}"))

        assert (problem.object, problem.field, problem.line) == ("contacts", "source.key", 12)
        assert problem.message == "Field required"

    def test_a_rule_of_the_model_names_the_field(self) -> None:
        problem = only_problem(broken("{source: name, hubspot: name}", "{hubspot: name}"))

        assert (problem.object, problem.field, problem.line) == ("companies", "name", 7)
        assert problem.message == "a field needs `source`, `template` or `default`"

    def test_a_field_without_names_is_named_by_its_position(self) -> None:
        problems = problems_of(broken("{source: name, hubspot: name}", "{direction: both}"))

        assert {(p.object, p.field, p.line) for p in problems} == {("companies", "fields[0]", 7)}

    def test_the_branches_of_a_union_are_one_problem(self) -> None:
        problem = only_problem(broken("transform: {map: {CH: Switzerland}}", "transform: 5"))

        assert (problem.object, problem.field, problem.line) == ("companies", "country", 10)
        assert "valid string; or Input should be a valid dictionary" in problem.message

    def test_an_unknown_transform_is_refused_with_its_line(self) -> None:
        problem = only_problem(broken("transform: [trim, lower]", "transform: [trim, shout]"))

        assert (problem.object, problem.field, problem.line) == ("contacts", "email", 15)
        assert "shout: unknown transform" in problem.message

    def test_a_template_the_sandbox_refuses_is_refused_with_its_line(self) -> None:
        text = broken(
            "{source: name, hubspot: name}", "{hubspot: name, template: '{{ x.__class__ }}'}"
        )
        problem = only_problem(text)

        assert (problem.object, problem.field, problem.line) == ("companies", "name", 7)
        assert problem.message.startswith("template")

    def test_an_object_without_a_name_is_named_by_its_position(self) -> None:
        problems = problems_of(broken("  - name: contacts\n", "  - nam: contacts\n"))

        assert [(p.object, p.field, p.line, p.message) for p in problems] == [
            ("objects[1]", "name", 11, "Field required"),
            ("objects[1]", "nam", 11, "Extra inputs are not permitted"),
        ]

    def test_every_problem_is_reported_in_file_order(self) -> None:
        text = broken("transform: [trim, lower]", "transform: 5")
        text = text.replace("direction: both", "direction: sideways")

        problems = problems_of(text)

        assert [(p.object, p.line) for p in problems] == [("companies", 5), ("contacts", 15)]

    def test_the_message_lists_file_line_object_and_field(self) -> None:
        with pytest.raises(MappingError) as caught:
            load_mapping(
                broken("transform: [trim, lower]", "transform: [shout]"), source_name="t.yaml"
            )

        assert str(caught.value).startswith("t.yaml:15: contacts › email: transform shout:")

    def test_a_problem_of_the_whole_table_names_the_mapping(self) -> None:
        problem = only_problem(broken("to: companies", "to: firms"))

        assert problem.message == "contacts: association to unknown object mapping 'firms'"
        assert problem.line == 1

    def test_a_key_given_twice_is_refused(self) -> None:
        problem = only_problem(
            broken("direction: both\n", "direction: both\n    direction: both\n")
        )

        assert (problem.field, problem.line) == ("direction", 6)


BOMB = yaml_text("""
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
""")


class TestUnsafeYaml:
    @pytest.fixture
    def nothing_composed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Fail the test if a node tree is built: refusals must come before."""

        def refuse(*_args: object) -> None:
            raise AssertionError("the document was composed")

        monkeypatch.setattr(yaml.SafeLoader, "get_single_node", refuse)

    @pytest.mark.usefixtures("nothing_composed")
    def test_an_alias_bomb_is_refused_before_it_is_built(self) -> None:
        problem = only_problem(BOMB)

        assert problem.line == 1
        assert "anchors and aliases" in problem.message

    @pytest.mark.usefixtures("nothing_composed")
    @pytest.mark.parametrize(
        ("text", "line"),
        [("a: 1\nb: &x 2\n", 2), ("base: {a: 1}\nother:\n  <<: *base\n", 3)],
        ids=["anchor", "merge key"],
    )
    def test_any_anchor_or_alias_is_refused(self, text: str, line: int) -> None:
        assert only_problem(text).line == line

    def test_an_oversized_file_is_refused_unread(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(yaml, "parse", None)  # calling it would fail the test
        text = TABLE + "#" * MAX_FILE_BYTES

        problem = only_problem(text)

        assert problem.line is None
        assert "512 KiB" in problem.message

    def test_a_file_at_the_size_limit_is_read(self) -> None:
        text = TABLE + "#" * (MAX_FILE_BYTES - len(TABLE.encode()))

        assert load_mapping(text).objects[0].name == "companies"

    def test_deep_nesting_is_refused(self) -> None:
        problem = only_problem("a: " + "[" * 30 + "]" * 30 + "\n")

        assert "nested more than" in problem.message

    def test_python_tags_are_refused(self) -> None:
        problem = only_problem('objects: !!python/object/apply:os.system ["true"]\n')

        assert problem.line == 1
        assert "not valid YAML" in problem.message


class TestYamlSyntax:
    def test_a_syntax_error_has_its_line(self) -> None:
        problem = only_problem(broken("hubspot: name}", "hubspot: name}}"))

        assert problem.line == 7
        assert problem.object is None
        assert problem.message.startswith("not valid YAML")

    def test_a_tab_indent_has_its_line(self) -> None:
        assert only_problem("objects:\n\t- name: x\n").line == 2

    @pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
    def test_a_document_that_is_no_mapping_is_refused(self, text: str) -> None:
        assert "must be a YAML mapping" in only_problem(text).message

    def test_several_documents_are_refused(self) -> None:
        problem = only_problem(TABLE + "---\nobjects: []\n")

        assert problem.line == 18
        assert "single document" in problem.message


class TestInterfaceFile:
    def test_it_loads_with_references_resolved(self) -> None:
        interface = load_interface_file(interface_text(), environ=ENV)

        assert (interface.tenant, interface.name, interface.interval_minutes) == (
            "acme",
            "erp-companies",
            15,
        )
        assert interface.source.config["url"] == "postgresql://erp:pw@127.0.0.1/erp"
        assert interface.hubspot.access_token is not None
        assert interface.hubspot.access_token.get_secret_value() == "pat-na1-secret"
        assert "pat-na1-secret" not in repr(interface)
        assert interface.mapping == load_mapping(TABLE)

    def test_the_environment_is_the_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in ENV.items():
            monkeypatch.setenv(name, value)

        interface = load_interface_file(interface_text())

        assert interface.hubspot.access_token is not None
        assert interface.hubspot.access_token.get_secret_value() == "pat-na1-secret"

    def test_a_missing_variable_is_named_with_its_line(self) -> None:
        with pytest.raises(MappingError) as caught:
            load_interface_file(interface_text(), environ={"ERP_PASSWORD": "pw"})

        [problem] = caught.value.problems
        assert (problem.field, problem.line) == ("hubspot.access_token", 9)
        assert problem.message == "environment variable HUBSPOT_TOKEN is not set"

    def test_references_in_the_mapping_are_left_alone(self) -> None:
        text = interface_text().replace("hubspot: name}", "hubspot: name, default: '${X}'}")

        interface = load_interface_file(text, environ=ENV)

        assert interface.mapping.objects[0].fields[0].default == "${X}"

    @pytest.mark.parametrize("interval", [9, 46])
    def test_an_interval_outside_the_range_is_refused_naming_it(self, interval: int) -> None:
        with pytest.raises(MappingError) as caught:
            load_interface_file(interface_text(interval), environ=ENV)

        [problem] = caught.value.problems
        assert (problem.field, problem.line) == ("interval_minutes", 3)
        assert "between 10 and 45" in problem.message

    @pytest.mark.parametrize("interval", [10, 45])
    def test_the_ends_of_the_range_are_accepted(self, interval: int) -> None:
        assert (
            load_interface_file(interface_text(interval), environ=ENV).interval_minutes == interval
        )

    def test_token_and_connection_together_are_refused(self) -> None:
        text = interface_text().replace("${HUBSPOT_TOKEN}\n", "t\n  connection: portal\n")

        with pytest.raises(MappingError) as caught:
            load_interface_file(text, environ=ENV)

        [problem] = caught.value.problems
        assert (problem.field, problem.line) == ("hubspot", 7)
        assert "exactly one of `access_token` and `connection`" in problem.message

    def test_mapping_problems_keep_file_lines_and_names(self) -> None:
        text = interface_text().replace("transform: [trim, lower]", "direction: sideways")

        with pytest.raises(MappingError) as caught:
            read_interface_file(text, environ=ENV)

        [problem] = caught.value.problems
        assert (problem.object, problem.field, problem.line) == ("contacts", "email", 25)
