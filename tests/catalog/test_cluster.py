"""The site built through a Dask distributed cluster (a LocalCluster on 127.0.0.1: a scheduler
and two worker processes) is byte-identical to the local one, even though a worker is killed
in the middle of an issue's build: Dask gives that issue to another worker."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

from publisher.catalog.site import build_catalog
from tests.catalog.conftest import ISSUES, site_files

BUILD_TIMEOUT = 600  # seconds; two workers on a busy two-core machine


class KillFirstBuild(WorkerPlugin):
    """Kills its worker (SIGKILL, as a crash or the OOM killer would) when the first issue build
    of the cluster starts; the `marker` file makes it once. Logs `key pid` of every start."""

    def __init__(self, marker: Path, log: Path):
        self.marker, self.log = str(marker), str(log)

    def transition(self, key, start, finish, *args, **kwargs):
        if finish != "executing" or "publish_issue" not in str(key):
            return
        with open(self.log, "a") as log:
            log.write(f"{key} {os.getpid()}\n")
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster_build(library, tmp_path_factory):
    """The library's site built through the cluster while a worker is killed:
    (site, summary, the build starts as (task key, worker pid))."""
    work = tmp_path_factory.mktemp("cluster")
    site, log = work / "site", work / "starts.log"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.register_plugin(KillFirstBuild(work / "killed", log))
        with ThreadPoolExecutor(1) as thread:
            summary = thread.submit(build_catalog, library, site,
                                    scheduler=cluster.scheduler_address).result(BUILD_TIMEOUT)
    starts = [tuple(line.split()) for line in log.read_text().splitlines()]
    return site, summary, starts


def test_the_cluster_builds_the_same_bytes_as_the_local_pool(site, cluster_build):
    cluster_site, summary, _ = cluster_build
    assert sorted(summary.built) == sorted(folder for folder, *_ in ISSUES)
    local, remote = site_files(site), site_files(cluster_site)
    assert sorted(remote) == sorted(local)
    assert [path for path in local if local[path] != remote[path]] == []


def test_a_killed_workers_issue_is_built_by_another_worker(cluster_build):
    _, summary, starts = cluster_build
    killed_key, killed_pid = starts[0]
    again = [pid for key, pid in starts[1:] if key == killed_key]
    assert again and killed_pid not in again, starts
    assert len(summary.failed) == 1  # only the broken issue
