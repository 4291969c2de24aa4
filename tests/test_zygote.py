"""Are kernels forked from the warm zygote kernels of their own: seeds, folders, pools, plots, sandbox?"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.sandbox import Limits, Run, bare_environment, execute_isolated, isolation
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not isolation(), reason="the zygote is used only where namespaces work")

REPORT = """
import json, os, socket, tempfile
import numpy as np
from threadpoolctl import threadpool_info
import matplotlib.pyplot as plt
plt.plot([1, 2, 3]); plt.show()
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close(); network = True
except OSError:
    network = False
print(json.dumps({
    "random": float(np.random.rand()),
    "tmp": tempfile.gettempdir(),
    "home": os.environ["HOME"],
    "threads": max((p["num_threads"] for p in threadpool_info()), default=1),
    "pid": os.getpid(),
    "network": network,
    "solutions": os.path.exists(os.path.join(ROOT, "solutions", "05_practice_quiz")),
    "tensorflow_loaded": "tensorflow" in __import__("sys").modules,
}))
"""


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    from grader.zygote import Zygote

    home = tmp_path_factory.mktemp("zygote")
    (home / "tmp").mkdir()
    warm = Zygote(bare_environment(home, threads=1))
    yield warm
    warm.close()


def execute(folder: Path, zygote, name: str) -> dict:
    notebook = new_notebook(cells=[new_code_cell(REPORT.replace("ROOT", repr(str(ROOT))))])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    unit = folder / "units" / name
    unit.mkdir(parents=True)
    nbformat.write(notebook, unit / "notebook.ipynb")
    package = (ROOT / "augcourse", ROOT / "grader")
    run = Run(unit / "notebook.ipynb", folder / "homes" / name, 60, package, (ROOT, folder), threads=1)
    assert execute_isolated(run, Limits(), zygote=zygote) == ""
    outputs = nbformat.read(run.executed, as_version=4).cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    report = json.loads(text.strip().splitlines()[-1])
    report["png"] = any("image/png" in o.get("data", {}) for o in outputs)
    return report


def test_forked_kernels_are_warm_yet_their_own(zygote, tmp_path):
    first, second = execute(tmp_path, zygote, "one"), execute(tmp_path, zygote, "two")
    assert first["tensorflow_loaded"], "the kernel was forked from the zygote, which imported TensorFlow"
    assert first["random"] != second["random"], "each kernel has its own NumPy random state"
    for report, name in ((first, "one"), (second, "two")):
        assert report["home"] == str(tmp_path / "homes" / name)
        assert report["tmp"] == str(tmp_path / "homes" / name / "tmp"), "tempfile follows the job's TMPDIR"
        assert report["threads"] == 1, "BLAS/OpenMP pools keep to the job's share"
        assert report["png"], "plots still appear inline"
        assert not report["network"] and not report["solutions"], "the fork is inside the job's sandbox"


def test_the_zygote_holds_nothing_of_the_graders_environment(zygote, monkeypatch):
    environ = Path(f"/proc/{zygote.process.pid}/environ").read_bytes().split(b"\0")
    names = {item.split(b"=", 1)[0].decode() for item in environ if item}
    assert names <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "JUPYTER_PLATFORM_DIRS",
        "TF_CPP_MIN_LOG_LEVEL",
        "TF_ENABLE_ONEDNN_OPTS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "OMP_NUM_THREADS",
    }


def notebook(*cells: tuple[str, list[dict], list[str]]) -> nbformat.NotebookNode:
    """A notebook of code cells, each (id, outputs, tags)."""
    made = [
        new_code_cell("", id=cid, outputs=[nbformat.from_dict(o) for o in outs], metadata={"tags": tags})
        for cid, outs, tags in cells
    ]
    return new_notebook(cells=made)


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_outputs_compare_as_a_person_sees_them():
    from grader.validate import MEASURED, unlike

    first = notebook(("a", [stream("accuracy 0.83\n")], []), ("b", [stream("10,588 images/s\n")], [MEASURED]))
    same = notebook(
        ("a", [stream("accuracy "), stream("0.83\n")], []), ("b", [stream("9,871 images/s\n")], [MEASURED])
    )
    assert unlike(first, same) == [], "text split otherwise, or other measurements in a measured cell"
    other = notebook(
        ("a", [stream("accuracy 0.81\n")], []), ("b", [stream("10,588 images/min\n")], [MEASURED])
    )
    assert unlike(first, other) == ["a", "b"], "another number, or other words in a measured cell"
    picture = {"output_type": "display_data", "data": {"image/png": "", "text/plain": ""}, "metadata": {}}
    lost = notebook(
        ("a", [stream("accuracy 0.83\n"), picture], []), ("b", [stream("1 images/s\n")], [MEASURED])
    )
    assert unlike(first, lost) == ["a"], "an output more"
