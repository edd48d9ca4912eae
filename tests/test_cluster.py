"""Reading and reducing on a real Dask LocalCluster (worker processes, loopback only): the same
moments and fits as the local pipeline, a worker killed mid-run survived, errors in one line."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_cli_support import CUBIC, ORACLE, SLAB, invoke

from fitcore import cluster, pipeline
from fitcore.io.inputs import DataOptions, load_dataset
from fitcore.moments import CutoffScheme, compute_moments
from fitcore.pipeline import Featurization

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'ljfit[dask]')")


@pytest.fixture(scope="module")
def local_cluster():
    """Two single-threaded worker processes on the loopback interface, shared by the tests here."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as running:
        yield running


@pytest.fixture
def watcher(local_cluster):
    """The test's own client, to look at and act on the workers."""
    with distributed.Client(local_cluster) as client:
        yield client


@pytest.fixture
def many_pieces(monkeypatch):
    """The oracle files (a few hundred kB) cut into several byte ranges each."""
    monkeypatch.setattr(pipeline, "SPLIT_BYTES", 10_000)


def expected(paths, scheme, with_forces):
    dataset = load_dataset(paths)
    return dataset, compute_moments(dataset, scheme, with_forces=with_forces)


@pytest.mark.parametrize("with_forces", [False, True])
def test_cluster_gives_the_moments_of_one_process(local_cluster, many_pieces, with_forces):
    paths = [str(CUBIC), str(SLAB)]
    scheme = CutoffScheme(8.5, True)
    job = Featurization(data=DataOptions(), scheme=scheme, with_forces=with_forces, coordinates=False)
    pending = cluster.ClusterFeaturization(paths, job, cluster.Scheduler(address=local_cluster.scheduler_address))
    assert len(pending.futures) > 2  # the files were cut into pieces (on the workers) and spread
    dataset, moments = pending.result()
    serial, reference = expected(paths, scheme, with_forces)
    assert dataset.names == serial.names and dataset.type_names == serial.type_names
    assert dataset.positions is None and dataset.info == ()  # only what a fit needs came back
    np.testing.assert_array_equal(dataset.energies, serial.energies)
    np.testing.assert_array_equal(dataset.atoms_per_frame, serial.atoms_per_frame)
    assert dataset.type_index is None  # a count table per frame instead of a label per atom
    np.testing.assert_array_equal(dataset.type_counts, serial.type_counts)
    np.testing.assert_array_equal(dataset.species_counts, serial.species_counts)
    np.testing.assert_allclose(moments.energy12, reference.energy12, rtol=1e-13)
    np.testing.assert_allclose(moments.energy6, reference.energy6, rtol=1e-13)
    np.testing.assert_array_equal(moments.pair_count, reference.pair_count)
    if with_forces:
        np.testing.assert_array_equal(dataset.forces, serial.forces)
        np.testing.assert_allclose(moments.force12, reference.force12, rtol=1e-12, atol=1e-30)
        np.testing.assert_allclose(moments.force6, reference.force6, rtol=1e-12, atol=1e-30)
    else:
        assert dataset.forces is None


def test_a_worker_killed_mid_run_is_survived(local_cluster, watcher, many_pieces, tmp_path):
    paths = []
    for k in range(6):  # enough tasks that both workers have some when one is killed
        paths += [shutil.copy(SLAB, tmp_path / f"slab{k}.extxyz"), shutil.copy(CUBIC, tmp_path / f"cubic{k}.extxyz")]
    scheme = CutoffScheme(12.0, True)
    job = Featurization(data=DataOptions(), scheme=scheme, coordinates=False)
    pids = watcher.run(os.getpid)
    pending = cluster.ClusterFeaturization([str(p) for p in paths], job,
                                       cluster.Scheduler(address=local_cluster.scheduler_address))
    victim = None
    for _ in range(400):
        busy = [w for w, keys in watcher.processing().items() if keys]
        if busy:
            victim = busy[0]
            break
        time.sleep(0.01)
    assert victim is not None, "no worker had a task to lose"
    os.kill(pids[victim], signal.SIGKILL)
    dataset, moments = pending.result()
    reference = compute_moments(load_dataset([str(p) for p in paths]), scheme)
    np.testing.assert_allclose(moments.energy12, reference.energy12, rtol=1e-13)
    np.testing.assert_allclose(moments.energy6, reference.energy6, rtol=1e-13)
    np.testing.assert_array_equal(moments.pair_count, reference.pair_count)
    watcher.wait_for_workers(2, timeout=60)  # the nanny started a new worker process in its place
    assert pids[victim] not in watcher.run(os.getpid).values()


def test_fit_on_the_cluster_equals_the_local_fit(local_cluster, many_pieces, tmp_path):
    common = [CUBIC, SLAB, *ORACLE, "--forces", "--format", "json"]
    local = json.loads(invoke(["fit", *common, "-o", tmp_path / "local.json"]).stdout)
    remote = json.loads(invoke(["fit", *common, "--scheduler", local_cluster.scheduler_address,
                                "-o", tmp_path / "remote.json"]).stdout)
    for name, values in local["species"].items():
        for key in ("epsilon", "sigma"):
            assert remote["species"][name][key] == pytest.approx(values[key], rel=1e-12)
    written = [json.loads((tmp_path / f"{w}.json").read_text()) for w in ("local", "remote")]
    assert written[0]["species"] == written[1]["species"]
    assert written[0]["fit"]["options"] == written[1]["fit"]["options"]  # where it ran is not a setting


def test_predict_and_inspect_on_the_cluster(local_cluster, tmp_path, truth_file):
    file = tmp_path / "scheduler.json"
    file.write_text(json.dumps({"address": local_cluster.scheduler_address}))
    args = ["predict", CUBIC, "--params", truth_file, "--format", "csv"]
    assert invoke(args + ["--scheduler-file", file]).stdout == invoke(args).stdout
    args = ["inspect", CUBIC, SLAB, "--format", "json"]
    assert invoke(args + ["--scheduler", local_cluster.scheduler_address]).stdout == invoke(args).stdout


def test_bad_input_on_a_worker_is_one_line(local_cluster, tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 x\n")
    result = invoke(["fit", CUBIC, bad, *ORACLE, "--scheduler", local_cluster.scheduler_address], code=1)
    assert result.stderr.strip().startswith(f"error: {bad}:4") and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_without_the_extra_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    result = invoke(["fit", CUBIC, *ORACLE, "--scheduler", "local:2", "-o", tmp_path / "p.json"], code=1)
    assert result.stderr.strip() == "error: --scheduler needs Dask: pip install 'ljfit[dask]' (the dask and " \
                                    "distributed packages)"
    assert not (tmp_path / "p.json").exists() and result.stdout == ""


@pytest.mark.parametrize("value", ["localhost:8786", "local:0", "local:x"])
def test_a_malformed_scheduler_is_a_usage_error(value):
    result = invoke(["fit", CUBIC, *ORACLE, "--scheduler", value], code=2)
    assert "--scheduler" in result.stderr and "tcp://host:port" in result.stderr


def test_scheduler_and_scheduler_file_together_are_a_usage_error(tmp_path):
    file = tmp_path / "scheduler.json"
    file.write_text("{}")
    result = invoke(["fit", CUBIC, *ORACLE, "--scheduler", "local:1", "--scheduler-file", file], code=2)
    assert "give one of them" in result.stderr


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    result = invoke(["fit", CUBIC, *ORACLE, "--scheduler", "tcp://127.0.0.1:9"], code=1)
    assert result.stderr.startswith("error: cannot reach tcp://127.0.0.1:9") and "Traceback" not in result.stderr


def descendants(pid: int) -> set[int]:
    """Process ids below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from Linux /proc")
def test_local_cluster_dies_with_a_killed_ljfit(tmp_path):
    """SIGKILL to ljfit alone (the OOM killer, a scheduler's hard limit) leaves none of its local:N workers."""
    paths = [shutil.copy(SLAB, tmp_path / f"slab{k}.extxyz") for k in range(12)]
    ljfit = Path(sys.executable).with_name("ljfit")
    process = subprocess.Popen([str(ljfit), "fit", *map(str, paths), "--cutoff", "12", "--scheduler", "local:1", "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = set()
        for _ in range(1200):  # the worker's nanny and the worker
            started = descendants(process.pid)
            if len(started) >= 2 or process.poll() is not None:
                break
            time.sleep(0.05)
        assert len(started) >= 2 and process.poll() is None, "ljfit ended before its cluster was seen"
    finally:
        process.kill()
        process.wait()
    for _ in range(600):
        left = {pid for pid in started if _alive(pid)}
        if not left:
            break
        time.sleep(0.05)
    assert not left, f"processes outlived ljfit: {sorted(left)}"


def test_stdin_cannot_go_to_a_cluster():
    result = invoke(["fit", "-", *ORACLE, "--scheduler", "local:1"], code=1, input=CUBIC.read_text())
    assert result.stderr.strip() == "error: --scheduler: input from stdin cannot be read by the cluster's workers"


def test_a_missing_scheduler_file_is_a_usage_error(tmp_path):
    result = invoke(["fit", CUBIC, *ORACLE, "--scheduler-file", tmp_path / "none.json"], code=2)
    assert "--scheduler-file" in result.stderr and "does not exist" in result.stderr


def mark_worker(folder: str) -> None:
    """A worker setup that leaves a trace: a file named by the worker's process id."""
    Path(folder, str(os.getpid())).touch()


def test_the_worker_setup_runs_in_every_worker(local_cluster, watcher, tmp_path):
    """The CLI's process tuning (cli.runtime.keep_heap_margin: the local pipeline's workers inherit it by fork,
    a cluster's get it this way; without it they read about 1.4x slower, bench/README.md) reaches every worker."""
    import functools
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(8.5, True), coordinates=False)
    pending = cluster.ClusterFeaturization([str(CUBIC)], job, cluster.Scheduler(address=local_cluster.scheduler_address),
                                           worker_setup=functools.partial(mark_worker, str(tmp_path)))
    pending.result()
    pids = set(watcher.run(os.getpid).values())
    assert len(pids) == 2 and {int(p.name) for p in tmp_path.iterdir()} == pids
