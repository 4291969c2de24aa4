"""Is course.yml validated, and does a broken one give a clear one-paragraph error?"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.manifest import ManifestError, load_course


def test_the_course_manifest_loads(course):
    assert course.lessons[-1].id == "06_graded_test"
    assert all((course.lessons[i].id < course.lessons[i + 1].id) for i in range(len(course.lessons) - 1))


def write_manifest(folder: Path, data: object) -> Path:
    (folder / "course.yml").write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return folder


@pytest.fixture
def manifest(root) -> dict:
    return yaml.safe_load((root / "course.yml").read_text())


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda m: m.pop("title"), "field 'title'"),
        (lambda m: m["lessons"][0].update(id="Quiz One"), "field 'lessons.0.id'"),
        (lambda m: m["lessons"].append(dict(m["lessons"][1])), "repeated: 02_augmentation_pipeline"),
        (lambda m: m["lessons"][0].update(points={"q1": -1}), "points must be positive"),
        (lambda m: m.update(seed="forty-two"), "field 'seed'"),
        (lambda m: m.update(repository="not a repo"), "field 'repository'"),
        (lambda m: m.update(colour="blue"), "field 'colour'"),
    ],
)
def test_a_broken_manifest_names_the_field(tmp_path, manifest, change, named):
    change(manifest)
    with pytest.raises(ManifestError) as error:
        load_course(write_manifest(tmp_path, manifest))
    assert named in str(error.value)
    assert "\n" not in str(error.value)


def test_invalid_yaml_is_reported_as_such(tmp_path):
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_course(write_manifest(tmp_path, "title: [unclosed\n"))


def test_the_cli_prints_the_error_not_a_traceback(tmp_path, root, manifest):
    manifest["lessons"][0]["id"] = "Quiz One"
    write_manifest(tmp_path, manifest)
    shutil.copy(root / "nbgrader_config.py", tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "build", "--check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "lessons.0.id" in done.stderr
    assert "Traceback" not in done.stderr
