"""Regenerate the sample submissions in examples/submissions/ from notebooks/ and solutions/.

Run ``python examples/make_submissions.py``; tests check that the committed samples match it.
Each sample is a student version of a lesson as a student would hand it in (nbgrader's
``<student>/<lesson>/<lesson>.ipynb`` layout), and ``EXPECTED`` says what grading must give.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from grader.answers import fill, reference_answers

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "submissions"
QUIZ = "05_practice_quiz"

# student -> (lesson, expected score, expected status)
EXPECTED = {
    "alice": (QUIZ, 6.0, "graded"),  # every answer right
    "bob": (QUIZ, 0.0, "graded"),  # the student version, untouched
    "carol": (QUIZ, 3.0, "graded"),  # three right (in odd spellings), three wrong
    "dave": (QUIZ, 0.0, "invalid"),  # a file cut short: not valid JSON
}

CAROL = {
    "q1_answer": 'q1 = "c"',
    "q2_answer": 'q2 = "C"',
    "q3_answer": 'q3 = " a "',
    "q4_answer": 'q4 = "A"',
    "q5_answer": 'q5 = "B"',
    "q6_answer": 'q6 = "A"',
}


def samples() -> dict[str, str]:
    """Every sample's file text, keyed by its path relative to examples/submissions/."""
    student = ROOT / "notebooks" / QUIZ / f"{QUIZ}.ipynb"
    perfect = fill(student, reference_answers(ROOT / "solutions" / QUIZ / f"{QUIZ}.ipynb"))
    wrong = fill(student, CAROL)
    texts = {
        "alice": nbformat.writes(perfect) + "\n",
        "bob": student.read_text(encoding="utf-8"),
        "carol": nbformat.writes(wrong) + "\n",
    }
    texts["dave"] = texts["carol"][: len(texts["carol"]) // 2]
    return {f"{name}/{QUIZ}/{QUIZ}.ipynb": text for name, text in texts.items()}


def main() -> int:
    """Write the samples."""
    for relative, text in samples().items():
        path = OUT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
