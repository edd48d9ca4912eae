"""The ljfit process under a batch system: signals to it alone stop it at once with the documented exit
code, its workers never outlive it, outputs go through symlinks, FIFOs and devices, CPUs are counted as
the process may use them. These run the real console script in a subprocess."""
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_cli_support import CUBIC, DATA, ORACLE

from fitcore.workers import cgroup_quota, usable_cpus

LJFIT = Path(sys.executable).parent / "ljfit"
linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")


def _state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a live process; None once it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[1]), fields[0]) if fields[0] not in "ZX" else None


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = _state(int(entry.name))
            if state is not None and state[0] == pid:
                found.append(int(entry.name))
    return found


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """Those of ``pids`` still alive after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_state(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _state(p)]


@pytest.fixture(scope="module")
def slow_input(tmp_path_factory) -> Path:
    """6 MB of periodic frames (workers start above 4 MB) that take many seconds at cutoff 25 Å."""
    path = tmp_path_factory.mktemp("slow") / "slow.extxyz"
    text = CUBIC.read_text()
    path.write_text(text * 24)
    return path


def ctrl_c_as_usual() -> None:
    """In the child, before ljfit starts: SIGINT as a terminal delivers it. A shell starts background jobs
    (CI's runner may be one) with SIGINT ignored, and ljfit, like any program, keeps an ignored Ctrl-C ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_slow_fit(slow_input: Path, out: Path) -> tuple[subprocess.Popen, list[int]]:
    """``ljfit fit`` on the slow input, started in its own session (so a signal reaches it alone), and its
    workers once they run."""
    proc = subprocess.Popen([str(LJFIT), "fit", str(slow_input), "--cutoff", "25", "--format", "csv", "-o", str(out),
                             "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=ctrl_c_as_usual)
    deadline = time.monotonic() + 120
    while len(workers := children(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    time.sleep(1.0)  # well inside the reduction
    assert proc.poll() is None
    return proc, workers


@linux_only
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_to_the_parent_alone_stops_the_run_at_once(slow_input, tmp_path, sig, code, word):
    out = tmp_path / "params.json"
    proc, workers = start_slow_fit(slow_input, out)
    sent = time.monotonic()
    os.kill(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=60)
    elapsed = time.monotonic() - sent
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == f"error: {word}" and "Traceback" not in stderr
    assert elapsed < 3.0, f"took {elapsed:.1f} s to stop (1 s asked; the machine may be loaded)"
    assert wait_gone(workers, 5) == [], "workers outlived the parent"
    assert stdout == "" and not out.exists() and list(tmp_path.iterdir()) == []  # nothing half written


def test_sigterm_during_a_long_fit_stops_it_at_once(tmp_path):
    """The other long stage: the optimizer (basin-hopping for ever), in one process."""
    out = tmp_path / "params.json"
    proc = subprocess.Popen([str(LJFIT), "fit", str(CUBIC), *ORACLE, "--method", "basinhopping", "--niter", "10000000",
                             "-o", str(out), "--format", "csv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    time.sleep(8)  # start-up is 1-2 s unloaded: by now it is hopping
    assert proc.poll() is None, proc.communicate()[1]
    sent = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    elapsed = time.monotonic() - sent
    assert proc.returncode == 143 and stderr.strip().splitlines()[-1] == "error: terminated", stderr
    assert elapsed < 3.0, f"took {elapsed:.1f} s to stop"
    assert stdout == "" and list(tmp_path.iterdir()) == []


@linux_only
def test_workers_die_with_a_parent_killed_by_sigkill(slow_input, tmp_path):
    proc, workers = start_slow_fit(slow_input, tmp_path / "params.json")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert wait_gone(workers, 5) == [], "workers outlived a parent killed by SIGKILL"


def start_refitting(out: Path) -> tuple[subprocess.Popen, list[int]]:
    """``ljfit fit`` with a million bootstrap refits on a small input (the reader starts no workers), and its
    refit workers (fitcore/refits.py) once they run."""
    proc = subprocess.Popen([str(LJFIT), "fit", str(DATA / "s22x5" / "s22x5_dispersion.extxyz"), "--interactions",
                             "inter-fragment", "--bootstrap", "1000000", "--seed", "1", "--format", "csv",
                             "--threads", "2", "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=ctrl_c_as_usual)
    deadline = time.monotonic() + 120
    while len(workers := children(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    time.sleep(0.5)  # refitting
    assert proc.poll() is None and len(wait_gone(workers, 0)) == 2
    return proc, workers


needs_two_cpus = pytest.mark.skipif(usable_cpus() < 2, reason="refits run in worker processes only with 2 or more CPUs")


@linux_only
@needs_two_cpus
def test_refit_workers_die_with_a_parent_killed_by_sigkill(tmp_path):
    proc, workers = start_refitting(tmp_path / "params.json")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert wait_gone(workers, 5) == [], "refit workers outlived a parent killed by SIGKILL"


@linux_only
@needs_two_cpus
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_stops_the_refits_and_their_workers(tmp_path, sig, code, word):
    proc, workers = start_refitting(tmp_path / "params.json")
    sent = time.monotonic()
    os.kill(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code and stderr.strip().splitlines()[-1] == f"error: {word}", stderr
    assert time.monotonic() - sent < 10, "a million refits (hours) were not stopped at once"
    assert wait_gone(workers, 5) == [], "refit workers outlived the parent"
    assert stdout == "" and list(tmp_path.iterdir()) == []


def test_o_onto_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "params.json"
    target.write_text("{}")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    run = subprocess.run([str(LJFIT), "fit", str(CUBIC), *ORACLE, "-o", str(link), "-q"], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "species" in json.loads(target.read_text()) and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in shared.iterdir()) == ["params.json"]  # no temp file left


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_o_onto_a_fifo_writes_through_it(tmp_path):
    fifo = tmp_path / "params.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    run = subprocess.run([str(LJFIT), "fit", str(CUBIC), *ORACLE, "-o", str(fifo), "-q"], capture_output=True,
                         text=True, timeout=300)
    reader.join(timeout=30)
    assert run.returncode == 0, run.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and "species" in json.loads(received[0])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_o_onto_a_full_device_is_an_error_and_the_device_stays(fitted):
    before = os.stat("/dev/full")
    run = subprocess.run([str(LJFIT), "export", str(fitted), "--to", "lammps", "-o", "/dev/full"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and run.stderr.strip() == "error: /dev/full: cannot write: No space left on device"
    assert os.stat("/dev/full").st_rdev == before.st_rdev and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_o_dash_writes_the_params_file_to_stdout_and_the_report_to_stderr(tmp_path):
    run = subprocess.run([str(LJFIT), "fit", str(CUBIC), *ORACLE, "-o", "-", "--format", "csv"], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    params = json.loads(run.stdout)
    assert params["format"] == "ljfit-params/1" and "energies: RMSE" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_usable_cpus_follow_slurm_and_the_cgroup_quota(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_quota(tmp_path) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_quota(tmp_path) is None
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    assert cgroup_quota(tmp_path) == 1.0
    assert usable_cpus(tmp_path) == 1
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
    assert usable_cpus() == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_usable_cpus_follow_the_affinity_mask():
    env = {k: v for k, v in os.environ.items() if k != "SLURM_CPUS_PER_TASK"}
    script = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
             "from fitcore.workers import usable_cpus; print(usable_cpus())"
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          check=True).stdout.strip() == "1"


def test_heap_margin_keeps_freed_memory_where_malloc_is_glibc():
    """16 MB freed stays with the process (no page faults for the next array) only with the margin."""
    script = """if True:
        import sys, numpy as np
        from cli.runtime import keep_heap_margin
        took = keep_heap_margin() if sys.argv[1] == "1" else None
        rss = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
        a = np.ones(2_000_000); before = rss(); del a
        print(took, (before - rss()) // 1024)  # MB handed back to the OS
    """
    if not Path("/proc/self/status").exists():
        pytest.skip("reads resident memory from /proc")
    results = [subprocess.run([sys.executable, "-c", script, flag], capture_output=True, text=True,
                              check=True).stdout.split() for flag in ("0", "1")]
    without, with_margin = int(results[0][1]), int(results[1][1])
    assert without >= 15  # glibc's default: a 16 MB array has its own mapping, returned when freed
    if results[1][0] == "True":
        assert with_margin < 2  # kept (a rounding MB either way)
    else:
        pytest.skip("malloc is not glibc's here: no heap margin")


def test_the_library_leaves_its_process_as_it_was(data_dir, monkeypatch):
    """fitcore changes nothing of the process it runs in: signal handlers, environment, umask, sys.modules,
    multiprocessing's start method (its worker processes are its own)."""
    from fitcore import pipeline
    from fitcore.io.inputs import DataOptions
    from fitcore.moments import CutoffScheme
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 1)
    umask = os.umask(0o022)
    os.umask(umask)
    before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), dict(os.environ), umask,
              {k for k, v in sys.modules.items() if v is None})
    job = pipeline.Featurization(data=DataOptions(), scheme=CutoffScheme(8.5, True))
    pipeline.PendingFeaturization([str(data_dir / "oracle_cubic.extxyz")], job, workers=2).result()
    umask_after = os.umask(0o022)
    os.umask(umask_after)
    after = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), dict(os.environ), umask_after,
             {k for k, v in sys.modules.items() if v is None})
    assert after == before


def test_signals_held_act_after_the_block():
    """A stop signal inside ``signals_held`` (torch's import) is acted on when the block ends, not inside it."""
    from cli.runtime import Terminated, command_process, signals_held
    reached = []
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal (see ctrl_c_as_usual)
    with command_process(None):
        for sig, raised in ((signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)):
            with pytest.raises(raised):
                with signals_held():
                    os.kill(os.getpid(), sig)
                    time.sleep(0.05)  # Python runs handlers between bytecodes: here, had it not been held
                    reached.append(sig)
    signal.signal(signal.SIGINT, interrupt)
    assert reached == [signal.SIGINT, signal.SIGTERM]
