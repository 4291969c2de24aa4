"""Can a student work through the course in JupyterLab, in a real browser?

A JupyterLab server from this environment serves a copy of notebooks/; Debian's Chromium, driven by
Playwright, opens each lesson, runs its set-up and first demonstration, and, in the quiz, types a
right and a wrong answer, runs their checks, reads the feedback and presses nbgrader's Validate.
Opening a lesson leaves its tab unmodified. In a notebook of its own, the test moves the sliders
of the lessons' explorers (augcourse.explore) and sees their pictures and numbers change.
Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

from augcourse.checks.quiz import LETTERS, QUESTIONS, is_right
from grader.answers import reference_answers
from grader.manifest import load_course
from grader.preprocessors.kernel_metadata import KERNELSPEC, LANGUAGE_INFO
from grader.probes import graded_cells
from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
LESSONS = [lesson.id for lesson in load_course(ROOT).lessons]
QUIZ = "05_practice_quiz"
SETTLE_MS = 3_000  # ms after the kernel is idle, for JupyterLab to write the kernel's metadata
RUN_TIMEOUT = 240_000  # ms: a cell that imports TensorFlow or trains a little, on a busy 2-core machine
NOT_RUN = re.compile(r"^\[ \]:\s*$")  # a cell's prompt before it is queued or run
PAINT_MS = 500  # ms for the page to paint cells scrolled into view, before a screenshot
NO_NEWS = {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}


@dataclass
class Lab:
    """A running JupyterLab server: its address, token, served folder and log."""

    url: str
    token: str
    root: Path
    log: Path
    console: list[str] = field(default_factory=list)

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """End every session, so that each lesson starts from a fresh kernel."""
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(folder: Path) -> None:
    """User settings for the test server: no news or update checks (the network is closed)."""
    for plugin, values in NO_NEWS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def wait_until_up(lab: Lab, process: subprocess.Popen, seconds: float = 120) -> None:
    """Return once the server answers; fail with its log if it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{lab.log.read_text()[-3000:]}")
        try:
            lab.api("GET", "status")
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer in {seconds:.0f} s:\n{lab.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab from this environment, started as `make lab` does, on a copy of notebooks/."""
    tmp = tmp_path_factory.mktemp("lab")
    served = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", served, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with running_lab(served, ROOT, tmp) as server:
        yield server


@contextlib.contextmanager
def running_lab(served: Path, cwd: Path, tmp: Path) -> Iterator[Lab]:
    """JupyterLab from this environment serving ``served``, started in ``cwd``, its state under ``tmp``."""
    write_settings(tmp / "settings")
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={served}",
        "--ServerApp.disable_check_xsrf=True",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
    ]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "run")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    server = Lab(f"http://127.0.0.1:{port}", token, served, tmp / "server.log")
    with server.log.open("w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext | None]:
    """Debian's Chromium, headless, with a new empty profile; None where it is not installed."""
    if not CHROMIUM.exists():
        yield None
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


def need(browser: BrowserContext | None) -> BrowserContext:
    """The browser, or a failure that says how to install it (CI installs it: `make test`)."""
    if browser is None:
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing). Run `make browser` "
            "(Debian's chromium package), or `make test`, which installs it.",
            pytrace=False,
        )
    return browser


class NotebookPage:
    """One student notebook open in JupyterLab; cells are found by their id in the file."""

    def __init__(self, page: Page, lab: Lab, lesson_id: str) -> None:
        self.page, self.lab, self.lesson_id = page, lab, lesson_id
        self.file = nbformat.read(lab.root / lesson_id / f"{lesson_id}.ipynb", as_version=4)
        self.ids = [cell.id for cell in self.file.cells]
        page.on("console", lambda m: lab.console.append(f"{lesson_id} {m.type}: {m.text}"))
        page.goto(f"{lab.url}/lab/tree/{lesson_id}/{lesson_id}.ipynb?reset&token={lab.token}")
        self.panel = page.locator(".jp-NotebookPanel").first
        self.cells = self.panel.locator(".jp-Notebook .jp-Cell")
        expect(self.cells).to_have_count(len(self.ids), timeout=RUN_TIMEOUT)
        indicator = self.panel.locator(".jp-Notebook-ExecutionIndicator")
        expect(indicator).to_have_attribute("data-status", "idle", timeout=RUN_TIMEOUT)

    def cell(self, cell_id: str) -> Locator:
        """The cell with this id in the notebook file."""
        return self.cells.nth(self.ids.index(cell_id))

    def run(self, cell_id: str) -> str:
        """Select a cell, press Shift+Enter, wait for its execution count; return its output text."""
        cell = self.cell(cell_id)
        prompt = cell.locator(".jp-InputArea-prompt")
        for _ in range(3):  # a keypress that a busy page drops (the prompt stays "[ ]:") is pressed again
            cell.locator(".jp-InputArea-editor").click()
            self.page.keyboard.press("Shift+Enter")
            try:
                expect(prompt).not_to_have_text(NOT_RUN, timeout=20_000)
                break
            except AssertionError:
                continue
        expect(prompt).to_have_text(re.compile(r"\[\d+\]:"), timeout=RUN_TIMEOUT)
        return cell.locator(".jp-Cell-outputWrapper").inner_text()

    def type_into(self, cell_id: str, code: str) -> None:
        """Replace a cell's code by typing, as a student does."""
        editor = self.cell(cell_id).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(code)
        expect(editor).to_have_text("".join(code.splitlines()))  # its text has no line breaks

    def is_modified(self) -> bool:
        """Whether JupyterLab marks the notebook's tab as modified (unsaved changes)."""
        return self.page.locator(".lm-TabBar-tab.jp-mod-dirty").count() > 0

    def problems_shown(self, cell_id: str) -> int:
        """How many error or stderr outputs a cell shows."""
        stderr = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        return self.cell(cell_id).locator(stderr).count()

    def shot(self, name: str, cell_id: str | None = None) -> None:
        """Save a screenshot, with ``cell_id`` scrolled into view."""
        if cell_id:
            self.cell(cell_id).scroll_into_view_if_needed()
            expect(self.cell(cell_id)).to_be_in_viewport()
        self.page.wait_for_timeout(PAINT_MS)
        self.page.screenshot(path=ARTIFACTS / f"{self.lesson_id}-{name}.png")


@pytest.fixture
def notebook_page(lab: Lab, browser: BrowserContext | None) -> Iterator[Callable[[str], NotebookPage]]:
    """Open a lesson in a new tab; close it and end its kernel afterwards."""
    pages: list[Page] = []

    def open_lesson(lesson_id: str) -> NotebookPage:
        page = need(browser).new_page()
        pages.append(page)
        return NotebookPage(page, lab, lesson_id)

    yield open_lesson
    for page in pages:
        page.close()
    lab.shut_down_kernels()


def setup_cell(notebook: nbformat.NotebookNode) -> str:
    """The locked set-up cell: the first code cell that seeds everything."""
    return next(c.id for c in notebook.cells if c.cell_type == "code" and "seed_everything" in c.source)


def first_demonstration(notebook: nbformat.NotebookNode, after: str) -> str:
    """The first code cell after ``after`` that is neither an answer nor a test."""
    ids = [c.id for c in notebook.cells]
    for cell in notebook.cells[ids.index(after) + 1 :]:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not grading.get("solution") and not grading.get("grade"):
            return cell.id
    raise AssertionError("a lesson has a demonstration after its set-up cell")


def answers_before(notebook: nbformat.NotebookNode, start: str, stop: str) -> list[str]:
    """The answer cells between two cells (a demonstration may use an answer, such as a student id)."""
    ids = [c.id for c in notebook.cells]
    between = notebook.cells[ids.index(start) + 1 : ids.index(stop)]
    return [c.id for c in between if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def kernel_reports_the_notebooks_python(notebook: nbformat.NotebookNode) -> bool:
    """Whether this machine's kernel reports the Python version the built notebook names."""
    return notebook.metadata.language_info.version == platform.python_version()


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_lesson_opens_cleanly_and_runs_setup_and_a_demonstration(lesson_id, notebook_page, lab, course):
    nb = notebook_page(lesson_id)
    assert nb.page.locator(".jp-Dialog").count() == 0, "no dialog (kernel choice, bad metadata) on opening"
    nb.page.wait_for_timeout(SETTLE_MS)
    if kernel_reports_the_notebooks_python(nb.file):
        assert not nb.is_modified(), "opening the lesson marked it modified"
    nb.shot("1-opened")
    assert nb.run("colab-install").strip() == "", "outside Colab the install cell prints nothing"
    setup = setup_cell(nb.file)
    printed = nb.run(setup)
    assert f"TensorFlow {course.runtime.tensorflow}" in printed and f"seed {course.seed}" in printed
    assert nb.problems_shown(setup) == 0
    demo = first_demonstration(nb.file, setup)
    answers = reference_answers(ROOT / "solutions" / lesson_id / f"{lesson_id}.ipynb")
    for cell_id in answers_before(nb.file, setup, demo):  # typed as a student would
        grade_id = next(c for c in nb.file.cells if c.id == cell_id).metadata.nbgrader["grade_id"]
        nb.type_into(cell_id, answers[grade_id].strip())
        nb.run(cell_id)
        assert nb.problems_shown(cell_id) == 0, cell_id
    shown = nb.run(demo)
    nb.shot("2-demonstration", demo)
    assert nb.problems_shown(demo) == 0, shown
    assert nb.cell(demo).locator(".jp-OutputArea-output").count() > 0, "the demonstration shows something"
    assert "Notebook JSON is invalid" not in lab.log.read_text()
    assert [m for m in lab.console if m.startswith(lesson_id) and "metadata" in m.lower()] == []


@pytest.mark.slow
def test_quiz_gives_feedback_in_the_page_and_validates(notebook_page, course):
    assert QUIZ in course.by_id, f"{QUIZ} is a lesson of course.yml"
    nb = notebook_page(QUIZ)
    nb.run("colab-install")
    nb.run(setup_cell(nb.file))
    right = next(x for x in LETTERS if is_right("q1", x))
    wrong = next(x for x in LETTERS if not is_right("q2", x))
    nb.type_into("q1_answer", f'q1 = "{right}"')
    nb.run("q1_answer")
    feedback = nb.run("q1")
    assert f"✅ q1 = '{right}' is right." in feedback and "Why:" in feedback
    nb.type_into("q2_answer", f'q2 = "{wrong.lower()}"')
    nb.run("q2_answer")
    feedback = nb.run("q2")
    assert f"❌ q2 = '{wrong}' is not right yet. Hint:" in feedback
    assert f"1 of {len(QUESTIONS)} questions right." in nb.run("score")
    nb.shot("3-feedback", "q2")
    nb.panel.locator(".jp-Toolbar-item", has_text="Validate").click()
    dialog = nb.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("The following cell failed", timeout=RUN_TIMEOUT)
    nb.shot("4-validated")
    report = dialog.inner_text()
    assert '"""Q2:' in report and "is not right yet" in report, "the saved wrong answer fails"
    assert '"""Q1:' not in report, "the saved right answer passes"
    dialog.get_by_role("button", name="OK").click()


@pytest.mark.slow
def test_stock_nbgrader_validate_in_the_repository_reports_every_unanswered_exercise(root):
    path = f"notebooks/{QUIZ}/{QUIZ}.ipynb"
    nbgrader = Path(sys.executable).with_name("nbgrader")
    done = subprocess.run([str(nbgrader), "validate", path], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"Validating '{root / path}'" in done.stderr
    graded = graded_cells(nbformat.read(root / path, as_version=4))
    assert re.findall(r"VALIDATION FAILED ON (\d+) CELL\(S\)!", done.stdout) == [str(len(graded))]
    assert done.stdout.count("is not answered yet") == len(graded)


@pytest.mark.parametrize("lesson_id", LESSONS)
def test_student_notebook_is_valid_nbformat(lesson_id):
    notebook = nbformat.read(ROOT / "notebooks" / lesson_id / f"{lesson_id}.ipynb", as_version=4)
    nbformat.validate(notebook)


# ---- a clean tab: the build writes the kernel metadata JupyterLab would write ----


def test_built_notebooks_carry_the_kernel_metadata_jupyterlab_writes(course):
    from ipykernel.ipkernel import IPythonKernel

    reported = dict(IPythonKernel.language_info)
    for lesson_id in LESSONS:
        metadata = nbformat.read(ROOT / "notebooks" / lesson_id / f"{lesson_id}.ipynb", as_version=4).metadata
        assert metadata.kernelspec == KERNELSPEC
        assert {k: v for k, v in metadata.language_info.items() if k != "version"} == LANGUAGE_INFO
        assert {k: v for k, v in reported.items() if k != "version"} == LANGUAGE_INFO, "what ipykernel says"
        assert metadata.language_info.version.startswith(f"{course.runtime.python}.")


@pytest.mark.slow
def test_opening_a_lesson_leaves_its_tab_unmodified(lab, notebook_page):
    """The cause, then the fix: JupyterLab rewrites ``language_info`` unless it is the kernel's."""
    built = nbformat.read(lab.root / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    if not kernel_reports_the_notebooks_python(built):
        pytest.skip(
            f"the notebooks name Python {built.metadata.language_info.version}, this kernel runs "
            f"{platform.python_version()}: JupyterLab rewrites the version, as it should"
        )
    before = "before_the_fix"
    (lab.root / before).mkdir(exist_ok=True)
    old = nbformat.from_dict(json.loads(json.dumps(built)))
    old.metadata.language_info = {"name": "python", "version": "3.11"}  # what solutions/ carry
    nbformat.write(old, lab.root / before / f"{before}.ipynb")
    control = notebook_page(before)
    expect(control.page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(1, timeout=60_000)
    control.shot("modified-on-opening")
    control.page.close()
    nb = notebook_page(QUIZ)
    nb.page.wait_for_timeout(SETTLE_MS)
    nb.shot("unmodified-on-opening")
    assert not nb.is_modified()


# ---- the explorers of lessons 1 and 3, in a notebook of their own ----

EXPLORE = "explore_widgets"
EXPLORE_CELLS = {
    "setup": (
        "from augcourse import runtime\n\nruntime.quiet()\n\nimport keras\nimport numpy as np\n"
        "import tensorflow as tf\n\nfrom augcourse import explore, images\n\n"
        "SEED = runtime.seed_everything(42)\ncat = images.cat(96)"
    ),
    "augmentation": "explore.augmentation_explorer(cat)",
    "scores": (
        "rng = np.random.default_rng(SEED)\ny_val = rng.integers(0, 2, 120)\n"
        "p_val = np.clip(0.35 * y_val + 0.65 * rng.random(120), 0, 1)"
    ),
    "threshold": 'explore.threshold_explorer(y_val, p_val, names=("benign", "malignant"))',
}


def write_explore_notebook(root: Path) -> None:
    """A notebook with the explorer cells the lessons use, served beside the lessons."""
    cells = [nbformat.v4.new_code_cell(source, id=cell_id) for cell_id, source in EXPLORE_CELLS.items()]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.kernelspec = KERNELSPEC
    notebook.metadata.language_info = {**LANGUAGE_INFO, "version": platform.python_version()}
    (root / EXPLORE).mkdir(exist_ok=True)
    nbformat.write(notebook, root / EXPLORE / f"{EXPLORE}.ipynb")


def slider(widget: Locator, description: str) -> Locator:
    return widget.locator(".widget-slider", has_text=description)


def type_readout(widget: Locator, description: str, value: str) -> None:
    """Type a value into a slider's readout and press Enter, as a student may."""
    readout = slider(widget, description).locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.type(value)
    readout.press("Enter")


@pytest.mark.slow
def test_explorers_answer_their_sliders(lab, notebook_page):
    write_explore_notebook(lab.root)
    nb = notebook_page(EXPLORE)
    nb.run("setup")
    assert nb.problems_shown("setup") == 0

    nb.run("augmentation")
    explorer = nb.cell("augmentation").locator(".augcourse-augmentation-explorer")
    picture = explorer.locator(".widget-image")
    expect(picture).to_be_visible(timeout=RUN_TIMEOUT)
    code = explorer.locator(".widget-html-content").first
    expect(code).to_contain_text("keras.layers.RandomRotation(0.1)")
    expect(code).to_contain_text("(draw 1)")
    first = picture.get_attribute("src")
    nb.shot("5-augmentation-explorer", "augmentation")

    handle = slider(explorer, "rotation").locator(".noUi-handle")
    handle.click()
    for _ in range(15):
        handle.press("ArrowRight")
    expect(code).to_contain_text("keras.layers.RandomRotation(0.25)", timeout=30_000)
    expect(picture).not_to_have_attribute("src", first, timeout=30_000)
    notes = explorer.locator(".widget-html-content").nth(1)
    expect(notes).to_contain_text("turns by -90° to +90°")
    nb.shot("6-rotation-moved", "augmentation")

    explorer.locator(".widget-dropdown", has_text="flip mode").locator("select").select_option(
        label="diagonal"
    )
    expect(notes).to_contain_text("never flipped an image", timeout=30_000)
    type_readout(explorer, "zoom", "-1")
    expect(code).to_contain_text("keras.layers.RandomZoom(-1.0)", timeout=30_000)
    expect(notes).to_contain_text("Keras rejects")
    expect(code).to_contain_text("# ← raises")
    nb.shot("7-traps", "augmentation")

    nb.run("scores")
    nb.run("threshold")
    threshold = nb.cell("threshold").locator(".augcourse-threshold-explorer")
    numbers = threshold.locator(".widget-html-content")
    chart = threshold.locator(".widget-image")
    expect(numbers).to_contain_text("score ≥ 0.50", timeout=RUN_TIMEOUT)
    shown, drawn = numbers.inner_text(), chart.get_attribute("src")
    nb.shot("8-threshold-explorer", "threshold")
    handle = slider(threshold, "threshold").locator(".noUi-handle")
    handle.click()
    for _ in range(20):
        handle.press("ArrowLeft")
    expect(numbers).to_contain_text("score ≥ 0.30", timeout=30_000)
    expect(chart).not_to_have_attribute("src", drawn, timeout=30_000)
    assert numbers.inner_text() != shown
    recall = lambda text: float(re.search(r"recall (\d\.\d+)", text)[1])  # noqa: E731
    assert recall(numbers.inner_text()) >= recall(shown), "a lower threshold cannot lower recall"
    nb.shot("9-threshold-moved", "threshold")
    for cell_id in EXPLORE_CELLS:
        assert nb.problems_shown(cell_id) == 0, cell_id
