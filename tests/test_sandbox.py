"""Can a kernel in the sandbox write, read, connect, mount or outlive its job? As root and rootless alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.sandbox import Limits, Run, execute_isolated, isolation
from tests.conftest import ROOT

SLEEP = str(10_000_000 + os.getpid())  # a `sleep` no other run starts: what survives is ours
# What the kernel tries; it prints one JSON line of findings.
ATTEMPTS = f"""
import json, os, socket, subprocess, sys
found = {{}}
for target in ["/ESCAPED-SANDBOX", "{ROOT}/ESCAPED-SANDBOX", "/etc/ESCAPED-SANDBOX", "/tmp/ESCAPED-SANDBOX"]:
    try:
        open(target, "w").write("x")
        found.setdefault("wrote", []).append(target)
    except OSError:
        pass
for secret in ["{ROOT}/solutions", "{ROOT}/.git/HEAD", "{ROOT}/examples", "OUTSIDE"]:
    if os.path.exists(secret) and (not os.path.isdir(secret) or os.listdir(secret)):
        found.setdefault("read", []).append(secret)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    found["network"] = True
except OSError:
    pass
for command in (["umount", "{ROOT}"], ["mount", "-o", "remount,rw", "/"]):
    if subprocess.run(command, capture_output=True).returncode == 0:
        found.setdefault("mounted", []).append(command[0])
for entry in os.listdir("/proc"):
    try:
        if b"SANDBOX_SECRET" in open(f"/proc/{{entry}}/environ", "rb").read():
            found["environ"] = entry
    except OSError:
        pass
subprocess.Popen(["sleep", "{SLEEP}"], start_new_session=True)
open("ok-in-home", "w").write("fine")
import augcourse.checks
print(json.dumps(found))
"""


def sandbox_run(folder: Path, outside: Path, code: str = ATTEMPTS) -> Run:
    notebook = new_notebook(cells=[new_code_cell(code.replace("OUTSIDE", str(outside)))])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    unit = folder / "units" / "one"
    unit.mkdir(parents=True)
    nbformat.write(notebook, unit / "notebook.ipynb")
    package = (ROOT / "augcourse", ROOT / "grader")
    return Run(unit / "notebook.ipynb", folder / "homes" / "one", 60, package, (ROOT, folder, outside))


def findings(run: Run) -> dict:
    executed = nbformat.read(run.executed, as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[0].outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def survivors() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry / "cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", SLEEP.encode()]:
                found.append(entry.name)
        except OSError:
            pass
    return found


@pytest.fixture()
def outside():
    """A folder of another student's work, beside the job: the kernel must not see it."""
    folder = Path(tempfile.mkdtemp(prefix="other-student-"))
    (folder / "answers.ipynb").write_text("right answers")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("mode", ["root", "user"])
def test_the_sandbox_lets_nothing_out(mode, tmp_path, outside, monkeypatch):
    if not isolation() or (mode == "root" and os.geteuid() != 0):
        pytest.skip("this machine cannot create the namespaces")
    monkeypatch.setenv("SANDBOX_SECRET", "the grader's own secret")
    run = sandbox_run(tmp_path, outside)
    assert execute_isolated(run, Limits(), mode=mode) == ""
    assert findings(run) == {}
    assert survivors() == []
    assert not list(ROOT.glob("ESCAPED-SANDBOX")) and not Path("/ESCAPED-SANDBOX").exists()
    assert not (tmp_path / "homes" / "one" / "ok-in-home").exists(), "HOME is a tmpfs that vanishes"


def test_without_namespaces_a_leftover_process_is_still_killed(tmp_path, outside):
    leave = (
        f"import subprocess\nsubprocess.Popen(['sleep', '{SLEEP}'], start_new_session=True)\nprint('{{}}')"
    )
    run = sandbox_run(tmp_path, outside, leave)
    assert execute_isolated(run, Limits(), mode="") == ""
    assert survivors() == []


NOBODY_SCRIPT = """
import json, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.test_sandbox import findings, sandbox_run, survivors
from grader.sandbox import Limits, execute_isolated, isolation
if __name__ == "__main__":
    run = sandbox_run(Path({folder!r}), Path({outside!r}))
    problem = execute_isolated(run, Limits())
    found = findings(run) if not problem else None
    print(json.dumps({{"mode": isolation(), "problem": problem, "found": found, "survivors": survivors()}}))
"""


def test_rootless_grading_is_sandboxed_too(outside):
    """As an unprivileged user (a Python of the system that user can run, with this venv's packages)."""
    system_python = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if os.geteuid() != 0 or not system_python.exists() or not shutil.which("setpriv"):
        pytest.skip("needs root (to become another user) and the system's Python of this version")
    work = Path(tempfile.mkdtemp(prefix="rootless-"))
    try:
        subprocess.run([str(system_python), "-m", "venv", "--without-pip", str(work / "venv")], check=True)
        site = next(p for p in sys.path if p.endswith("site-packages"))
        pth = work / "venv" / "lib" / system_python.name / "site-packages" / "course.pth"
        pth.write_text(f"import site; site.addsitedir({site!r})\n")
        (work / "job").mkdir()
        script = work / "run.py"
        script.write_text(
            NOBODY_SCRIPT.format(root=str(ROOT), folder=str(work / "job"), outside=str(outside))
        )
        subprocess.run(["chmod", "-R", "a+rX", str(work)], check=True)
        subprocess.run(["chown", "nobody", str(work / "job")], check=True)
        python = str(work / "venv" / "bin" / "python")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, str(script)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=work, check=False, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report == {"mode": "user", "problem": "", "found": {}, "survivors": []}
    finally:
        shutil.rmtree(work, ignore_errors=True)
