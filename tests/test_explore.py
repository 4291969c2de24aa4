"""Do the explorers show what Keras and scikit-learn really do, respond to their controls, and stay
inert where no one is looking? And does the set-up cell speak up on an untested TensorFlow?

The widgets are driven here from Python, as a front end's messages would drive them; the browser
test (tests/test_browser.py) moves their sliders in JupyterLab.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from datetime import datetime

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from sklearn.metrics import confusion_matrix, precision_recall_curve, precision_score, recall_score

from augcourse import explore, images, runtime
from tests.conftest import ROOT

L = keras.layers


def builds(line: str) -> str | None:
    """The error this Keras raises building ``line``, or None if it builds."""
    try:
        eval(line, {"keras": keras})
    except Exception as error:
        return type(error).__name__
    return None


@pytest.fixture(scope="module")
def cat() -> np.ndarray:
    return images.cat(48)  # small: the tests only need its shape and values


@pytest.fixture(scope="module")
def explorer(cat) -> explore.AugmentationExplorer:
    return explore.augmentation_explorer(cat, copies=4)


@pytest.fixture
def fresh(explorer) -> explore.AugmentationExplorer:
    """The module's explorer, its controls back at the defaults."""
    defaults = explore.Settings()
    for name, value in vars(defaults).items():
        getattr(explorer, name).value = value
    explorer.update()
    return explorer


# ---- the tested releases and the set-up cell's note ----


def test_the_last_tested_release_is_the_pinned_runtime(course):
    assert runtime.TESTED_RELEASES[-1] == (course.runtime.tensorflow, course.runtime.keras)
    assert (tf.__version__, keras.__version__) == runtime.TESTED_RELEASES[-1]


def test_the_tested_range_comes_from_the_list_of_releases():
    assert runtime.tested_range("tensorflow") == ((2, 18), (2, 21))
    assert runtime.tested_range("keras") == ((3, 8), (3, 15))


@pytest.mark.parametrize("release", runtime.TESTED_RELEASES, ids=lambda r: f"tf{r.tensorflow}")
def test_no_note_on_a_tested_release(release):
    assert runtime.version_note(release.tensorflow, release.keras) is None


@pytest.mark.parametrize(
    ("tensorflow", "keras_version"),
    [("2.19.0", "3.9.2"), ("2.20.1", "3.12.0"), ("2.18.0", "3.8.0"), ("2.21.0rc1", "3.15.0")],
)
def test_no_note_inside_the_range(tensorflow, keras_version):
    assert runtime.version_note(tensorflow, keras_version) is None


@pytest.mark.parametrize(
    ("tensorflow", "keras_version"),
    [
        ("2.17.1", "3.5.0"),
        ("2.22.0", "3.15.1"),
        ("2.21.0", "3.16.0"),
        ("2.21.0", "2.15.0"),
        ("nightly", "3.15.1"),
    ],
)
def test_one_line_outside_the_range(tensorflow, keras_version):
    note = runtime.version_note(tensorflow, keras_version)
    assert note and "\n" not in note
    assert "TensorFlow 2.18–2.21 with Keras 3.8–3.15" in note
    assert f"you have TensorFlow {tensorflow} with Keras {keras_version}" in note


def test_seed_everything_says_so_on_stdout_and_goes_on(monkeypatch, capsys):
    assert runtime.seed_everything(3) == 3
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(tf, "__version__", "2.16.2")
    assert runtime.seed_everything(3) == 3
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1 and "you have TensorFlow 2.16.2" in out


def load_matrix():
    spec = importlib.util.spec_from_file_location("test_matrix_tool", ROOT / "tools" / "test_matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_matrix_runs_the_same_releases_and_reads_pytest_reports(tmp_path):
    matrix = load_matrix()
    assert matrix.TESTED_RELEASES is runtime.TESTED_RELEASES
    assert all((ROOT / path).is_file() for path in matrix.CLAIM_TESTS)
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="ok"/>'
        '<testcase classname="tests.test_a" name="bad"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_b" name="gone"><skipped/></testcase>'
        "</testsuite></testsuites>"
    )
    outcome = matrix.read_junit(report)
    assert (outcome.passed, outcome.failed, outcome.skipped) == (1, ["tests.test_a::bad"], 1)
    assert outcome.summary() == "1 passed, 1 failed, 1 skipped"
    assert matrix.table([["a", "bb"], ["ccc", "d"]]).splitlines() == [
        "| a   | bb |",
        "|-----|----|",
        "| ccc | d  |",
    ]


# ---- the augmentation explorer ----


def test_the_code_shown_is_the_code_that_ran(fresh):
    fresh.fill_mode.value = "constant"
    fresh.contrast.value = 0.3
    fresh.brightness.value = 0.25
    shown = fresh.last
    code = shown.code
    assert code.startswith("augmenter = keras.Sequential([")
    namespace = {"keras": keras}
    exec(code, namespace)
    rebuilt = namespace["augmenter"].layers
    assert [type(x).__name__ for x in rebuilt] == [type(x).__name__ for x in shown.layers]
    for mine, theirs in zip(shown.layers, rebuilt, strict=True):
        assert {k: v for k, v in mine.get_config().items() if k != "name"} == {
            k: v for k, v in theirs.get_config().items() if k != "name"
        }
    assert 'keras.layers.RandomRotation(0.1, fill_mode="constant")' in code
    assert "keras.layers.RandomContrast(0.3, value_range=(0, 1))" in code
    assert "keras.layers.RandomBrightness(0.25, value_range=(0, 1))" in code
    assert "pictures = augmenter(images, training=True)" in fresh.code.value


def test_moving_a_slider_re_augments_and_rewrites_the_code(fresh):
    before, runs = fresh.picture.value, fresh.runs
    fresh.rotation.value = 0.35
    assert fresh.runs == runs + 1 and fresh.picture.value != before
    assert "RandomRotation(0.35)" in fresh.last.code
    assert "turns by -126° to +126°" in fresh.notes.value
    again = fresh.picture.value
    fresh.again.click()
    assert fresh.runs == runs + 2 and fresh.picture.value != again, "new random draws"


def test_the_pictures_are_the_augmented_images(fresh, cat):
    fresh.flip.value = None
    fresh.zoom.value = 0.0
    fresh.rotation.value = 0.0
    assert fresh.last.code.startswith("keras.Sequential([])")
    assert np.array_equal(fresh.last.pictures, np.repeat(cat[np.newaxis], 4, axis=0))
    assert "No layer chosen" in fresh.notes.value
    fresh.rotation.value = 0.25
    pictures = fresh.last.pictures
    assert pictures.shape == (4, *cat.shape) and not np.allclose(pictures, cat)
    sheet = explore.grid(pictures)
    assert sheet.shape == (cat.shape[0], 4 * cat.shape[1] + 12, 3)  # one row of four, 4-pixel gaps
    assert explore.grid(np.concatenate([pictures, pictures])).shape[0] == 2 * cat.shape[0] + 4
    assert fresh.picture.value[:2] == b"\xff\xd8", "a JPEG"


def test_a_flip_mode_keras_ignores_is_shown_as_never_flipping(fresh):
    fresh.flip.value = "diagonal"
    seen = explore.flips_seen(L.RandomFlip("diagonal")) - {"none"}
    if seen:  # a later Keras that learns the mode: the explorer shows what it does
        assert "made these flips" in fresh.notes.value
    else:
        assert "raised no error, yet in 8 calls it never flipped an image" in fresh.notes.value
    fresh.flip.value = "vertical"
    assert "made these flips in 8 calls: vertical." in fresh.notes.value
    fresh.flip.value = "horizontal_and_vertical"
    assert "both axes" in fresh.notes.value


@pytest.mark.parametrize(
    ("control", "value", "line"),
    [
        ("zoom", -1.0, "keras.layers.RandomZoom(-1.0)"),
        ("zoom", 1.2, "keras.layers.RandomZoom(1.2)"),
        ("rotation", 1.2, "keras.layers.RandomRotation(1.2)"),
        ("translation", 1.1, "keras.layers.RandomTranslation(1.1, 1.1)"),
        ("contrast", 1.2, "keras.layers.RandomContrast(1.2, value_range=(0, 1))"),
        ("brightness", 1.05, "keras.layers.RandomBrightness(1.05, value_range=(0, 1))"),
    ],
)
def test_a_factor_keras_rejects_shows_its_error_not_a_picture(fresh, cat, control, value, line):
    getattr(fresh, control).value = value
    error = builds(line)  # what this Keras does: RandomZoom(-1.0) raises only in recent releases
    assert line in fresh.last.code
    if error:
        assert fresh.last.errors and line in fresh.last.errors
        assert f"Keras rejects <code>{line}</code>: {error}:" in fresh.notes.value
        assert "# ← raises" in fresh.code.value
        assert np.array_equal(fresh.last.pictures, np.repeat(cat[np.newaxis], 4, axis=0))
    else:
        assert not fresh.last.errors and "Keras rejects" not in fresh.notes.value


def test_contrast_from_one_number_is_shown_as_it_really_is(fresh):
    fresh.contrast.value = 0.4
    factors = explore._contrast_factors(L.RandomContrast(0.4, value_range=(0, 1)), images.cat(48), (0, 1))
    one_sided = factors.min() > 0.995
    assert ("only ever raises contrast" in fresh.notes.value) == one_sided
    fresh.contrast_pair.value = True
    assert "keras.layers.RandomContrast((0.4, 0.4), value_range=(0, 1))" in fresh.last.code
    assert "only ever raises contrast" not in fresh.notes.value
    low = float(fresh.notes.value.split("drew contrast factors from ")[1].split(" ")[0])
    assert low < 0.9, "the pair lowers contrast too"


def test_brightness_on_the_wrong_value_range_washes_out(fresh):
    fresh.brightness.value = 0.2
    assert "washes out" not in fresh.notes.value
    mild = fresh.last.pictures
    fresh.value_range.value = (0, 255)
    assert "keras.layers.RandomBrightness(0.2, value_range=(0, 255))" in fresh.last.code
    assert "adds up to ±51: the picture washes out" in fresh.notes.value
    assert np.abs(fresh.last.pictures).max() > 5 * np.abs(mild).max()


def test_the_zoom_and_translation_notes_read_keras_config(fresh):
    fresh.zoom.value = -0.3
    assert "changes the size by -30% to +30% (positive zooms out, negative zooms in)" in fresh.notes.value
    fresh.translation.value = 0.2
    assert "RandomTranslation shifts by -20% to +20%" in fresh.notes.value


def test_starting_settings_and_a_plain_text_fallback(cat):
    shown = explore.augmentation_explorer(cat, copies=2, flip=None, rotation=0.0, zoom=0.0, brightness=0.1)
    assert shown.last.code.count("keras.layers.") == 1 and "RandomBrightness(0.1" in shown.last.code
    assert repr(shown).startswith("AugmentationExplorer (sliders need a live notebook")
    bundle = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["text/plain"] == repr(shown)


# ---- the threshold explorer ----


@pytest.fixture(scope="module")
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 120)
    return labels, np.clip(0.35 * labels + 0.65 * rng.random(120), 0, 1).round(3)


@pytest.mark.parametrize("threshold", [0.1, 0.37, 0.5, 0.73, 0.9])
def test_threshold_numbers_are_scikit_learns(scores, threshold):
    labels, values = scores
    shown = explore.threshold_explorer(labels, values, threshold=threshold)
    flagged = values >= threshold
    now = shown.current
    assert np.array_equal(now.matrix, confusion_matrix(labels, flagged, labels=[0, 1]))
    assert now.precision == pytest.approx(precision_score(labels, flagged))
    assert now.recall == pytest.approx(recall_score(labels, flagged))
    assert f"precision <b>{now.precision:.3f}</b>" in shown.numbers.value
    assert f"recall <b>{now.recall:.3f}</b>" in shown.numbers.value
    (tn, fp), (fn, tp) = now.matrix
    assert f"TP {tp}  FP {fp}  FN {fn}  TN {tn}" in shown.numbers.value


def test_the_point_lies_on_the_precision_recall_curve(scores):
    labels, values = scores
    curve_precision, curve_recall, thresholds = precision_recall_curve(labels, values)
    for t, p, r in list(zip(thresholds, curve_precision, curve_recall, strict=False))[::17]:
        now = explore.at_threshold(labels, values, float(t))
        assert (now.precision, now.recall) == pytest.approx((p, r))


def test_moving_the_threshold_updates_everything_together(scores):
    labels, values = scores
    shown = explore.threshold_explorer(labels, values, names=("benign", "malignant"))
    numbers, picture = shown.numbers.value, shown.picture.value
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
    shown.threshold.value = 0.3
    assert (
        shown.current.threshold == 0.3 and shown.numbers.value != numbers and shown.picture.value != picture
    )
    assert shown.current.recall >= recall_score(labels, values >= 0.5)
    shown.threshold.value = 1.0
    assert "— (nothing flagged)" in shown.numbers.value and shown.current.flagged == 0
    tied = float(values[3])
    shown.threshold.value = tied
    assert shown.current.flagged == int((values >= tied).sum()), "a score equal to the threshold is flagged"


def test_threshold_slider_spans_scores_outside_zero_one():
    shown = explore.threshold_explorer([0, 1, 1, 0], [-2.5, 3.1, 0.4, 0.2], threshold=0.0)
    assert (shown.threshold.min, shown.threshold.max) == (-2.5, 3.1)
    assert shown.current.flagged == 3


@pytest.mark.parametrize(
    ("labels", "values", "message"),
    [
        ([0, 1, 1], [0.2, 0.4], "same length"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "must be 0"),
        ([], [], "same"),
    ],
)
def test_threshold_explorer_rejects_bad_data(labels, values, message):
    with pytest.raises(ValueError, match=message):
        explore.threshold_explorer(labels, values)


# ---- headless: graded, validated and CI runs execute the explorers without a front end ----

HEADLESS_CELLS = [
    # no runtime.quiet() here: the threshold explorer writes nothing to stderr on its own
    "import numpy as np\nfrom augcourse import explore\n"
    "rng = np.random.default_rng(0)\ny_val = rng.integers(0, 2, 200)\n"
    "p_val = np.clip(0.3 * y_val + 0.7 * rng.random(200), 0, 1)",
    'explore.threshold_explorer(y_val, p_val, names=("benign", "malignant"))',
    "from augcourse import runtime\nruntime.quiet()\nimport keras\nimport tensorflow as tf\n"
    "from augcourse import images\nSEED = runtime.seed_everything(42)\ncat = images.cat(96)",
    "explore.augmentation_explorer(cat)",
    "print('after the explorers')",
]


def execute(tmp_path, sources: list[str], store_widget_state: bool) -> nbformat.NotebookNode:
    """Run a notebook with nbclient, as validating, grading and CI do: no front end at all."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        store_widget_state=store_widget_state,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.monotonic()
    client.execute()
    took = time.monotonic() - start
    assert took < 60, f"the notebook took {took:.0f} s"
    outputs = [output for cell in notebook.cells for output in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert [o for o in outputs if o.output_type == "stream" and o.name == "stderr"] == []
    nbformat.validate(notebook)
    return notebook


def seconds(cell: nbformat.NotebookNode) -> float:
    """How long a cell ran, from the timing nbclient records."""
    timing = {k: datetime.fromisoformat(v.replace("Z", "+00:00")) for k, v in cell.metadata.execution.items()}
    return (timing["shell.execute_reply"] - timing["iopub.execute_input"]).total_seconds()


@pytest.mark.slow
def test_explorers_are_inert_headless(tmp_path):
    notebook = execute(tmp_path, HEADLESS_CELLS, store_widget_state=True)  # nbclient's default
    shown = [o for cell in notebook.cells for o in cell.outputs if o.output_type == "execute_result"]
    assert len(shown) == 2 and all("application/vnd.jupyter.widget-view+json" in o.data for o in shown)
    plain = [o.data["text/plain"] for o in shown]
    assert [text.split(" (")[0] for text in plain] == ["ThresholdExplorer", "AugmentationExplorer"]
    assert all("live notebook" in text for text in plain), "where widgets cannot be drawn, a sentence"
    assert notebook.cells[-1].outputs[0].text == "after the explorers\n"
    for cell in (notebook.cells[1], notebook.cells[3]):
        assert seconds(cell) < 20, f"{cell.source} took {seconds(cell):.1f} s"


def test_explorers_need_no_widget_state(tmp_path):
    notebook = execute(tmp_path, HEADLESS_CELLS[:2], store_widget_state=False)
    assert "widgets" not in notebook.metadata
    assert notebook.cells[1].outputs[0].data["text/plain"].startswith("ThresholdExplorer")
