"""Does each student notebook run alone, as from its Colab link, on nothing but the course's wheel?

The course package is built into a wheel and installed, with its dependencies, TensorFlow and a
kernel, into a clean virtual environment. Each student notebook, its answers filled from the
solutions, is copied alone into an empty folder and executed there by that environment's kernel.
No file of the repository is within reach, so a notebook that needs one fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from grader.answers import fill, reference_answers
from grader.manifest import load_course
from tests.conftest import ROOT

LESSONS = [lesson.id for lesson in load_course(ROOT).lessons]
PACKAGE_FILES = ("pyproject.toml", "README.md", "augcourse", "grader")
CELL_TIMEOUT = 600
EXECUTE = f"""\
import sys
import nbformat
from nbclient import NotebookClient

path, folder = sys.argv[1], sys.argv[2]
notebook = nbformat.read(path, as_version=4)
client = NotebookClient(notebook, timeout={CELL_TIMEOUT}, kernel_name="python3",
                        resources={{"metadata": {{"path": folder}}}})
try:
    client.execute()
finally:
    nbformat.write(notebook, path)
"""
PROBE = (
    "import sys, augcourse, tensorflow\n"
    "from importlib import metadata\n"
    "print('prefix', sys.prefix)\n"
    "print('augcourse', augcourse.__file__)\n"
    "print('tensorflow', tensorflow.__version__)\n"
    "names = {d.metadata['Name'].lower().replace('_', '-') for d in metadata.distributions()}\n"
    "print('builds', ' '.join(sorted(names & {'tensorflow', 'tensorflow-cpu', 'tensorflow-gpu'})))"
)


def clean_env(tmp: Path, venv: Path) -> dict[str, str]:
    """This process's environment without its virtual environment, Python path or Jupyter paths."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")
    env["JUPYTER_CONFIG_DIR"] = str(tmp / "jupyter-config")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp / "jupyter-runtime")
    return env


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a command; fail the test with the end of its output if it fails."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        pytest.fail(f"{' '.join(command[:4])} … exited {done.returncode}:\n{done.stderr[-4000:]}")


def build_wheel(tmp: Path) -> Path:
    """The course's wheel, built from a copy of the package's own files."""
    source = tmp / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(tmp / "dist")],
        cwd=tmp,
    )
    (wheel,) = (tmp / "dist").glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's wheel."""
    started = time.monotonic()
    built = build_wheel(tmp_path_factory.mktemp("wheel"))
    print(f"\nwheel built in {time.monotonic() - started:.0f} s")
    return built


@pytest.fixture(scope="module")
def colab_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A clean virtual environment with the wheel (its ``cpu`` extra: TensorFlow), ipykernel, nbclient."""
    tmp = tmp_path_factory.mktemp("colab")
    started = time.monotonic()
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp)
    packages = [f"{wheel}[cpu]", "ipykernel", "nbclient"]
    run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", *packages],
        cwd=tmp,
        env=clean_env(tmp, venv),
    )
    print(f"\nclean environment installed in {time.monotonic() - started:.0f} s")
    return venv


def lone_notebook(lesson_id: str, folder: Path) -> Path:
    """The student notebook, answered from the solutions and with a probe cell, alone in ``folder``."""
    answers = reference_answers(ROOT / "solutions" / lesson_id / f"{lesson_id}.ipynb")
    notebook = fill(ROOT / "notebooks" / lesson_id / f"{lesson_id}.ipynb", answers)
    notebook.cells.append(new_code_cell(PROBE, id="probe"))
    path = folder / f"{lesson_id}.ipynb"
    nbformat.write(notebook, path)
    return path


def printed(cell: nbformat.NotebookNode) -> str:
    """What a cell printed."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
def test_wheel_carries_every_file_of_the_package(wheel):
    package = [
        p.relative_to(ROOT).as_posix()
        for name in ("augcourse", "grader")
        for p in (ROOT / name).rglob("*")
        if p.is_file()
    ]
    expected = {name for name in package if "__pycache__" not in name}
    with zipfile.ZipFile(wheel) as archive:
        assert expected - set(archive.namelist()) == set()


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_notebook_runs_alone_on_the_installed_wheel(lesson_id, colab_venv, tmp_path, course):
    folder = tmp_path / "alone"
    folder.mkdir()
    path = lone_notebook(lesson_id, folder)
    started = time.monotonic()
    run(
        [str(colab_venv / "bin" / "python"), "-c", EXECUTE, str(path), str(folder)],
        cwd=folder,
        env=clean_env(tmp_path, colab_venv),
    )
    print(f"\n{lesson_id} ran in {time.monotonic() - started:.0f} s")
    cells = {cell.id: cell for cell in nbformat.read(path, as_version=4).cells}
    failed = [i for i, c in cells.items() if any(o.output_type == "error" for o in c.get("outputs", ()))]
    assert failed == []
    assert cells["colab-install"].outputs == [], "outside Colab the install cell does nothing"
    probe = dict(line.split(" ", 1) for line in printed(cells["probe"]).splitlines())
    assert Path(probe["prefix"]).resolve() == colab_venv.resolve()
    assert Path(probe["augcourse"]).resolve().is_relative_to(colab_venv.resolve()), "checks from the wheel"
    assert probe["tensorflow"] == course.runtime.tensorflow
    assert probe["builds"] == "tensorflow-cpu", "one TensorFlow, the CPU build of the cpu extra"
