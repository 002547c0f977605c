"""Quiz definitions in quizzes/*.yaml: read with line numbers, checked, frozen into Quiz objects."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from learning.core.problems import Problem
from learning.core.yamlfile import Located, read_yaml
from learning.quizzes.questions import (
    Checker,
    Fields,
    as_text,
    build_question,
    question_from_snapshot,
)
from learning.quizzes.types import (
    ANSWER_TIMINGS,
    FEEDBACK_TIMINGS,
    ID_RE,
    LAYOUTS,
    TEACHES_RE,
    Draw,
    Question,
    Quiz,
    QuizSettings,
    question_to_yaml_data,
)

__all__ = [
    "load_quiz_file", "load_quizzes", "parse_quiz_text", "question_from_snapshot",
    "question_to_yaml_data", "quiz_to_yaml",
]

_SETTINGS_KEYS = (
    "pass_mark", "attempts_allowed", "delay_minutes", "shuffle_questions", "shuffle_options",
    "draw", "time_limit_minutes", "feedback", "show_correct_answers", "layout",
    "counts_toward_completion",
)

#: Each module's sections by anchor (the id of its heading) with the heading's text: what a
#: question's `teaches:` may point at. None: not known, so anchors are not checked.
Sections = Mapping[str, Mapping[str, str]] | None


def load_quizzes(
    directory: Path, known_modules: set[str] | None = None, sections: Sections = None
) -> tuple[dict[str, Quiz], list[Problem]]:
    """Every quizzes/*.yaml (and *.yml) by slug, plus every problem found; never raises.

    A file with any error is left out; warnings don't stop it loading. When two files
    share a slug, the first by file name wins and the other is reported.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return {}, [Problem(str(directory), 0, "quiz folder not found")]
    quizzes: dict[str, Quiz] = {}
    problems: list[Problem] = []
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")], key=lambda p: p.name)
    for path in paths:
        quiz, found, slug_line = _load_path(path, known_modules, sections)
        problems.extend(found)
        if quiz is None:
            continue
        if quiz.slug in quizzes:
            problems.append(Problem(
                f"{path.parent.name}/{path.name}", slug_line,
                f"quiz has slug '{quiz.slug}', which {quizzes[quiz.slug].path} already uses; "
                "each quiz needs its own slug",
            ))
            continue
        quizzes[quiz.slug] = quiz
    return quizzes, problems


def load_quiz_file(
    path: Path, known_modules: set[str] | None = None, sections: Sections = None
) -> tuple[Quiz | None, list[Problem]]:
    """One quiz file: the Quiz (None if it has errors) and its problems; never raises."""
    quiz, problems, _ = _load_path(Path(path), known_modules, sections)
    return quiz, problems


def parse_quiz_text(
    text: str, path_label: str, known_modules: set[str] | None = None, sections: Sections = None
) -> tuple[Quiz | None, list[Problem]]:
    """Like load_quiz_file, for YAML text already in hand; problems name `path_label`."""
    quiz, problems, _ = _parse(text, path_label, known_modules, sections)
    return quiz, problems


def _load_path(
    path: Path, known_modules: set[str] | None, sections: Sections
) -> tuple[Quiz | None, list[Problem], int]:
    # Name files as an author sees them: quizzes/x.yaml, not the full path on the server.
    label = f"{path.parent.name}/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(label, 0, f"cannot read the file: {exc}")], 0
    return _parse(text, label, known_modules, sections)


def _parse(
    text: str, path_label: str, known_modules: set[str] | None, sections: Sections
) -> tuple[Quiz | None, list[Problem], int]:
    ck = Checker(path_label)
    root = _read_yaml(text, ck)
    quiz = None if root is None else _build_quiz(root, ck, known_modules, sections)
    if root is not None and quiz is not None and ck.error_count() == 0:
        stem = Path(path_label).stem
        if Path(path_label).suffix in (".yaml", ".yml") and stem != quiz.slug:
            ck.warn(_slug_line(root), f"quiz has slug '{quiz.slug}' but the file is called "
                                      f"'{Path(path_label).name}'; keep them the same")
    problems = sorted(ck.problems, key=lambda p: p.line)  # stable: same-line order is kept
    if ck.error_count():
        quiz = None
    return quiz, problems, 0 if root is None else _slug_line(root)


def _slug_line(root: Located) -> int:
    header = root.get("quiz")
    slug = header.get("slug") if header is not None else None
    return slug.line if slug is not None else root.line


def _read_yaml(text: str, ck: Checker) -> Located | None:
    """The file's YAML with its lines; what is wrong with the YAML itself goes to `ck`."""
    root, problems = read_yaml(text, ck.path)
    ck.problems.extend(problems)
    if root is None and not problems:
        ck.error(1, "the file is empty; it needs the keys 'quiz' and 'questions'")
    return root


# --- the quiz header and settings ----------------------------------------------------------


def _build_quiz(root: Located, ck: Checker, known_modules: set[str] | None,
                sections: Sections) -> Quiz | None:
    if not isinstance(root.value, dict):
        ck.error(root.line, "the file must be a mapping with the keys 'quiz' and 'questions'")
        return None
    top = Fields(ck, root, "the file")
    top.check_keys(("quiz", "questions"), required=("quiz", "questions"))
    header = root.get("quiz")
    if header is None or header.value is None:
        return None
    if not isinstance(header.value, dict):
        ck.error(header.line, "quiz must be a mapping with keys such as slug, title and settings")
        return None
    h = Fields(ck, header, "quiz")
    h.check_keys(("slug", "title", "modules", "intro", "settings"), required=("slug", "title"))
    slug = h.text("slug", required=True)
    if slug and not ID_RE.match(slug):
        h.error("slug", f"has slug '{slug}'; slugs must use only a-z, 0-9 and single '-' "
                        "between words")
    modules = _modules(h, known_modules)
    settings, draw_node = _settings(header.get("settings"), ck)
    questions = _questions(root.get("questions"), ck, modules, sections)
    if questions is not None and settings.draw is not None and draw_node is not None:
        _check_draw(settings.draw, draw_node, questions, ck)
    quiz = Quiz(
        slug=slug, title=h.text("title", required=True), modules=modules,
        intro=h.text("intro"), settings=settings, questions=tuple(q for q, _ in questions or ()),
        path=ck.path,
    )
    return quiz if ck.error_count() == 0 else None


def _modules(h: Fields, known_modules: set[str] | None) -> tuple[str, ...]:
    node = h.data.get("modules")
    if node is None or node.value in (None, []):
        h.ck.warn(h.line("modules"), "quiz has no modules, so no module will show it")
        return ()
    entries = h.sequence("modules")
    if entries is None:
        return ()
    modules: list[str] = []
    for node in entries:
        name = as_text(node) or ""
        if not ID_RE.match(name):
            h.ck.error(node.line, f"quiz has module '{name}'; module slugs use only a-z, 0-9 "
                                  "and '-'")
        elif known_modules is not None and name not in known_modules:
            hint = difflib.get_close_matches(name, sorted(known_modules), n=1)
            h.ck.error(node.line, f"quiz has module '{name}', which does not exist"
                                  + (f"; did you mean '{hint[0]}'?" if hint else ""))
        elif name in modules:
            h.ck.error(node.line, f"quiz has module '{name}' twice")
        else:
            modules.append(name)
    return tuple(modules)


def _settings(node: Located | None, ck: Checker) -> tuple[QuizSettings, Located | None]:
    default = QuizSettings()
    if node is None or node.value is None:
        return default, None
    if not isinstance(node.value, dict):
        ck.error(node.line, "settings must be a mapping such as 'pass_mark: 80'")
        return default, None
    s = Fields(ck, node, "settings")
    s.check_keys(_SETTINGS_KEYS)
    attempts = _whole(s, "attempts_allowed", None, 1, "or 'unlimited'")
    draw_node = s.data.get("draw")
    return QuizSettings(
        pass_mark=s.number("pass_mark", default.pass_mark, 0, 100,
                           "pass_mark must be between 0 and 100") or 0,
        attempts_allowed=attempts,
        delay_minutes=_whole(s, "delay_minutes", 0, 0) or 0,
        shuffle_questions=s.boolean("shuffle_questions", default.shuffle_questions),
        shuffle_options=s.boolean("shuffle_options", default.shuffle_options),
        draw=_draw(draw_node, ck),
        time_limit_minutes=_whole(s, "time_limit_minutes", None, 1),
        feedback=_choice(s, "feedback", default.feedback, FEEDBACK_TIMINGS),
        show_correct_answers=_choice(
            s, "show_correct_answers", default.show_correct_answers, ANSWER_TIMINGS
        ),
        layout=_choice(s, "layout", default.layout, LAYOUTS),
        counts_toward_completion=s.boolean(
            "counts_toward_completion", default.counts_toward_completion
        ),
    ), draw_node


def _whole(s: Fields, key: str, default: int | None, least: int, extra: str = "") -> int | None:
    """A whole number of at least `least` ('unlimited' is allowed when `extra` says so)."""
    node = s.data.get(key)
    if node is None or node.value is None:
        return default
    if extra and node.value == "unlimited":
        return None
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        rule = f"{key} must be a whole number of at least {least}" + (f" {extra}" if extra else "")
        shown = f"'{value}'" if isinstance(value, str) else value
        s.error(key, f"has {key} {shown}; {rule}")
        return default
    return value


def _choice(s: Fields, key: str, default: str, allowed: tuple[str, ...]) -> str:
    node = s.data.get(key)
    if node is None or node.value is None:
        return default
    if node.value not in allowed:
        s.error(key, f"has {key} '{as_text(node)}'; {key} must be one of: {', '.join(allowed)}")
        return default
    return node.value


def _draw(node: Located | None, ck: Checker) -> Draw | None:
    if node is None or node.value is None:
        return None
    if not isinstance(node.value, dict):
        ck.error(node.line, "settings has draw that is not a mapping; "
                            "write 'draw: {total: 10}' or 'draw: {per_category: {law: 4}}'")
        return None
    d = Fields(ck, node, "settings: draw")
    d.check_keys(("total", "per_category"))
    if ("total" in d.data) == ("per_category" in d.data):
        d.error(None, "needs exactly one of 'total' and 'per_category'")
        return None
    if "total" in d.data:
        total = _whole(d, "total", None, 1)
        return None if total is None else Draw(total=total)
    per = d.data["per_category"]
    if not isinstance(per.value, dict) or not per.value:
        d.error("per_category", "has per_category that is not a mapping of category: count")
        return None
    counts = Fields(ck, per, "settings: draw per_category")
    pairs = [(name, _whole(counts, name, None, 1)) for name in per.value]
    if any(n is None for _, n in pairs):
        return None
    return Draw(per_category=tuple((name, n) for name, n in pairs if n is not None))


def _check_draw(
    draw: Draw, node: Located, questions: list[tuple[Question, int]], ck: Checker
) -> None:
    """A draw may not ask for more questions than there are (in total or in a category)."""
    # Descriptions are never drawn: they stay with the quiz (grading.select_questions).
    questions = [(q, line) for q, line in questions if not q.is_description]
    if draw.total is not None:
        total = node.get("total")
        if draw.total > len(questions):
            ck.error(total.line if total else node.line,
                     f"settings: draw has total {draw.total}, but the quiz has only "
                     f"{len(questions)} questions")
        return
    per = node.get("per_category")
    assert per is not None
    for name, wanted in draw.per_category:
        have = sum(1 for q, _ in questions if q.category == name)
        line = per.value[name].line
        if have == 0:
            ck.error(line, f"settings: draw per_category has '{name}', but no question has "
                           f"category '{name}'")
        elif wanted > have:
            ck.error(line, f"settings: draw per_category asks for {wanted} questions from "
                           f"'{name}', but only {have} questions have that category")
    drawn = {name for name, _ in draw.per_category}
    for question, line in questions:
        if question.category not in drawn:
            label = f"category '{question.category}'" if question.category else "no category"
            ck.warn(line, f"question '{question.id}' has {label}, which the draw does not "
                          "use, so it is never asked")


def _questions(node: Located | None, ck: Checker, modules: tuple[str, ...] = (),
               sections: Sections = None) -> list[tuple[Question, int]] | None:
    """Each good question with its line; duplicate ids and `teaches:` pointing at no section
    are errors."""
    if node is None or node.value is None:
        return None
    if not isinstance(node.value, list):
        ck.error(node.line, "questions must be a list, each entry starting with '- id: ...'")
        return None
    if not node.value:
        ck.error(node.line, "questions is empty; a quiz needs at least one question")
        return None
    built: list[tuple[Question, int]] = []
    first_line: dict[str, int] = {}
    for index, entry in enumerate(node.value, 1):
        id_node = entry.get("id")
        id_line = id_node.line if id_node is not None else entry.line
        qid = as_text(id_node) if id_node is not None else None
        if qid and qid in first_line:
            ck.error(id_line, f"question '{qid}' has the same id as the question at line "
                              f"{first_line[qid]}; ids must be unique within a quiz")
        elif qid:
            first_line[qid] = id_line
        question = build_question(entry, ck, index)
        if question is not None and question.teaches:
            teaches_node = entry.get("teaches")
            line = teaches_node.line if teaches_node is not None else entry.line
            question = dataclasses.replace(
                question, teaches=_resolve_teaches(question, line, ck, modules, sections))
        if question is not None:
            built.append((question, entry.line))
    if built and all(q.is_description for q, _ in built) and ck.error_count() == 0:
        ck.error(node.line, "questions has only descriptions; a quiz needs at least one "
                            "question to answer")
    _warn_untaught(built, ck)
    return built


def _resolve_teaches(question: Question, line: int, ck: Checker, modules: tuple[str, ...],
                     sections: Sections) -> str:
    """`teaches:` as `module#anchor` (a bare `#anchor` takes the quiz's one module), checked
    against the modules' headings when they are known; as written (with an error, which
    leaves the quiz out) when it is wrong."""
    match = TEACHES_RE.match(question.teaches)
    assert match is not None  # build_question checked the form
    module, anchor = match["module"], match["anchor"]
    where = f"question '{question.id}' has teaches '{question.teaches}'"
    if module is None:
        if len(modules) != 1:
            ck.error(line, f"{where}; this quiz has {len(modules) or 'no'} modules, so name the "
                           "module too: 'module-slug#section'")
            return question.teaches  # the error drops the quiz
        module = modules[0]
    if sections is not None:
        if module not in sections:
            hint = difflib.get_close_matches(module, sorted(sections), n=1)
            ck.error(line, f"{where}, but there is no module '{module}'"
                           + (f"; did you mean '{hint[0]}'?" if hint else ""))
            return question.teaches  # the error drops the quiz
        if anchor not in sections[module]:
            hint = difflib.get_close_matches(anchor, sorted(sections[module]), n=1)
            ck.error(line, f"{where}, but module '{module}' has no heading with the anchor "
                           f"'{anchor}'" + (f"; did you mean '{hint[0]}'?" if hint else "")
                           + " (a heading's anchor is its text in lower case, with '-' for "
                             "spaces; see the contents list of the module's page)")
            return question.teaches  # the error drops the quiz
    return f"{module}#{anchor}"


def _warn_untaught(built: list[tuple[Question, int]], ck: Checker) -> None:
    """A quiz that links some questions to their sections should link them all: a learner
    who misses one without `teaches:` is given nothing to read again."""
    graded = [(q, line) for q, line in built if not q.is_description]
    if not any(q.teaches for q, _ in graded):
        return
    for question, line in graded:
        if not question.teaches:
            ck.warn(line, f"question '{question.id}' has no teaches, but other questions of "
                          "this quiz have; add 'teaches: module-slug#section' so that a "
                          "learner who misses it is shown where to read about it again")


# --- writing YAML (used by the GIFT importer) -----------------------------------------------


def quiz_to_yaml(quiz: Quiz, comment: str = "") -> str:
    """The quiz as a YAML file that load_quiz_file reads back to an equal Quiz."""
    settings = {k: v for k, v in quiz.settings.to_snapshot().items() if v is not None}
    header: dict[str, Any] = {"slug": quiz.slug, "title": quiz.title, "modules": list(quiz.modules)}
    if quiz.intro:
        header["intro"] = quiz.intro
    header["settings"] = settings
    data = {"quiz": header, "questions": [question_to_yaml_data(q) for q in quiz.questions]}
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96)
    text = text.replace("\n  - id: ", "\n\n  - id: ")  # a blank line between questions
    lines = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return lines + text


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text, and list items indented under their key; a value used
    twice is written out twice (our reader refuses YAML's anchors and aliases)."""

    def ignore_aliases(self, data) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)
