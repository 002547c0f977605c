"""The one YAML reader (core/yamlfile.py): a line for every value, problems instead of crashes."""

import textwrap

import pytest

from learning.core.yamlfile import LineDict, LineList, load_file, load_text, read_yaml

TEXT = textwrap.dedent("""\
    title: yes
    version: 3.10
    options:
      - a
      - text: b
    nested:
      deep: 1
    """)


def _messages(text: str, line_offset: int = 0) -> list[str]:
    return [str(p) for p in read_yaml(text, "f.yaml", line_offset)[1]]


def test_every_value_knows_its_line_and_plain_text():
    root, problems = read_yaml(TEXT, "f.yaml")
    assert problems == [] and root is not None
    assert root.line == 1 and root.key_line("nested") == 6
    title = root.get("title")
    assert (title.value, title.raw, title.line) == (True, "yes", 1)
    assert root.get("version").raw == "3.10"
    # A block list or mapping is placed at its key, where an author looks for it.
    assert root.get("options").line == 3 and root.get("nested").line == 6
    assert [item.line for item in root.get("options").value] == [4, 5]


def test_plain_values_keep_their_lines():
    data, problems = load_text(TEXT, "f.yaml", line_offset=1)
    assert problems == []
    assert isinstance(data, LineDict) and data == {
        "title": True, "version": 3.1, "options": ["a", {"text": "b"}], "nested": {"deep": 1}}
    assert data.line == 2 and data.line_of("options") == 4 and data.line_of("missing") == 2
    assert isinstance(data["options"], LineList) and data["options"].item_lines == [5, 6]
    assert data["options"][1].line == 6


def test_empty_text_is_none_without_problems():
    assert read_yaml("", "f.yaml") == (None, [])
    assert load_text("# only a comment\n", "f.yaml") == (None, [])


@pytest.mark.parametrize("text, expected", [
    ("a: 1\nb: 2\na: 3\n", "f.yaml:3: key 'a' appears twice here (first at line 1); remove one"),
    ("? [a, b]\n: 1\n", "f.yaml:1: a key must be plain text"),
    ("when: 2026-13-45\n", "f.yaml:1: invalid YAML: cannot read '2026-13-45': month must be "
                           "in 1..12"),
    ("n: !!int many\n", "f.yaml:1: invalid YAML: cannot read 'many': invalid literal for int() "
                        "with base 10: 'many'"),
])
def test_what_pyyaml_lets_pass_is_a_problem(text, expected):
    assert _messages(text) == [expected]


def test_a_problem_stops_plain_loading_but_not_the_located_values():
    text = "a: 1\na: 2\nb: 3\n"
    root, problems = read_yaml(text, "f.yaml")
    assert root is not None and root.get("a").value == 1 and root.get("b").value == 3
    assert len(problems) == 1
    assert load_text(text, "f.yaml") == (None, problems)


@pytest.mark.parametrize("text, expected", [
    ("a:\n  - x\n b: y\n", "f.yaml:4: invalid YAML: while parsing a block mapping, expected "
                           "<block end>, but found '<block mapping start>' (check the "
                           "indentation of this line and the one above)"),
    ("text: Note: this\n", "f.yaml:2: invalid YAML: mapping values are not allowed here "
                           "(text containing ': ' must be in quotes)"),
    ("a:\n\tb: 1\n", "f.yaml:3: invalid YAML: while scanning for the next token, found "
                     "character '\\t' that cannot start any token (indent with spaces, not tabs)"),
    ("a: 1\nb: \x07\n", "f.yaml:3: invalid YAML: unacceptable character #x0007: special "
                        "characters are not allowed"),
])
def test_syntax_errors_give_the_line_and_a_hint(text, expected):
    assert _messages(text, line_offset=1) == [expected]


def test_load_file_reports_text_that_is_not_utf8(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes("a: caf\xe9\n".encode("latin-1"))
    data, problems = load_file(path, "f.yaml")
    assert data is None and [str(p) for p in problems] == ["f.yaml:0: not UTF-8 text (byte 6)"]


#: A "billion laughs": 237 bytes of aliases of aliases that stand for 9**6 values. Walking it
#: took 8 seconds before aliases were refused (each level more multiplies that by nine).
LAUGHS = "".join(f"{name}: &{name} [{','.join([item] * 9)}]\n" for name, item in (
    ("a", '"lol"'), ("b", "*a"), ("c", "*b"), ("d", "*c"), ("e", "*d"), ("f", "*e")))


@pytest.mark.parametrize("text, expected", [
    (LAUGHS, "f.yaml:1: invalid YAML: the anchor &a is not allowed (YAML anchors and aliases "
             "are refused): write the value out in full"),
    ("quiz: &a\n  self: *a\n", "f.yaml:1: invalid YAML: the anchor &a is not allowed (YAML "
                               "anchors and aliases are refused): write the value out in full"),
    ("a: 1\nb:\n  - *a\n", "f.yaml:3: invalid YAML: the alias *a is not allowed (YAML "
                            "anchors and aliases are refused): write the value out in full"),
])
def test_anchors_and_aliases_are_refused_at_their_line(text, expected):
    assert _messages(text) == [expected]
    assert load_text(text, "f.yaml")[0] is None
