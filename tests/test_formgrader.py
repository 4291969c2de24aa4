"""Does nbgrader's formgrader, in a real browser, show what `grade` wrote, and keep a score set by hand?

A copy of the course gets a gradebook from `grade`'s recording step (four quiz results: right,
half right, late, and a file that is no notebook). JupyterLab from this environment serves it with
nbgrader's formgrader; Debian's Chromium, driven by Playwright, reads the Manage Submissions and
Manage Students pages, opens a submission, types a score by hand as an instructor does, and the
next grading keeps that score and marks it. Screenshots go to test-artifacts/formgrader/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from grader.gradebook import opened, record
from grader.manifest import load_course
from tests.conftest import ROOT
from tests.test_browser import Lab, browser, need, running_lab
from tests.test_gradebook import QUIZ, course_copy, invalid_result, quiz_result, read_csv

__all__ = ["browser"]  # the Chromium fixture of tests/test_browser.py, shared

ARTIFACTS = ROOT / "test-artifacts" / "formgrader"
LOAD_MS = 60_000


def results():
    return [
        quiz_result("alice", 6, "2025-10-27 12:00:00.000000 UTC"),
        quiz_result("carol", 3),
        quiz_result("frank", 5, "2025-10-29 08:00:00.000000 UTC"),
        invalid_result("dave"),
    ]


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory) -> Path:
    folder = course_copy(tmp_path_factory.mktemp("formgrader") / "course")
    record(folder, load_course(folder), folder / "no-source", folder / "reports", results())
    return folder


@pytest.fixture(scope="module")
def lab(course_dir: Path, tmp_path_factory) -> Iterator[Lab]:
    """JupyterLab with nbgrader's formgrader, started in the course folder (it reads nbgrader_config.py)."""
    with running_lab(course_dir, course_dir, tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab: Lab, browser: BrowserContext | None) -> Iterator[Page]:
    """A signed-in tab (the token's cookie also lets formgrader's pages call its API)."""
    tab = need(browser).new_page()
    tab.goto(f"{lab.url}/lab?token={lab.token}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield tab
    tab.close()


def table(page: Page, url: str) -> list[list[str]]:
    """The rows of the first table of a formgrader page, once its data has loaded."""
    page.goto(url)
    body = page.locator("table tbody").first
    expect(body).not_to_contain_text("Loading", timeout=LOAD_MS)
    expect(body.locator("tr").first).to_be_visible(timeout=LOAD_MS)
    return [
        [cell.strip() for cell in row.split("\t")] for row in body.inner_text().splitlines() if row.strip()
    ]


def raw_scores(course_dir: Path) -> dict[str, str]:
    """grades.csv's raw score per student, as formgrader shows it (``6 / 6``)."""
    return {
        row["student_id"]: f"{float(row['raw_score']):g} / {float(row['max_score']):g}"
        for row in read_csv(course_dir / "reports" / "grades.csv")
    }


def score_column(rows: list[list[str]], header_index: int) -> dict[str, str]:
    return {row[1]: re.sub(r"\s+", " ", row[header_index]) for row in rows if len(row) > header_index}


@pytest.mark.slow
def test_manage_submissions_shows_the_scores_of_grades_csv(page, lab, course_dir):
    rows = table(page, f"{lab.url}/formgrader/manage_submissions/{QUIZ}")
    page.screenshot(path=ARTIFACTS / "1-manage-submissions.png", full_page=True)
    shown = score_column(rows, 4)  # Student Name, Student ID, Timestamp, Status, Score
    assert shown == raw_scores(course_dir)
    assert all(row[3] == "graded" for row in rows), rows


@pytest.mark.slow
def test_manage_students_shows_each_students_overall_score(page, lab, course_dir):
    rows = table(page, f"{lab.url}/formgrader/manage_students")
    page.screenshot(path=ARTIFACTS / "2-manage-students.png", full_page=True)
    assert score_column(rows, 3) == raw_scores(course_dir)  # Name, Student ID, Email, Overall Score


@pytest.mark.slow
def test_a_score_set_by_hand_in_formgrader_is_kept_by_the_next_grading(page, lab, course_dir):
    rows = table(page, f"{lab.url}/formgrader/manage_students/carol/{QUIZ}")
    assert rows[0][:2] == [QUIZ, "3 / 6"]
    page.locator("table tbody a").first.click()  # the submitted notebook, as formgrader shows it
    score = page.locator("input.score#q5")
    expect(score).to_have_attribute("placeholder", "0", timeout=LOAD_MS)  # the autograder's score
    page.locator("input.score#q1").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "3-submission.png")
    score.fill("1")
    score.press("Tab")  # formgrader saves a score when its box loses focus
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with opened(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
            if gb.find_grade("q5", QUIZ, QUIZ, "carol").manual_score == 1.0:
                break
        time.sleep(0.5)
    else:
        pytest.fail("formgrader did not save the score typed by hand")
    score.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "4-score-set-by-hand.png")

    record(course_dir, load_course(course_dir), course_dir / "no-source", course_dir / "reports", results())
    carol = next(
        row for row in read_csv(course_dir / "reports" / "grades.csv") if row["student_id"] == "carol"
    )
    assert (carol["raw_score"], carol["set_by_hand"]) == ("4", "q5=1")
    rows = table(page, f"{lab.url}/formgrader/manage_submissions/{QUIZ}")
    assert score_column(rows, 4) == raw_scores(course_dir)
    assert score_column(rows, 4)["carol"] == "4 / 6"
    page.screenshot(path=ARTIFACTS / "5-after-grading-again.png", full_page=True)
    page.goto(f"file://{course_dir / 'reports' / 'feedback' / 'carol' / f'{QUIZ}.html'}")
    expect(page.locator("body")).to_contain_text("set by your instructor")
    page.screenshot(path=ARTIFACTS / "6-feedback-marks-it.png", full_page=True)
