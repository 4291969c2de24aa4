"""Does the quiz accept exactly the right option, and does every code option do what it says?"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from augcourse.checks import CheckFailed
from augcourse.checks.exercise import plain
from augcourse.checks.quiz import EXERCISES_BY_ID, LETTERS, QUESTIONS, check, is_right, normalize, summary
from augcourse.tryit import flips_seen, run
from grader.answers import reference_answers
from tests.conftest import ROOT

QUIZ = ROOT / "solutions" / "05_practice_quiz" / "05_practice_quiz.ipynb"


def key() -> dict[str, str]:
    """The right letters, read from the reference solution (the one place they are written)."""
    found = {}
    for grade_id, source in reference_answers(QUIZ).items():
        qid = grade_id.removesuffix("_answer")
        found[qid] = re.findall(rf'{qid} = "([A-D])"', source)[-1]
    return found


KEY = key()


def test_every_question_has_a_key_and_a_check():
    assert set(KEY) == set(QUESTIONS) == {f"q{i}" for i in range(1, 7)}


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_right_option_passes_in_any_spelling(qid, capsys):
    letter = KEY[qid]
    for spelling in (letter, letter.lower(), f"  {letter} ", f"{letter.lower()}\n"):
        check(qid, spelling)
    out = capsys.readouterr().out
    assert "is right" in out and QUESTIONS[qid].explanation in out and "Common mistakes" in out


WRONG = [(q, x) for q in sorted(QUESTIONS) for x in LETTERS if x != KEY[q]]


@pytest.mark.parametrize(("qid", "letter"), WRONG)
def test_every_wrong_option_is_rejected_with_its_own_hint(qid, letter):
    question = QUESTIONS[qid]
    with pytest.raises(CheckFailed, match="not right yet") as error:
        check(qid, letter)
    assert question.hints[letter] in str(error.value)
    assert error.value.mistake == f"option {letter}: {question.mistakes[letter]}"
    assert question.explanation not in str(error.value)
    assert letter in question.mistakes, "each wrong option names its common mistake"


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_each_wrong_option_has_a_hint_of_its_own_that_does_not_give_the_answer(qid):
    question, right = QUESTIONS[qid], KEY[qid]
    wrong = {x for x in LETTERS if x != right}
    assert set(question.hints) == wrong == set(question.mistakes)
    assert len(set(question.hints.values())) == 3, "no hint is shared between options"
    for hint in question.hints.values():
        assert not re.search(rf"\b(option|answer) {right}\b", hint), hint
        if right in question.code:
            assert question.code[right] not in hint, "a hint never shows the right code"


def wrong_letter(qid: str, letter: str = "B") -> str:
    """``letter`` if it is wrong for ``qid``, else the first wrong one."""
    return letter if letter != KEY[qid] else next(x for x in LETTERS if x != KEY[qid])


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
@pytest.mark.parametrize(
    ("spelling", "kind"),
    [
        (lambda x: x, "option"),  # the wrong option itself
        (lambda x: f"{x.lower()} ", "option"),  # "b ": still that wrong option, with its hint
        (lambda x: f"\n {x}\t", "option"),
        (lambda x: "E", "not a letter"),
        (lambda x: "", "not a letter"),
        (lambda x: f"{x}.", "not a letter"),
        (lambda x: f"option {x}", "not a letter"),
        (lambda x: ord(x), "not a str"),
        (lambda x: [x], "not a str"),
        (lambda x: (x,), "not a str"),
        (lambda x: x.encode(), "not a str"),
        (lambda x: AlwaysEqual(x), "not a str"),
        (lambda x: Anything(), "not a str"),
        (lambda x: None, "not answered"),
    ],
)
def test_the_wrong_answer_table(qid, spelling, kind):
    """Every question: a wrong option (in any spelling) gets its hint; anything else, what to write."""
    letter = wrong_letter(qid)
    answer = spelling(letter)
    verdict = EXERCISES_BY_ID[qid].decide(plain(answer), 0)
    assert not verdict.passed and not is_right(qid, answer)
    if kind == "option":
        assert verdict.mistake.startswith(f"option {letter}: ")
        assert QUESTIONS[qid].hints[letter] in verdict.message
    else:
        assert verdict.mistake == kind
        assert "Hint" not in verdict.message, "no hint for an answer that names no option"
    assert QUESTIONS[qid].explanation not in verdict.message


def test_an_object_claiming_to_be_the_right_letter_earns_nothing():
    for qid in QUESTIONS:
        for impostor in (AlwaysEqual(KEY[qid]), Anything(), RightLetter(KEY[qid])):
            assert not is_right(qid, impostor)


class AlwaysEqual(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class Anything:
    def __eq__(self, other):
        return True


class RightLetter(str):
    """A str subclass that strips and upper-cases to anything it likes."""

    def strip(self, *args):
        return self

    def upper(self):
        return self


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "not answered yet"),
        (..., "not answered yet"),
        (3, "must be a letter in quotes"),
        (["A"], "must be a letter in quotes"),
        ("E", "must be one of A, B, C or D"),
        ("AB", "must be one of A, B, C or D"),
        ("", "must be one of A, B, C or D"),
        (AlwaysEqual("Z"), "must be a letter in quotes"),
        (Anything(), "must be a letter in quotes"),
    ],
)
def test_anything_but_a_letter_is_told_what_is_expected(answer, message):
    with pytest.raises(CheckFailed, match=message):
        normalize("q1", answer)
    assert not is_right("q1", answer)


def test_the_score_summary_counts_right_answers(capsys):
    answers = {qid: KEY[qid] for qid in ("q1", "q2", "q3")} | {"q4": "A"}
    assert summary(answers) == 3
    out = capsys.readouterr().out
    assert "3 of 6 questions right" in out and "not answered" in out


def test_the_notebook_shows_each_code_option_as_the_checks_run_it():
    text = "\n".join(c.source for c in nbformat.read(QUIZ, as_version=4).cells if c.cell_type == "markdown")
    for question in QUESTIONS.values():
        for label, code in question.code.items():
            if label in LETTERS:
                assert code in text, f"{question.qid} option {label}"


def layer_named(outcome, name):
    return next(layer for layer in outcome.value.layers if type(layer).__name__ == name)


def test_q2_options_do_what_the_explanation_says():
    code = QUESTIONS["q2"].code
    assert flips_seen(run(code["A"]).value) == {"none", "horizontal"}
    assert run(code["B"]).error == "AttributeError"
    assert flips_seen(run(code["C"]).value) == {"none", "vertical"}  # valid Keras: flips vertically
    diagonal = run(code["D"])
    assert diagonal.error is None and flips_seen(diagonal.value) == {"none"}  # silently never flips


def test_q3_shape_is_unchanged_in_training_and_inference():
    outcome = run(QUESTIONS["q3"].code["A"])
    assert outcome.printed.strip() == "(1, 128, 128, 3)"
    model = outcome.value if outcome.value is not None else None
    assert model is not None
    image = np.random.default_rng(0).random((1, 128, 128, 3), dtype="float32")
    assert tuple(model(image, training=False).shape) == (1, 128, 128, 3)
    assert not np.allclose(np.asarray(model(image)), image), "a direct call augments (training mode)"


def test_q4_fails_because_the_second_argument_is_fill_mode():
    broken = run(QUESTIONS["q4"].code["D"])
    assert broken.error == "NotImplementedError" and "fill_mode" in broken.message
    fixed = run(QUESTIONS["q4"].code["fix"])
    assert fixed.error is None
    assert layer_named(fixed, "RandomRotation").factor == (0.2, 0.3)  # +72° to +108°: one direction


def test_q5_options_build_or_fail_as_explained():
    code = QUESTIONS["q5"].code
    zoom_out_only = layer_named(run(code["A"]), "RandomZoom").height_factor
    assert min(zoom_out_only) > 0
    right = run(code["B"])
    assert right.error is None
    assert tuple(layer_named(right, "RandomRotation").factor) == (-0.2, 0.2)
    assert run(code["C"]).error == "ValueError"
    assert run(code["D"]).error == "ValueError"


def test_a_positive_zoom_factor_zooms_out():
    import keras

    image = np.zeros((1, 32, 32, 1), dtype="float32")
    image[:, 8:24, 8:24] = 1.0  # a bright square in the middle
    out = keras.layers.RandomZoom((0.5, 0.5), fill_mode="constant", seed=1)(image, training=True)
    assert float(np.asarray(out).sum()) < image.sum(), "zooming out shrinks the square"


def test_q4_a_sequential_holds_augmentation_layers_and_builds_on_its_first_call():
    import keras

    aug = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.2)])
    assert not aug.built, "no input shape is needed up front"
    aug(np.zeros((1, 8, 8, 1), dtype="float32"))
    assert aug.built and aug.weights == [], "augmentation layers have no weights, and need none"
