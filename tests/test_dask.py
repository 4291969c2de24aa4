"""Does the same per-submission unit grade on a Dask cluster (local, on loopback)?"""

from __future__ import annotations

import csv

import pytest

from examples.make_submissions import QUIZ_EXPECTED
from tests.test_grade import grader_cli, quiz_samples

pytestmark = [pytest.mark.slow]


def test_grading_on_a_local_dask_cluster(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        samples = quiz_samples(tmp_path / "in")
        done = grader_cli(
            "grade", str(samples), "--out", str(tmp_path / "out"), "--scheduler", address, "--db", "none"
        )
        with Client(cluster) as client:
            graded_there = client.run_on_scheduler(
                lambda dask_scheduler: sum(
                    "grade_submission" in str(t[0]) for t in dask_scheduler.transition_log
                )
            )
    assert done.returncode == 0, done.stderr[-3000:]
    assert graded_there > 0, "the jobs ran on the cluster"
    with (tmp_path / "out" / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["student_id"]: (r["assignment"], float(r["score"]), r["status"]) for r in rows} == QUIZ_EXPECTED
