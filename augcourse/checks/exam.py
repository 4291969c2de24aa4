"""The graded test: ten questions per student, drawn from the bank by student id, judged at grading.

The notebook holds no oracle: its check cells only check the *form* of each answer (one letter,
A to D, and a valid id) and say that the answer is recorded. Right answers live in the answer key
(``solutions/06_graded_test/bank.yml``), which only the grader reads.

Each graded cell ``t01`` ... ``t10`` is one :class:`ExamItem`: its probe ships the claimed id, the
bank version the notebook pins and the letter of its slot; its judge takes the grader's context
``{"student": <the id grading knows>, "key": <the parsed key file>}``, refuses a notebook drawn for
another id, redraws the student's test, maps the shown letter back to the canonical option and
compares it with the key. The verdict names the question (``item``) and, for a wrong option, its
canonical option and its mistake (``mistake``), so the class report counts the same option across
students.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from augcourse import bank
from augcourse.checks import wire
from augcourse.checks.exercise import MISSING, PRACTICE_SEED, Exercise, Verdict, plain
from augcourse.checks.feedback import CheckFailed, fail, passed
from augcourse.checks.quiz import letter_of

LESSON = "06_graded_test"
NAMES = ("student_id", "BANK_VERSION")  # the id cell and the version the notebook pins
KEY_FILE = "bank.yml"  # the default key file of the lesson (course.yml's ``key`` says which)
ID_EXAMPLE = 'student_id = "jdoe"'


# ---- reading what the probe shipped -------------------------------------------------------------


def _student(data: object, hub_user: str | None = None) -> str:
    """The claimed id, canonical, from its probe description; fails on a missing or malformed one."""
    __tracebackhide__ = True
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        fail("student_id could not be read.", "malformed id")
    if data["type"] == "NoneType":
        where = f' (on JupyterHub you are "{hub_user}")' if hub_user else ""
        fail(
            f"student_id is not set: write your student id in the id cell{where}, e.g. {ID_EXAMPLE}, "
            "and run it. Your test is drawn from it, and grading reproduces it from it.",
            "no id",
        )
    value = data.get("value")
    if data["type"] != "str" or not isinstance(value, str):
        fail(f"student_id must be your id as text in quotes, e.g. {ID_EXAMPLE}.", "malformed id")
    try:
        return bank.canonical_id(value)
    except bank.DrawError as error:
        fail(f"{error}.", "malformed id")


def _version(data: object) -> int:
    __tracebackhide__ = True
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "int" or type(value) is not int:
        fail("BANK_VERSION is missing or changed: run the set-up cell as released.", "bad version")
    try:
        return bank.check_version(value)
    except bank.DrawError as error:
        fail(f"{error}: run the set-up cell as released.", "bad version")


@dataclass(frozen=True)
class Claim:
    """What a notebook claims for one slot: whose test, which bank version, which shown letter."""

    student: str
    version: int
    letter: str


def read_claim(data: object, name: str) -> Claim:
    """The claim in a probe's data, in form; fails (with a message for the student) otherwise."""
    __tracebackhide__ = True
    if not isinstance(data, dict) or not {"student", "version", "answer"} <= set(data):
        fail("the answer could not be read.", "malformed")
    letter = letter_of(name, data["answer"])  # first: an unanswered question says so
    return Claim(_student(data["student"]), _version(data["version"]), letter)


# ---- the answer key -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyEntry:
    """One question's key: the right canonical letter, the explanation, the mistake of each wrong option."""

    answer: str
    explanation: str
    mistakes: dict[str, str]


def key_entry(key: object, qid: str) -> KeyEntry:
    """One question's entry in a parsed key file; fails when the key lacks it or is malformed."""
    __tracebackhide__ = True
    questions = key.get("questions") if isinstance(key, dict) else None
    entry = questions.get(qid) if isinstance(questions, dict) else None
    if not isinstance(entry, dict):
        fail(f"not judged: the answer key has no entry for question {qid!r}.", "no key")
    answer, explanation, mistakes = entry.get("answer"), entry.get("explanation"), entry.get("mistakes")
    wrong = [letter for letter in bank.LETTERS if letter != answer]
    if (
        answer not in bank.LETTERS
        or not isinstance(explanation, str)
        or not isinstance(mistakes, dict)
        or not all(isinstance(mistakes.get(letter), str) for letter in wrong)
    ):
        fail(f"not judged: the answer key's entry for question {qid!r} is malformed.", "no key")
    return KeyEntry(answer, explanation.strip(), {letter: mistakes[letter].strip() for letter in wrong})


def key_problems(key: object, questions: tuple[bank.Question, ...] = bank.QUESTIONS) -> list[str]:
    """What is wrong with a parsed key file for this bank (nothing, for a sound key)."""
    problems = []
    for question in questions:
        try:
            key_entry(key, question.qid)
        except CheckFailed as error:
            problems.append(str(error).removeprefix("❌ "))
    return problems


def mistake_text(key: object, qid: str, canonical: str) -> str:
    """The mistake behind a wrong canonical option, for the class report ("" when unknown)."""
    try:
        return key_entry(key, qid).mistakes.get(canonical, "")
    except CheckFailed:
        return ""


def load_key(path: Path) -> Any:
    """A key file parsed (YAML or JSON)."""
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ---- one graded cell ----------------------------------------------------------------------------


def item_title(item: str) -> str:
    """How the class report names a bank question: its topic and its difficulty label."""
    question = bank.BY_ID.get(item)
    return f"{question.topic} ({question.level})" if question else item


def _probe(slot: int) -> Any:
    def probe(seed: int, student_id: object, version: object, answer: object) -> dict:
        """The claim of this slot, described without trusting it (see :func:`plain`)."""
        return {
            "slot": slot,
            "student": plain(student_id),
            "version": plain(version),
            "answer": plain(answer),
        }

    return probe


def _judge(slot: int) -> Any:
    name = f"t{slot:02d}"

    def judge(data: object, seed: int, context: dict[str, Any]) -> str:
        __tracebackhide__ = True
        claim = read_claim(data, name)
        graded, key = context.get("student"), context.get("key")
        if graded is None or not isinstance(key, dict):
            fail(
                "not judged here: the test is judged when your instructor grades it, with the "
                "answer key and your id.",
                "no key",
            )
        try:
            graded_id = bank.canonical_id(graded)
        except bank.DrawError:
            fail(
                f"not judged: the id this notebook is graded under, {str(graded)[:70]!r}, is not valid.",
                "no key",
            )
        if claim.student != graded_id:
            fail(
                f"graded under another id: this notebook's test was drawn for {claim.student!r}, but "
                f"it is graded as {graded_id!r}. No answer was judged against another student's "
                "test. Hand in your own notebook, with your own id in the id cell.",
                "another id",
            )
        this = bank.draw(claim.student, claim.version)[slot - 1]
        entry = key_entry(key, this.question.qid)
        chosen = this.canonical(claim.letter)
        if chosen == entry.answer:
            return f"{name} = {claim.letter!r} is right ({this.question.topic}). Why: {entry.explanation}"
        fail(
            f"{name} = {claim.letter!r} is not right ({this.question.topic}). Why: {entry.explanation} "
            f"The option you chose: {entry.mistakes[chosen]}",
            f"option {chosen}: {entry.mistakes[chosen]}",
        )

    return judge


@dataclass(frozen=True)
class ExamItem(Exercise):
    """A slot of the graded test: judged only with the grader's context; in the notebook, form only."""

    slot: int = 0

    def decide(self, data: Any, seed: int, context: dict[str, Any] | None = None) -> Verdict:
        """The judge's verdict, naming the bank question judged (when it was judged at all)."""
        verdict = super().decide(data, seed, context)
        return replace(verdict, item=self.item(data, context or {}))

    def item(self, data: Any, context: dict[str, Any]) -> str:
        """The canonical question id judged: only when the claim is in form and matches the graded id."""
        try:
            claim = read_claim(data, self.grade_id)
            if claim.student != bank.canonical_id(context.get("student")):
                return ""
            return bank.draw(claim.student, claim.version)[self.slot - 1].question.qid
        except (CheckFailed, bank.DrawError):
            return ""

    def __call__(self, *values: Any, seed: int = PRACTICE_SEED) -> None:
        """The notebook's check: the answer's form only. It never says whether an answer is right."""
        __tracebackhide__ = True
        data = wire.loads(wire.dumps(self.gather(values, seed)))
        verdict = self.form(data)
        if not verdict.passed:
            raise CheckFailed(f"❌ {verdict.message}", verdict.mistake)
        passed(verdict.message)

    def form(self, data: Any, hub_user: str | None = None) -> Verdict:
        """Whether the claim is well formed (and, on JupyterHub, made by the user signed in)."""
        hub_user = os.environ.get("JUPYTERHUB_USER", "") if hub_user is None else hub_user
        if data is None or (isinstance(data, dict) and ({"missing", "probe_error"} & set(data))):
            return Exercise.decide(self, data, PRACTICE_SEED, {})  # a name not defined, a failed probe
        try:
            student = data.get("student") if isinstance(data, dict) else None
            if isinstance(student, dict) and student.get("type") == "NoneType":
                _student(student, hub_user)  # fails, saying where the id comes from
            claim = read_claim(data, self.grade_id)
            if hub_user and not os.environ.get("NBGRADER_EXECUTION") and claim.student != _hub(hub_user):
                fail(
                    f"you are signed in to JupyterHub as {hub_user!r}, but student_id says "
                    f"{claim.student!r}: write your own id in the id cell.",
                    "another id",
                )
        except CheckFailed as failure:
            return Verdict(False, str(failure).removeprefix("❌").strip(), failure.mistake)
        return Verdict(True, f"{self.grade_id} = {claim.letter!r} recorded; it is judged at grading.")

    def grade_here(self, *values: Any) -> None:
        """For stock nbgrader only (hidden tests): judge in this kernel with the key found on disk.

        Stock nbgrader runs hidden tests in the student's kernel, which can then read the key too;
        the course's own grader judges outside the kernel instead. The graded id is nbgrader's
        student id (the folder ``autograded/<student>/<lesson>/`` it runs in); when validating a
        notebook, the claimed one.
        """
        __tracebackhide__ = True
        data = wire.loads(wire.dumps(self.gather(values, PRACTICE_SEED)))
        key_path = find_key()
        if key_path is None:
            raise CheckFailed(
                f"❌ not judged: no answer key ({KEY_FILE}) beside the notebook or in the course.", "no key"
            )
        student = graded_student(data)
        if student is None and os.environ.get("NBGRADER_EXECUTION") == "autograde":
            raise CheckFailed("❌ not judged: cannot tell which student nbgrader is grading.", "no key")
        verdict = self.decide(data, PRACTICE_SEED, {"student": student, "key": load_key(key_path)})
        if not verdict.passed:
            raise CheckFailed(f"❌ {verdict.message}", verdict.mistake)
        passed(verdict.message)


def _hub(user: str) -> str:
    try:
        return bank.canonical_id(user)
    except bank.DrawError:
        return user


def graded_student(data: Any) -> str | None:
    """The id stock nbgrader grades under: from its autograde folder, or the claimed id elsewhere."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        here = Path.cwd()  # nbgrader runs the notebook in autograded/<student>/<lesson>/
        return here.parent.name if here.name == LESSON and here.parent.parent.name == "autograded" else None
    student = data.get("student") if isinstance(data, dict) else None
    return student.get("value") if isinstance(student, dict) and student.get("type") == "str" else None


def find_key(start: Path | None = None) -> Path | None:
    """The key file for stock nbgrader's hidden tests, in ``solutions/<lesson>/`` of the course.

    The course is the folder with course.yml at or above ``start`` (the current folder; when
    nbgrader autogrades, exactly the course root above ``autograded/<student>/<lesson>/``, never
    a folder a submission could bring), or else the one above this package (an editable install).
    The key file's name is the lesson's ``key`` in course.yml.
    """
    here = (start or Path.cwd()).resolve()
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        candidates = [here.parents[2]] if len(here.parents) > 2 else []
    else:
        candidates = [here, *here.parents]
    for folder in (*candidates, *Path(__file__).resolve().parents):
        manifest = folder / "course.yml"
        if manifest.is_file():
            path = folder / "solutions" / LESSON / _key_name(manifest)
            if path.is_file():
                return path
    return None


def _key_name(manifest: Path) -> str:
    import yaml

    try:
        course = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        lesson = next(item for item in course["lessons"] if item.get("id") == LESSON)
        return str(lesson.get("key") or KEY_FILE)
    except (OSError, yaml.YAMLError, KeyError, TypeError, StopIteration, AttributeError):
        return KEY_FILE


# ---- what the notebook shows --------------------------------------------------------------------


def whose(student_id: object, hub_user: str | None = None) -> tuple[str | None, str]:
    """The id the notebook draws the test for, and a sentence saying where it comes from."""
    hub_user = os.environ.get("JUPYTERHUB_USER") if hub_user is None else hub_user
    if student_id is None and hub_user:
        try:
            return bank.canonical_id(hub_user), (
                f"your JupyterHub user name, {hub_user!r}. Write it into the id cell too "
                f'(student_id = "{hub_user}"): grading reproduces your test from the id cell'
            )
        except bank.DrawError as error:
            return None, f"{error}"
    if student_id is None:
        return None, f"no id yet: write your student id in the id cell, e.g. {ID_EXAMPLE}, and run it"
    try:
        return bank.canonical_id(student_id), "the id cell"
    except bank.DrawError as error:
        return None, f"{error}"


def show(number: int, student_id: object, version: int) -> None:
    """Display question ``number`` of the test drawn for ``student_id`` (or say what is missing)."""
    sid, source = whose(student_id)
    if sid is None:
        print(f"Your test cannot be drawn yet: {source}.")
        return
    text = bank.render(bank.draw(sid, version)[number - 1])
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Markdown(text))
    else:  # outside IPython
        print(text)


def welcome(student_id: object, version: int) -> None:
    """Say whose test the notebook shows, and from which id."""
    sid, source = whose(student_id)
    if sid is None:
        print(f"Your test cannot be drawn yet: {source}.")
    else:
        print(f"Your test is drawn for the id {sid!r} (from {source}), from bank version {version}.")


def summary(namespace: dict[str, Any]) -> int:
    """Print which answers are recorded in form (never whether they are right); return how many."""
    recorded = 0
    for item in EXERCISES:
        values = [namespace.get(name, MISSING) for name in item.names]
        data = wire.loads(wire.dumps(item.gather(values, PRACTICE_SEED)))
        verdict = item.form(data)
        recorded += verdict.passed
        status = "recorded" if verdict.passed else verdict.message
        print(f"{item.grade_id}  {status}")
    print(f"\n{recorded} of {len(EXERCISES)} answers recorded. They are judged when the test is graded.")
    return recorded


EXERCISES = [
    ExamItem(
        grade_id=f"t{slot:02d}",
        title=f"Question {slot} ({level})",
        names=(*NAMES, f"t{slot:02d}"),
        probe=_probe(slot),
        judge=_judge(slot),
        needs_context=True,
        slot=slot,
    )
    for slot, level in enumerate((level for level, count in bank.PLAN for _ in range(count)), start=1)
]
t01, t02, t03, t04, t05, t06, t07, t08, t09, t10 = EXERCISES
