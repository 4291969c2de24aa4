"""Are grading tasks self-contained: do they grade on a Dask worker that cannot see the course?"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from examples.make_submissions import QUIZ_EXPECTED
from grader.sandbox import concealed, isolation, python_paths
from grader.task import package
from tests.conftest import ROOT
from tests.test_grade import grader_cli, quiz_samples

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (isolation() and shutil.which("unshare") and shutil.which("mount")),
        reason="needs mount namespaces",
    ),
]

COVER = """
for path in "$@"; do
    if [ -d "$path" ]; then mount -t tmpfs -o size=256m tmpfs "$path"; else mount --bind /dev/null "$path"; fi
done
exec "$PYTHON" -m distributed.cli.dask_worker "$ADDRESS" --nthreads 1 --no-dashboard
"""


def hidden_worker(address: str, hide: tuple[Path, ...]) -> subprocess.Popen:
    """A Dask worker in its own mount namespace: ``hide`` and every top folder but the system's covered.

    It sees Python and the course package, as a worker on another machine with the package installed.
    """
    covered = concealed(hide, (*package(), *python_paths()))
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    command = ["unshare", *user, "--mount", "--propagation", "private", "sh", "-c", COVER, "sh"]
    env = {**os.environ, "PYTHON": sys.executable, "ADDRESS": address}
    return subprocess.Popen([*command, *map(str, covered)], env=env, cwd="/")


def test_tasks_grade_on_a_worker_that_cannot_see_the_instructors_folders(tmp_path):
    from distributed import Client, LocalCluster

    samples, out = quiz_samples(tmp_path / "in"), tmp_path / "out"
    secret = [
        ROOT / "solutions" / "06_graded_test" / "bank.yml",
        ROOT / "course.yml",
        *samples.rglob("*.ipynb"),
    ]
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        worker = hidden_worker(cluster.scheduler_address, (ROOT, tmp_path))
        try:
            with Client(cluster) as client:
                client.wait_for_workers(1, timeout=120)
                seen = client.run(
                    lambda: [os.path.isfile(path) and os.path.getsize(path) > 0 for path in secret]
                )
                assert list(seen.values()) == [[False] * len(secret)], (
                    "the worker can read no file of the instructor's"
                )
                done = grader_cli(
                    "grade",
                    str(samples),
                    "--out",
                    str(out),
                    "--scheduler",
                    cluster.scheduler_address,
                    "--db",
                    "none",
                )
                ran = client.run_on_scheduler(
                    lambda dask_scheduler: {
                        str(t[0]) for t in dask_scheduler.transition_log if "perform" in str(t[0])
                    }
                )
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    executed = [student for student, (_, _, status) in QUIZ_EXPECTED.items() if status == "graded"]
    assert len(ran) == len(executed), "every gradable submission executed on the hidden worker"
    with (out / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["student_id"]: (r["assignment"], float(r["score"]), r["status"]) for r in rows} == QUIZ_EXPECTED


def test_tasks_share_a_machines_cores_among_all_its_workers():
    from distributed import Client, LocalCluster

    from grader.task import _slots

    with (
        LocalCluster(n_workers=2, threads_per_worker=2, host="127.0.0.1", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        assert client.submit(_slots, pure=False).result() == 4, "two workers of two threads each"
    assert _slots() == 1, "outside Dask, one task at a time"
