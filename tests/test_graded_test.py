"""Does the graded test draw a fair test per student, judge it only at grading, and reveal nothing?

The answer key is read from ``solutions/06_graded_test/`` (the one place it is written), through the
lesson's ``key`` in course.yml, exactly as the grader reads it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from augcourse import bank
from augcourse.checks import exam, exercises, wire
from augcourse.checks.exercise import MISSING
from augcourse.checks.feedback import CheckFailed
from grader.answers import reference_answers
from grader.manifest import Lesson, load_course
from tests.conftest import ROOT

LESSON = "06_graded_test"
SOLUTION = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
RELEASE = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
KEY_PATH = ROOT / "solutions" / LESSON / load_course(ROOT).lesson(LESSON).key
KEY = yaml.safe_load(KEY_PATH.read_text(encoding="utf-8"))
ANSWER = {qid: entry["answer"] for qid, entry in KEY["questions"].items()}
ITEMS = exercises(LESSON)


# ---- helpers: the exact path grading takes ------------------------------------------------------


def judged(slot: int, student, version, answer, graded="same", key=KEY, seed=7):
    """The verdict grading gives slot ``slot`` (1-10): probe, wire, judge with the grader's context."""
    item = ITEMS[f"t{slot:02d}"]
    data = wire.loads(wire.dumps(item.gather([student, version, answer], seed)))
    context = {"student": student if graded == "same" else graded, "key": key}
    return item.decide(data, seed, context)


def right_letter(student: str, slot: int) -> str:
    """The letter under which ``student`` sees the right option of slot ``slot``."""
    this = bank.draw(student, bank.VERSION)[slot - 1]
    return this.shown(ANSWER[this.question.qid])


def wrong_letters(student: str, slot: int) -> list[str]:
    return [x for x in bank.LETTERS if x != right_letter(student, slot)]


def reference_values() -> dict[str, object]:
    """The names the reference solution's answer cells define (id and ten letters)."""
    namespace: dict[str, object] = {}
    for source in reference_answers(SOLUTION).values():
        exec(source, namespace)
    return namespace


# ---- the bank ------------------------------------------------------------------------------------

PRACTICE = ("purpose", "flip_mode", "output_shape", "rotation_two_floats", "build_pipeline", "rare_positive")
COVERAGE = {  # what the bank must cover beyond the six practice questions
    "pipeline order (batch, map, cache, prefetch)": ("pipeline_order", "cache_after_map"),
    "a layer inside map": ("layer_in_map",),
    "when augmentation is active": ("active_calls", "direct_call", "export_augments"),
    "value ranges": ("brightness_range",),
    "precision and recall from a matrix": ("precision_matrix", "recall_tf_matrix"),
    "choosing a threshold": ("threshold_split", "threshold_lower", "logits_precision"),
    "the accuracy paradox": ("always_negative", "rare_positive"),
    "leakage and the validation set": ("leak_before_split", "augment_which_split"),
}


def test_the_bank_holds_the_practice_questions_and_at_least_twelve_new_ones():
    qids = [q.qid for q in bank.QUESTIONS]
    assert len(qids) == len(set(qids)) >= 18
    new = set(qids) - set(PRACTICE)
    assert set(PRACTICE) <= set(qids) and len(new) >= 12
    assert all(set(topic) <= new | {"rare_positive"} for topic in COVERAGE.values())
    for level, count in bank.PLAN:
        assert sum(q.level == level for q in bank.QUESTIONS) >= count + 2, f"{level}: room to vary"


@pytest.mark.parametrize("question", bank.QUESTIONS, ids=lambda q: q.qid)
def test_every_question_is_well_formed(question):
    assert question.level in bank.LEVELS and 1 <= question.added <= bank.VERSION
    assert len(question.options) == 4 and len(set(question.options)) == 4
    assert question.stem.strip() and question.topic.strip()


def test_the_practice_questions_are_reworded_not_repeated():
    quiz = nbformat.read(ROOT / "solutions/05_practice_quiz/05_practice_quiz.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in quiz.cells)
    for qid in PRACTICE:
        question = bank.BY_ID[qid]
        first_sentence = re.split(r"(?<=[.?!])\s", question.stem)[0]
        assert first_sentence not in text, qid
        for option in question.options:
            assert option not in text or len(option) < 12, (qid, option)


def test_the_key_covers_exactly_the_bank():
    assert set(KEY["questions"]) == set(bank.BY_ID)
    assert exam.key_problems(KEY) == []
    assert sorted(set(ANSWER.values())) == list(bank.LETTERS), "right options are spread over A-D"


LETTER_REFERENCE = re.compile(r"\b(option|answer|choice)s? [A-D]\b|\b[A-D]'s\b|\([A-D]\)|\b[B-D]\b")


@pytest.mark.parametrize("qid", sorted(bank.BY_ID))
def test_explanations_and_mistakes_never_name_a_letter(qid):
    """Every student sees the options in an order of their own: feedback speaks of content only."""
    entry = exam.key_entry(KEY, qid)
    for text in (entry.explanation, *entry.mistakes.values()):
        assert not LETTER_REFERENCE.search(text), text


def test_the_right_option_cannot_be_spotted_by_its_length():
    """A test-wise student who picks the longest (or shortest) option scores no better than chance."""
    text_questions = [q for q in bank.QUESTIONS if not q.code_options]
    longest = shortest = 0
    for question in text_questions:
        lengths = [len(option) for option in question.options]
        right = lengths[bank.LETTERS.index(ANSWER[question.qid])]
        longest += right == max(lengths) and lengths.count(right) == 1
        shortest += right == min(lengths) and lengths.count(right) == 1
        assert max(lengths) <= 2 * min(lengths), f"{question.qid}: options of balanced length"
    third = len(text_questions) / 3  # never the longest would be a cue as well
    assert 1 <= longest <= third and 1 <= shortest <= third, (longest, shortest)


# ---- the draw ------------------------------------------------------------------------------------

GOLDEN = {  # fixed forever for bank version 1: a change here reshuffles students' tests
    "alice": "purpose:ADCB precision_matrix:ADBC active_calls:ACBD recall_tf_matrix:CDBA "
    "threshold_lower:CABD layer_in_map:BDCA brightness_range:CABD pipeline_order:CABD "
    "logits_precision:DBAC build_pipeline:ABDC",
    "bob": "precision_matrix:BACD active_calls:CABD always_negative:ACBD rotation_two_floats:BCAD "
    "threshold_lower:CABD recall_tf_matrix:ACDB output_shape:CDAB build_pipeline:CDBA "
    "cache_after_map:CDBA export_augments:DBCA",
}


def signature(student: str, version: int = 1, questions=None) -> str:
    return " ".join(f"{s.question.qid}:{''.join(s.order)}" for s in bank.draw(student, version, questions))


@pytest.mark.parametrize("student", sorted(GOLDEN))
def test_the_draw_is_the_same_on_every_run_machine_and_python(student):
    assert signature(student) == GOLDEN[student]
    assert signature(f"  {student.upper()} ") == GOLDEN[student], "case and spaces do not matter"


def test_each_test_has_three_easy_four_medium_three_hard_distinct_questions():
    for i in range(300):
        slots = bank.draw(f"student{i:03d}", 1)
        assert [s.question.level for s in slots] == ["easy"] * 3 + ["medium"] * 4 + ["hard"] * 3
        assert len({s.question.qid for s in slots}) == 10
        assert all(sorted(s.order) == list(bank.LETTERS) for s in slots)
        assert [s.name for s in slots] == [f"t{n:02d}" for n in range(1, 11)]


def test_neighbours_get_different_tests_and_every_question_and_order_is_used():
    ids = [f"student{i:03d}" for i in range(300)]
    draws = [[(s.question.qid, s.order) for s in bank.draw(sid, 1)] for sid in ids]
    for a, b in itertools.pairwise(draws):
        assert a != b
        assert sum(x == y for x, y in zip(a, b, strict=True)) <= 3, "neighbours share few identical slots"
    shared = [sum(x == y for x, y in zip(a, b, strict=True)) for a, b in itertools.pairwise(draws)]
    assert np.mean(shared) < 0.5
    used = {qid for draw in draws for qid, _ in draw}
    orders = {order for draw in draws for _, order in draw}
    assert used == set(bank.BY_ID) and len(orders) == 24


def test_adding_a_question_leaves_existing_tests_alone():
    newcomer = dataclasses.replace(bank.BY_ID["purpose"], qid="newcomer", added=bank.VERSION + 1)
    grown = (*bank.QUESTIONS, newcomer)
    for i in range(200):
        sid = f"s{i}"
        assert signature(sid, bank.VERSION, grown) == signature(sid, bank.VERSION)


def test_a_retired_question_stays_in_the_tests_released_before_it():
    retired = dataclasses.replace(bank.BY_ID["purpose"], retired=2)
    assert retired.in_version(1) and not retired.in_version(2)
    assert bank.BY_ID["purpose"].in_version(1)


@pytest.mark.parametrize(
    ("student", "fragment"),
    [
        (None, "text in quotes"),
        (42, "text in quotes"),
        ("", "not a valid student id"),
        ("two words", "not a valid student id"),
        ("../etc", "not a valid student id"),
        ("x" * 65, "not a valid student id"),
        ("é", "not a valid student id"),
    ],
)
def test_no_test_is_drawn_for_a_missing_or_malformed_id(student, fragment):
    with pytest.raises(bank.DrawError, match=fragment):
        bank.draw(student, 1)


@pytest.mark.parametrize("version", [0, 2, "1", 1.0, True, None])
def test_no_test_is_drawn_from_an_unknown_bank_version(version):
    with pytest.raises(bank.DrawError, match="unknown"):
        bank.draw("alice", version)


# ---- judging -------------------------------------------------------------------------------------


def covering_ids() -> dict[tuple[str, tuple[str, ...]], tuple[str, int]]:
    """For every question and every one of its 24 option orders, a student and slot that see it."""
    wanted = {(q.qid, order) for q in bank.QUESTIONS for order in itertools.permutations(bank.LETTERS)}
    found: dict[tuple[str, tuple[str, ...]], tuple[str, int]] = {}
    for i in range(50_000):
        for slot in bank.draw(f"c{i}", 1):
            found.setdefault((slot.question.qid, slot.order), (f"c{i}", slot.number))
        if len(found) == len(wanted):
            return found
    raise AssertionError("some orders were never drawn")


def test_under_every_option_order_the_right_option_and_only_it_earns_the_point():
    for (qid, order), (student, slot) in covering_ids().items():
        entry = exam.key_entry(KEY, qid)
        for shown, canonical in zip(bank.LETTERS, order, strict=True):
            verdict = judged(slot, student, 1, shown)
            assert verdict.item == qid
            assert entry.explanation in verdict.message
            if canonical == entry.answer:
                assert verdict.passed, (qid, order, shown)
            else:
                assert not verdict.passed, (qid, order, shown)
                assert verdict.mistake == f"option {canonical}: {entry.mistakes[canonical]}"
                assert entry.mistakes[canonical] in verdict.message


def test_letters_copied_from_another_student_score_about_chance():
    scores = []
    for i in range(300):
        source, copier = f"student{i:03d}", f"student{i + 1:03d}"
        letters = [right_letter(source, slot) for slot in range(1, 11)]
        scores.append(sum(judged(slot, copier, 1, letters[slot - 1]).passed for slot in range(1, 11)))
    assert 2.0 <= np.mean(scores) <= 3.4, np.mean(scores)  # guessing scores 2.5 of 10
    assert max(scores) <= 8


def test_a_submission_graded_under_another_id_is_caught_and_nothing_is_judged():
    for slot in range(1, 11):
        verdict = judged(slot, "alice", 1, right_letter("alice", slot), graded="bob")
        assert not verdict.passed and verdict.mistake == "another id" and verdict.item == ""
        assert "'alice'" in verdict.message and "'bob'" in verdict.message
        assert "Why:" not in verdict.message, "no explanation of another student's question"


class AlwaysEqual(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class Anything:
    def __eq__(self, other):
        return True


SID = "student042"
WRONG = [  # (what a student wrote: student_id, BANK_VERSION, the answer) -> mistake kind, message fragment
    ("a wrong option", lambda s: (SID, 1, wrong_letters(SID, s)[0]), "wrong", "is not right"),
    (
        "a wrong option, lower case",
        lambda s: (SID, 1, f"{wrong_letters(SID, s)[1].lower()} "),
        "wrong",
        "is not right",
    ),
    ("the right option of another slot", lambda s: (SID, 1, right_letter(SID, s % 10 + 1)), "any", ""),
    ("not answered", lambda s: (SID, 1, None), "not answered", "is not answered yet"),
    ("a fifth option", lambda s: (SID, 1, "E"), "not a letter", "must be one of A, B, C or D"),
    ("an empty string", lambda s: (SID, 1, ""), "not a letter", "must be one of A, B, C or D"),
    ("two letters", lambda s: (SID, 1, "AB"), "not a letter", "must be one of A, B, C or D"),
    ("an option number", lambda s: (SID, 1, 2), "not a str", "must be a letter in quotes"),
    ("a list", lambda s: (SID, 1, ["A"]), "not a str", "must be a letter in quotes"),
    (
        "a str subclass equal to all",
        lambda s: (SID, 1, AlwaysEqual(right_letter(SID, s))),
        "not a str",
        "in quotes",
    ),
    ("an object equal to all", lambda s: (SID, 1, Anything()), "not a str", "must be a letter in quotes"),
    ("no id", lambda s: (None, 1, right_letter(SID, s)), "no id", "student_id is not set"),
    ("an id as a number", lambda s: (42, 1, "A"), "malformed id", "text in quotes"),
    ("an id with spaces", lambda s: ("student 042", 1, "A"), "malformed id", "not a valid student id"),
    ("an id str subclass", lambda s: (AlwaysEqual(SID), 1, "A"), "malformed id", "text in quotes"),
    ("BANK_VERSION changed", lambda s: (SID, 2, right_letter(SID, s)), "bad version", "unknown"),
    ("BANK_VERSION as text", lambda s: (SID, "1", right_letter(SID, s)), "bad version", "set-up cell"),
    ("BANK_VERSION deleted", lambda s: (SID, None, right_letter(SID, s)), "bad version", "set-up cell"),
]


@pytest.mark.parametrize(("case", "values", "kind", "fragment"), WRONG, ids=[w[0] for w in WRONG])
@pytest.mark.parametrize("slot", [1, 5, 10])
def test_the_wrong_answer_table(case, values, kind, fragment, slot):
    student, version, answer = values(slot)
    this = bank.draw(SID, 1)[slot - 1]
    verdict = judged(slot, student, version, answer, graded=SID)
    if kind == "any":  # right only if the two slots happen to share the shown letter
        assert verdict.passed == (answer == right_letter(SID, slot))
        return
    assert not verdict.passed
    if kind == "wrong":
        chosen = verdict.mistake.removeprefix("option ")[:1]
        assert chosen in bank.LETTERS and chosen != ANSWER[this.question.qid]
        assert verdict.item == this.question.qid
    else:
        assert verdict.mistake == kind and fragment in verdict.message
        assert "Why:" not in verdict.message, "a form error explains nothing"
    assert fragment in verdict.message


@pytest.mark.parametrize("slot", [1, 4, 8])
@pytest.mark.parametrize("spell", [str.lower, lambda x: f"  {x} ", lambda x: f"{x}\n", str])
@pytest.mark.parametrize("student", [SID, f"  {SID.upper()}  "])
@pytest.mark.parametrize("seed", [0, 7])
def test_the_right_option_earns_the_point_in_any_spelling(slot, spell, student, seed):
    verdict = judged(slot, student, 1, spell(right_letter(SID, slot)), graded=SID, seed=seed)
    assert verdict.passed and "is right" in verdict.message
    assert verdict.item == bank.draw(SID, 1)[slot - 1].question.qid


@pytest.mark.parametrize(
    ("context", "fragment"),
    [
        ({}, "not judged here"),
        ({"student": SID}, "not judged here"),
        ({"key": KEY}, "not judged here"),
        ({"student": SID, "key": "not a mapping"}, "not judged here"),
        ({"student": SID, "key": {"questions": {}}}, "no entry"),
        ({"student": SID, "key": {"questions": {q: {"answer": "E"} for q in bank.BY_ID}}}, "malformed"),
        ({"student": "no such id!", "key": KEY}, "is not valid"),
    ],
)
def test_without_a_sound_key_and_id_nothing_is_judged(context, fragment):
    item = ITEMS["t01"]
    data = wire.loads(wire.dumps(item.gather([SID, 1, right_letter(SID, 1)], 0)))
    verdict = item.decide(data, 0, context)
    assert not verdict.passed and fragment in verdict.message
    assert verdict.mistake in ("no key", "another id")


FORGED = [
    None,
    [],
    "A",
    {"student": "x"},
    {"student": {"type": "str", "value": SID}, "version": {"type": "int", "value": 1}},
    {
        "student": {"type": "str"},
        "version": {"type": "int", "value": 1},
        "answer": {"type": "str", "value": "A"},
    },
    {
        "student": {"type": "str", "value": SID},
        "version": {"type": "int", "value": 10**30},
        "answer": {"type": "str", "value": "A"},
    },
    {
        "student": {"type": "str", "value": SID},
        "version": {"type": "float", "value": math.nan},
        "answer": {"type": "str", "value": "A"},
    },
    {
        "student": {"type": "str", "value": SID * 10_000},
        "version": {"type": "int", "value": 1},
        "answer": {"type": "str", "value": "A"},
    },
    {
        "student": {"type": "str", "value": SID},
        "version": {"type": "int", "value": 1},
        "answer": {"type": "x" * 5000, "value": "A"},
    },
    {
        "student": {"type": "str", "value": SID},
        "version": {"type": "int", "value": 1},
        "answer": {"type": "str", "value": ["A"]},
    },
    {"student": [SID], "version": 1, "answer": "A"},
    {"missing": ["t01"]},
    {"probe_error": "RuntimeError: boom"},
]


@pytest.mark.parametrize("data", FORGED)
def test_forged_data_fails_with_a_sensible_message_and_never_crashes(data):
    item = ITEMS["t01"]
    verdict = item.decide(wire.loads(wire.dumps(data)), 0, {"student": SID, "key": KEY})
    assert not verdict.passed and verdict.message and verdict.mistake
    assert len(verdict.message) < 600 and verdict.item == ""
    assert not item.form(wire.loads(wire.dumps(data)), hub_user="").passed


def test_the_key_is_not_trusted_blindly():
    """A key from the probe's side cannot exist: the judge reads the key from the context only."""
    item = ITEMS["t01"]
    forged_key = {"questions": {q: {"answer": "A", "explanation": "", "mistakes": {}} for q in bank.BY_ID}}
    data = wire.loads(wire.dumps({**item.gather([SID, 1, "A"], 0), "key": forged_key}))
    verdict = item.decide(data, 0, {"student": SID, "key": KEY})
    assert verdict.passed == (right_letter(SID, 1) == "A")


# ---- the notebook: form only, no oracle --------------------------------------------------------


@pytest.mark.parametrize("slot", range(1, 11))
def test_the_notebook_check_says_recorded_for_every_letter_alike(slot, capsys, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    item = ITEMS[f"t{slot:02d}"]
    messages = set()
    for letter in bank.LETTERS:
        item(SID, 1, letter)
        messages.add(capsys.readouterr().out.replace(repr(letter), "<letter>"))
    assert len(messages) == 1, "right and wrong answers look the same in the notebook"
    message = messages.pop()
    assert "recorded" in message and "judged at grading" in message
    assert "right" not in message and "Why" not in message


@pytest.mark.parametrize(
    ("values", "fragment", "kind"),
    [
        ((SID, 1, None), "not answered yet", "not answered"),
        ((None, 1, "A"), "student_id is not set", "no id"),
        (("a b", 1, "A"), "not a valid student id", "malformed id"),
        ((SID, 1, "E"), "one of A, B, C or D", "not a letter"),
        ((SID, MISSING, "A"), "`BANK_VERSION` is not defined", "not defined"),
        ((MISSING, 1, "A"), "`student_id` is not defined", "not defined"),
    ],
)
def test_the_notebook_check_says_what_is_wrong_with_the_form(values, fragment, kind, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    with pytest.raises(CheckFailed, match=re.escape(fragment)) as error:
        ITEMS["t03"](*values)
    assert error.value.mistake == kind


def test_on_jupyterhub_the_id_comes_from_the_user_and_must_be_written_down(monkeypatch, capsys):
    monkeypatch.setenv("JUPYTERHUB_USER", "Alice")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert exam.whose(None)[0] == "alice"
    exam.show(1, None, 1)
    assert bank.render(bank.draw("alice", 1)[0]).splitlines()[0] in capsys.readouterr().out
    with pytest.raises(CheckFailed, match='on JupyterHub you are "Alice"') as error:
        ITEMS["t01"](None, 1, "A")
    assert error.value.mistake == "no id"
    with pytest.raises(CheckFailed, match="signed in to JupyterHub as 'Alice'") as error:
        ITEMS["t01"]("bob", 1, "A")
    assert error.value.mistake == "another id"
    ITEMS["t01"]("ALICE", 1, "A")


def test_show_welcome_and_summary_never_say_what_is_right(capsys, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    values = reference_values()
    exam.welcome(values["student_id"], 1)
    for slot in range(1, 11):
        exam.show(slot, values["student_id"], 1)
    assert exam.summary({**values, "BANK_VERSION": 1}) == 10
    out = capsys.readouterr().out
    assert "10 of 10 answers recorded" in out and "drawn for the id 'reference'" in out
    for entry in KEY["questions"].values():
        assert entry["explanation"].strip()[:60] not in out
    exam.show(1, None, 1)
    assert "cannot be drawn yet" in capsys.readouterr().out


def test_the_reference_solution_earns_every_point_and_the_release_none():
    values = reference_values()
    for slot in range(1, 11):
        name = f"t{slot:02d}"
        verdict = judged(slot, values["student_id"], 1, values[name])
        assert verdict.passed, (name, verdict.message)
        stub = judged(slot, None, 1, None, graded=values["student_id"])
        assert not stub.passed and stub.mistake == "not answered"


def test_the_release_has_one_graded_cell_per_slot_and_pins_the_bank_version():
    notebook = nbformat.read(RELEASE, as_version=4)
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader["grade_id"] for c in graded] == list(ITEMS)
    assert all(c.metadata.nbgrader["points"] == 1 for c in graded)
    setup = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    assert f"BANK_VERSION = {bank.VERSION}" in setup.source
    assert all(
        item.needs_context and item.names == ("student_id", "BANK_VERSION", item.grade_id)
        for item in ITEMS.values()
    )


# ---- nothing reveals the answers ---------------------------------------------------------------

HEX_DIGEST = re.compile(r"\b[0-9a-f]{32,}\b")


def test_nothing_a_student_gets_holds_the_answers():
    """The package, the release and the check's code hold no right letter, digest or explanation."""
    public = [ROOT / "augcourse" / "bank.py", ROOT / "augcourse" / "checks" / "exam.py", RELEASE]
    secrets = [e["explanation"].strip()[:50] for e in KEY["questions"].values()]
    secrets += [m[:40] for e in KEY["questions"].values() for m in e["mistakes"].values()]
    for path in public:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":  # its sources (nbgrader's metadata holds checksums of locked cells)
            text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
        assert not HEX_DIGEST.search(text), f"{path.name}: a digest a four-letter brute force inverts"
        assert not [s for s in secrets if s in text], path.name
    assert {f.name for f in dataclasses.fields(bank.Question)}.isdisjoint({"answer", "answer_digest", "key"})
    package = [p for p in (ROOT / "augcourse").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert not [p for p in package if p.suffix in (".yml", ".yaml", ".json")], "no key file in the package"


def test_the_committed_release_folder_holds_the_notebook_only():
    tracked = subprocess.run(
        ["git", "ls-files", f"notebooks/{LESSON}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked == [f"notebooks/{LESSON}/{LESSON}.ipynb"]


def test_building_never_copies_the_key_into_the_release(tmp_path):
    from grader.build import generate

    generate(ROOT, load_course(ROOT), tmp_path / "release")
    assert (tmp_path / "release" / LESSON / f"{LESSON}.ipynb").is_file()
    assert not list((tmp_path / "release").rglob(KEY_PATH.name))


def test_the_check_module_imports_without_tensorflow():
    code = (
        "import sys; import augcourse.checks.exam, augcourse.bank; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# ---- the manifest's key, and stock nbgrader's hidden tests ------------------------------------


def test_a_lesson_names_its_key_file_inside_its_solutions_folder():
    base = {"id": "06_x", "title": "t", "objectives": ["o"]}
    assert Lesson.model_validate({**base, "key": "bank.yml"}).key == "bank.yml"
    assert Lesson.model_validate(base).key is None
    for bad in ("../bank.yml", "keys/bank.yml", "bank.txt", "/etc/bank.yml"):
        with pytest.raises(ValueError):
            Lesson.model_validate({**base, "key": bad})


def test_stock_hidden_tests_find_the_key_and_the_graded_id(tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert exam.find_key(ROOT / "solutions" / LESSON) == KEY_PATH
    # autograding: the id is nbgrader's folder name, and a key a submission brings is ignored
    folder = ROOT / "autograded" / "carol" / LESSON
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(Path, "cwd", classmethod(lambda cls: folder))
    assert exam.graded_student({"student": {"type": "str", "value": "mallory"}}) == "carol"
    forged = tmp_path / "autograded" / "carol" / LESSON  # a submission that brings its own course
    (forged / "solutions" / LESSON).mkdir(parents=True)
    (forged / "course.yml").write_text(f"lessons: [{{id: {LESSON}, key: bank.yml}}]")
    (forged / "solutions" / LESSON / "bank.yml").write_text(yaml.safe_dump(KEY))
    assert exam.find_key(forged) == KEY_PATH, "never a key the submission brings"
    monkeypatch.setattr(Path, "cwd", classmethod(lambda cls: tmp_path))
    assert exam.graded_student({}) is None


def test_stock_hidden_tests_judge_with_the_key(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.chdir(ROOT / "solutions" / LESSON)
    values = reference_values()
    exam.t01.grade_here(values["student_id"], 1, values["t01"])
    assert "is right" in capsys.readouterr().out
    wrong = next(x for x in bank.LETTERS if x != values["t01"])
    with pytest.raises(CheckFailed, match="is not right"):
        exam.t01.grade_here(values["student_id"], 1, wrong)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.chdir(ROOT / "solutions" / LESSON)  # not nbgrader's autograded/<student>/<lesson>
    with pytest.raises(CheckFailed, match="cannot tell which student"):
        exam.t01.grade_here(values["student_id"], 1, values["t01"])


def test_the_key_file_is_valid_json_data_too():
    """The grader may hand the judge a key parsed from YAML or JSON: plain data either way."""
    assert json.loads(json.dumps(KEY)) == KEY


# ---- every option and snippet, executed: the explanations say what the code really does ---------

EXECUTED: set[str] = set()  # the questions whose code the tests below run


def executes(qid: str):
    """Mark a test as the one that runs question ``qid``'s code."""
    EXECUTED.add(qid)
    return lambda test: test


def options(qid: str) -> dict[str, str]:
    return dict(zip(bank.LETTERS, bank.BY_ID[qid].options, strict=True))


@pytest.fixture(scope="module")
def tf_modules():
    from augcourse import runtime

    runtime.quiet()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    return keras, tf


@pytest.fixture(scope="module")
def images(tf_modules):
    return np.random.default_rng(0).random((8, 32, 32, 3), dtype="float32")


def run(code: str, **names):
    from augcourse.tryit import run as run_code

    return run_code(code, names)


def test_every_question_with_code_is_executed():
    with_code = {q.qid for q in bank.QUESTIONS if q.snippet or q.code_options}
    assert with_code <= EXECUTED, sorted(with_code - EXECUTED)


@executes("flip_mode")
def test_flip_mode_options(tf_modules):
    from augcourse.checks.layers import flips_seen

    built = {label: run(f"keras.Sequential([{code}])") for label, code in options("flip_mode").items()}
    assert flips_seen(built["A"].value) == {"none", "vertical"}  # valid, the wrong axis
    assert flips_seen(built["B"].value) == {"none", "horizontal"}
    assert built["C"].error == "AttributeError"
    assert built["D"].error is None and flips_seen(built["D"].value) == {"none"}  # silently never flips


@executes("purpose")
def test_augmentation_keeps_every_image_and_its_shape_and_colour(tf_modules, images):
    keras, tf = tf_modules
    aug = keras.layers.RandomRotation(0.1)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(4).map(lambda x: aug(x, training=True))
    out = np.concatenate(list(ds.as_numpy_iterator()))
    assert out.shape == images.shape and not np.allclose(out, images)


@executes("active_calls")
def test_fit_augments_and_evaluate_and_predict_do_not(tf_modules, images):
    keras, _ = tf_modules
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomRotation(0.1),
            keras.layers.Flatten(),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(seed=1)),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")  # weights never move
    target = np.zeros((len(images), 1), dtype="float32")
    clean = float(np.mean(np.asarray(model(images, training=False)) ** 2))
    assert model.evaluate(images, target, verbose=0) == pytest.approx(clean, rel=1e-5)
    assert np.allclose(model.predict(images, verbose=0), model(images, training=False))
    fitted = [model.fit(images, target, batch_size=8, verbose=0).history["loss"][0] for _ in range(3)]
    assert all(abs(loss - clean) > 1e-3 * clean for loss in fitted), "fit trains on augmented images"


@executes("always_negative")
def test_a_model_that_never_flags_has_95_percent_accuracy_and_no_recall():
    from sklearn.metrics import accuracy_score, recall_score

    y = np.array([0] * 950 + [1] * 50)
    healthy = np.zeros_like(y)
    assert accuracy_score(y, healthy) == 0.95 and recall_score(y, healthy) == 0.0


@executes("precision_matrix")
def test_precision_for_cat_from_the_matrix(tf_modules):
    keras, tf = tf_modules
    labels = np.array([0] * 100 + [1] * 100)  # cat 0, dog 1
    preds = np.array([0] * 80 + [1] * 20 + [0] * 10 + [1] * 90)
    assert tf.math.confusion_matrix(labels, preds).numpy().tolist() == [[80, 20], [10, 90]]
    cat_p, cat_r = keras.metrics.Precision(), keras.metrics.Recall()
    cat_p.update_state(labels == 0, preds == 0)
    cat_r.update_state(labels == 0, preds == 0)
    dog_p = keras.metrics.Precision()
    dog_p.update_state(labels, preds)
    shown = {float(o) for o in bank.BY_ID["precision_matrix"].options}
    values = {
        "precision cat": float(cat_p.result()),
        "recall cat": float(cat_r.result()),
        "accuracy": float(np.mean(labels == preds)),
        "precision dog": float(dog_p.result()),
    }
    assert {round(v, 3) for v in values.values()} == shown
    assert round(values["precision cat"], 3) == float(options("precision_matrix")[ANSWER["precision_matrix"]])


@executes("output_shape")
def test_the_output_shape_snippet(tf_modules):
    outcome = run(bank.BY_ID["output_shape"].snippet)
    assert outcome.error is None and outcome.printed.strip() == "(4, 64, 64, 3)"
    assert options("output_shape")[ANSWER["output_shape"]] == "`(4, 64, 64, 3)`"
    aug = outcome.names["aug"]
    assert tuple(aug(outcome.names["batch"], training=False).shape) == (4, 64, 64, 3)
    assert [layer.fill_mode for layer in aug.layers] == ["reflect", "reflect"], "the default fill"


@executes("rotation_two_floats")
def test_two_floats_put_the_second_into_fill_mode(tf_modules):
    keras, _ = tf_modules
    broken = run(bank.BY_ID["rotation_two_floats"].snippet)
    assert (
        broken.error == "NotImplementedError" and "fill_mode" in broken.message and "0.25" in broken.message
    )
    fixed = keras.layers.RandomRotation((0.1, 0.25))
    assert tuple(f * 360 for f in fixed.factor) == pytest.approx((36, 90))
    aug = keras.Sequential([keras.layers.RandomFlip("horizontal"), fixed])
    assert not aug.built
    aug(np.zeros((1, 8, 8, 1), dtype="float32"))
    assert aug.built, "a Sequential builds on its first call, without an Input"


@executes("rare_positive")
def test_a_rare_positive_screening_model_at_97_percent_accuracy(tf_modules):
    from sklearn.metrics import accuracy_score, recall_score

    y = np.array([1] * 30 + [0] * 970)  # 3% sick
    flagged = np.array([1] * 3 + [0] * 27 + [1] * 3 + [0] * 967)  # finds 3 of 30, 3 false alarms
    assert accuracy_score(y, flagged) == pytest.approx(0.97) and recall_score(y, flagged) == pytest.approx(
        0.1
    )
    assert accuracy_score(y, np.zeros_like(y)) == pytest.approx(0.97), '"all healthy" scores 97% too'


@executes("direct_call")
def test_a_direct_call_augments(tf_modules, images):
    outcome = run(bank.BY_ID["direct_call"].snippet, val_images=images)
    assert outcome.error is None
    out = np.asarray(outcome.names["out"])
    assert out.shape == images.shape and not np.allclose(out, images)
    assert np.allclose(np.asarray(outcome.names["aug"](images, training=False)), images)
    keras, _ = tf_modules
    twins = [keras.layers.RandomRotation(0.1, seed=3) for _ in range(2)]
    first, second = (np.asarray(twin(images)) for twin in twins)
    assert np.allclose(first, second), "a seed only makes the random draws repeatable"


@executes("recall_tf_matrix")
def test_recall_of_class_1_from_tf_confusion_matrix(tf_modules):
    keras, _ = tf_modules
    labels = np.array([0] * 60 + [1] * 40)
    predictions = np.array([0] * 50 + [1] * 10 + [0] * 5 + [1] * 35)
    outcome = run(bank.BY_ID["recall_tf_matrix"].snippet, labels=labels, predictions=predictions)
    assert outcome.printed.strip() == "[[50 10]\n [ 5 35]]", "true labels in rows, predictions in columns"
    recall, precision = keras.metrics.Recall(), keras.metrics.Precision()
    recall.update_state(labels, predictions)
    precision.update_state(labels, predictions)
    values = {float(recall.result()), float(precision.result()), 0.85, 50 / 60}
    assert {round(v, 3) for v in values} == {float(o) for o in bank.BY_ID["recall_tf_matrix"].options}
    assert round(float(recall.result()), 3) == float(options("recall_tf_matrix")[ANSWER["recall_tf_matrix"]])


@executes("threshold_split")
def test_keras_metrics_take_any_threshold(tf_modules):
    keras, _ = tf_modules
    assert keras.metrics.Recall().thresholds == [0.5] or keras.metrics.Recall().thresholds == 0.5
    recall = keras.metrics.Recall(thresholds=[0.3, 0.5, 0.7])
    recall.update_state([1, 1, 1, 0], [0.4, 0.6, 0.8, 0.2])
    assert np.asarray(recall.result()).tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])


@executes("layer_in_map")
def test_a_layer_created_inside_map_fails_when_map_traces_it(tf_modules, images):
    keras, tf = tf_modules
    train_ds = tf.data.Dataset.from_tensor_slices((images, np.arange(len(images))))
    outcome = run(bank.BY_ID["layer_in_map"].snippet, train_ds=train_ds)
    assert outcome.error == "ValueError" and "tf.Variable" in outcome.message
    flip = keras.layers.RandomFlip("horizontal")  # the fix: created once, outside
    fixed = train_ds.map(lambda image, label: (flip(image, training=True), label))
    assert len(list(fixed)) == len(images)


@executes("brightness_range")
def test_brightness_assumes_0_to_255(tf_modules):
    keras, _ = tf_modules
    outcomes = [run(bank.BY_ID["brightness_range"].snippet) for _ in range(3)]
    for outcome in outcomes:
        out = np.asarray(outcome.names["out"])
        assert outcome.error is None and out.min() >= 0 and out.max() <= 1 + 0.2 * 255 + 1e-4
    assert max(float(np.asarray(o.names["out"]).max()) for o in outcomes) > 5, "far outside [0, 1]"
    images = outcomes[0].names["images"]
    fixed = np.asarray(keras.layers.RandomBrightness(0.2, value_range=(0, 1))(images))
    assert fixed.min() >= 0 and fixed.max() <= 1


@executes("threshold_lower")
def test_lowering_the_threshold_never_lowers_recall(tf_modules):
    keras, _ = tf_modules
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    scores = np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1).astype("float32")
    recall, precision = (
        keras.metrics.Recall(thresholds=[0.3, 0.5]),
        keras.metrics.Precision(thresholds=[0.3, 0.5]),
    )
    recall.update_state(y, scores)
    precision.update_state(y, scores)
    (r_low, r_high), (p_low, p_high) = np.asarray(recall.result()), np.asarray(precision.result())
    assert r_low >= r_high and p_low < p_high


@executes("build_pipeline")
def test_the_build_pipeline_options(tf_modules):
    from augcourse.checks.layers import flips_seen

    built = {label: run(code) for label, code in options("build_pipeline").items()}
    assert built["A"].error == "ValueError", "RandomRotation(36): degrees are out of range"
    zoom_b = built["B"].value.layers[2]
    assert tuple(zoom_b.height_factor) == (0.2, 0.2) and zoom_b.width_factor is None  # always +20%: out
    right = built["C"].value.layers
    assert right[1].factor == (-0.1, 0.1) and right[2].height_factor == 0.2
    assert flips_seen(keras_flip_only(built["C"].value)) == {"none", "horizontal"}
    assert flips_seen(keras_flip_only(built["D"].value)) == {"none", "both"}, "both axes at once"


def keras_flip_only(model):
    import keras

    return keras.Sequential([model.layers[0]])


@executes("pipeline_order")
def test_the_pipeline_orders(tf_modules):
    keras, tf = tf_modules
    data = np.random.default_rng(1).random((256, 16, 16, 1), dtype="float32")
    layer = keras.layers.RandomRotation(0.1)
    for label, code in options("pipeline_order").items():
        ranks: list[int] = []

        def augment(image, label, ranks=ranks):
            ranks.append(image.shape.rank)
            return layer(image, training=True), label

        train = tf.data.Dataset.from_tensor_slices((data, np.arange(256)))
        ds = run(code, train=train, augment=augment, AUTOTUNE=tf.data.AUTOTUNE).value
        first, second = (np.concatenate([x for x, _ in ds.as_numpy_iterator()]) for _ in range(2))
        batched, fresh, prefetched = (
            ranks == [4],
            not np.array_equal(first, second),
            "Prefetch" in type(ds).__name__,
        )
        assert (batched, fresh, prefetched) == {
            "A": (False, True, True),  # augments image by image
            "B": (True, False, True),  # cache() replays the first epoch
            "C": (True, True, False),  # the last step, a plain map, is not prefetched
            "D": (True, True, True),
        }[label], label


@executes("cache_after_map")
def test_cache_after_a_random_map_freezes_the_augmentation(tf_modules, images):
    keras, tf = tf_modules
    layer = keras.layers.RandomRotation(0.2)
    ds = tf.data.Dataset.from_tensor_slices((images, np.arange(len(images))))
    pipeline = bank.BY_ID["cache_after_map"].snippet.splitlines()[0]  # the model.fit line trains on it
    outcome = run(pipeline, ds=ds, augment=lambda x, y: (layer(x, training=True), y))
    assert outcome.error is None
    epochs = [np.concatenate([x for x, _ in outcome.names["train"].as_numpy_iterator()]) for _ in range(3)]
    assert np.array_equal(epochs[0], epochs[1]) and np.array_equal(epochs[1], epochs[2])
    assert not np.allclose(epochs[0], images), "what is cached is augmented"
    fixed = ds.cache().batch(32).map(lambda x, y: (layer(x, training=True), y))
    a, b = (np.concatenate([x for x, _ in fixed.as_numpy_iterator()]) for _ in range(2))
    assert not np.array_equal(a, b)


@executes("export_augments")
def test_an_exported_model_augments(tf_modules, images, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    snippet = bank.BY_ID["export_augments"].snippet.replace(
        "model.export(", "model.export(verbose=False, filepath="
    )
    outcome = run(snippet)
    assert outcome.error is None, outcome.message
    served, model = outcome.names["served"], outcome.names["model"]
    first, second = np.asarray(served.serve(images)), np.asarray(served.serve(images))
    predicted = model.predict(images, verbose=0)
    assert not np.allclose(first, second) and not np.allclose(first, predicted)


@executes("leak_before_split")
def test_augmenting_before_the_split_inflates_validation():
    """5 shifted copies of 300 digits, shuffled and split 80/20: a 1-NN model scores higher on them."""
    from sklearn.datasets import load_digits
    from sklearn.neighbors import KNeighborsClassifier

    x, y = load_digits(return_X_y=True)
    x = x.reshape(-1, 8, 8)
    rng = np.random.default_rng(0)

    def augment(batch):
        shifts = rng.integers(-1, 2, size=(len(batch), 2))
        moved = np.stack([np.roll(img, tuple(s), axis=(0, 1)) for img, s in zip(batch, shifts, strict=True)])
        return (moved + rng.normal(0, 1.0, moved.shape)).reshape(len(batch), -1)

    origin = np.repeat(np.arange(300), 5)
    copies, labels = augment(x[origin]), y[origin]
    order = rng.permutation(len(origin))
    train, val = order[:1200], order[1200:]
    siblings = np.isin(origin[val], origin[train]).mean()
    assert siblings > 0.95, "almost every validation image has a near-copy in training"
    model = KNeighborsClassifier(1).fit(copies[train], labels[train])
    leaky = model.score(copies[val], labels[val])
    new = model.score(augment(x[300:]), y[300:])
    assert leaky > new + 0.02, (leaky, new)


@executes("logits_precision")
def test_precision_on_logits_cuts_at_half_a_logit(tf_modules):
    keras, tf = tf_modules
    y = np.array([1, 1, 0, 0])
    logits = np.array([0.3, 2.0, -1.0, 0.4], dtype="float32")  # 0.3: a probability of 0.57
    default, at_zero, on_probs = (
        keras.metrics.Recall(),
        keras.metrics.Recall(thresholds=0.0),
        keras.metrics.Recall(),
    )
    default.update_state(y, logits)  # no error
    at_zero.update_state(y, logits)
    on_probs.update_state(y, tf.sigmoid(logits))
    assert float(default.result()) == 0.5 and float(at_zero.result()) == float(on_probs.result()) == 1.0
    assert float(tf.sigmoid(0.5)) == pytest.approx(0.62, abs=0.005)
    precision, fixed = keras.metrics.Precision(), keras.metrics.Precision(thresholds=0.0)
    precision.update_state(y, logits)  # raises nothing either
    fixed.update_state(y, logits)
    assert float(precision.result()) == 1.0 and float(fixed.result()) == pytest.approx(2 / 3)


# ---- end to end: the grading core, with the grader's context ------------------------------------


@pytest.mark.slow
def test_grading_the_reference_answers_through_the_kernel(tmp_path):
    from grader.answers import fill
    from grader.core import grade_locally
    from grader.execute import execute

    submission = tmp_path / f"{LESSON}.ipynb"
    nbformat.write(fill(RELEASE, reference_answers(SOLUTION)), submission)

    def grade(student):
        context = {"student": student, "key": KEY}
        questions, _ = grade_locally(submission, RELEASE, LESSON, lambda nb: execute(nb, tmp_path), context)
        return questions

    right = grade("reference")
    assert [q.passed for q in right] == [True] * 10, [q.feedback for q in right if not q.passed]
    assert [q.item for q in right] == [s.question.qid for s in bank.draw("reference", 1)]
    other = grade("someone_else")
    assert all(not q.passed and q.mistake == "another id" for q in other)
