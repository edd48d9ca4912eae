"""The moment cache: exact round trip, keyed by content and options, safe under concurrent
processes, damaged entries recomputed, stale digests never trusted, used by `ljfit fit --cache`."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from synth import random_dataset
from test_cli_support import ORACLE, invoke

from fitcore import cache
from fitcore.cache import SUFFIX, cache_key, load_entry, store_entry
from fitcore.errors import LjfitWarning
from fitcore.moments import CutoffScheme, compute_moments

LJFIT = Path(sys.executable).parent / "ljfit"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{SUFFIX}"))


def test_round_trip_is_exact(rng, tmp_path):
    dataset = random_dataset(rng, n_frames=3, pbc="slab", triclinic=True, fragments=True)
    dataset = type(dataset)(**{**dataset.__dict__, "forces": rng.normal(size=(dataset.n_atoms, 3)),
                               "info": ({"config": "a b"},) * 3, "extra": {"q": rng.normal(size=dataset.n_atoms)}})
    moments = compute_moments(dataset, CutoffScheme(7.0, True), with_forces=True)
    assert store_entry(str(tmp_path), "k", dataset, moments)
    loaded, loaded_moments = load_entry(str(tmp_path), "k")
    for name, value in dataset.__dict__.items():
        other = getattr(loaded, name)
        if isinstance(value, np.ndarray):
            assert other.dtype == value.dtype, name
            np.testing.assert_array_equal(other, value)
        elif name == "extra":
            np.testing.assert_array_equal(other["q"], value["q"])
        else:
            assert other == value, name
    for name, value in moments.__dict__.items():
        other = getattr(loaded_moments, name)
        assert (other == value) if isinstance(value, tuple) else np.array_equal(other, value), name


@pytest.fixture
def stored(rng, tmp_path):
    """A cache folder with one entry ``k``, and the data it holds."""
    dataset = random_dataset(rng, n_frames=2, pbc="full")
    moments = compute_moments(dataset, CutoffScheme(7.0))
    store_entry(str(tmp_path), "k", dataset, moments)
    return tmp_path, dataset, moments


def array_start(entry: bytes, name: str) -> int:
    """Where the bytes of array ``name`` begin in an entry file (64-byte preamble, header, aligned arrays)."""
    length = int(entry[:64].split()[1])
    header = json.loads(entry[64:64 + length])
    return -(-(64 + length) // 64) * 64 + header["arrays"][name]["offset"]


@pytest.mark.parametrize("damage", ["zero bytes", "truncated", "a flipped bit in the data", "a flipped bit in the header",
                                    "a foreign file"])
def test_a_damaged_entry_is_a_miss_with_a_warning_and_is_removed(stored, damage):
    folder, dataset, moments = stored
    path = folder / f"k{SUFFIX}"
    data = bytearray(path.read_bytes())
    if damage == "zero bytes":
        data = b""
    elif damage == "truncated":
        data = data[:-100]
    elif damage == "a flipped bit in the data":
        data[array_start(bytes(data), "m.energy12") + 5] ^= 1
    elif damage == "a flipped bit in the header":
        data[80] ^= 1
    else:
        data = b"\x93NUMPY" + data[6:]
    path.write_bytes(bytes(data))
    with pytest.warns(LjfitWarning, match=rf"cache entry .*k{SUFFIX} is damaged \(.+\): removed"):
        assert load_entry(str(folder), "k") is None
    assert not path.exists()
    assert store_entry(str(folder), "k", dataset, moments)
    np.testing.assert_array_equal(load_entry(str(folder), "k")[1].energy12, moments.energy12)


def test_an_entry_stored_meanwhile_is_kept(stored, rng):
    """Storing a key that another process stored first is success, and leaves that entry alone."""
    folder, dataset, moments = stored
    before = (folder / f"k{SUFFIX}").stat()
    other = random_dataset(rng, n_frames=2, pbc="full")
    assert store_entry(str(folder), "k", other, compute_moments(other, CutoffScheme(7.0)))
    after = (folder / f"k{SUFFIX}").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in folder.iterdir()] == [f"k{SUFFIX}"]  # no temp file left


def test_temp_files_of_killed_writers_are_removed_after_a_day(stored):
    folder, dataset, moments = stored
    old, recent = folder / ".k2.ljc.1.aa.tmp", folder / ".k3.ljc.2.bb.tmp"
    old.write_bytes(b"x")
    recent.write_bytes(b"x")
    os.utime(old, (time.time() - 2 * cache.STALE_TEMP_SECONDS,) * 2)
    assert store_entry(str(folder), "k4", dataset, moments)
    assert not old.exists() and recent.exists()


CONCURRENT = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    from fitcore.cache import load_entry, store_entry
    from fitcore.io.inputs import load_dataset
    from fitcore.moments import CutoffScheme, compute_moments
    warnings.simplefilter("error")  # a damaged-entry warning would be a failure here
    folder, data, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    dataset = load_dataset([data])
    moments = compute_moments(dataset, CutoffScheme(8.5, True))
    sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()  # start together
    for k in range(rounds):  # every process stores every key again and again, and reads it back at once
        key = f"key{k % 3}"
        assert store_entry(folder, key, dataset, moments) is not False
        entry = load_entry(folder, key)
        assert entry is not None, f"round {k}: {key} missing just after it was stored"
        np.testing.assert_array_equal(entry[1].energy12, moments.energy12)
        np.testing.assert_array_equal(entry[0].positions, dataset.positions)
    print("ok")
""")


def test_concurrent_processes_store_and_load_the_same_entries(tmp_path, data_dir):
    """Several processes storing and loading the same keys at once (a job array's first runs)."""
    folder = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(folder), str(data_dir / "oracle_cubic.extxyz"),
                               "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    for p in procs:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out.strip() == "ok", err[-3000:]
    assert [p.name for p in sorted(folder.iterdir())] == [f"key{k}{SUFFIX}" for k in range(3)]


def test_entries_follow_the_umask(tmp_path):
    script = ("import os, sys, numpy as np; from fitcore.cache import store_entry; from synth import random_dataset;"
              "from fitcore.moments import CutoffScheme, compute_moments;"
              "d = random_dataset(np.random.default_rng(1), n_frames=1, pbc='none'); m = compute_moments(d, CutoffScheme(None))\n"
              "for umask in sys.argv[2:]:\n"
              "    os.umask(int(umask, 8)); store_entry(os.path.join(sys.argv[1], umask), 'k', d, m)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
    masks = {"002": 0o664, "022": 0o644, "077": 0o600}  # umask: the mode of a new file
    subprocess.run([sys.executable, "-c", script, str(tmp_path), *masks], check=True, env=env)
    for umask, mode in masks.items():
        assert (tmp_path / umask / f"k{SUFFIX}").stat().st_mode & 0o777 == mode
        assert (tmp_path / umask).stat().st_mode & 0o777 == mode | 0o111 & ~int(umask, 8)


@pytest.fixture
def fresh_digests(monkeypatch):
    """This process's memory of digests emptied, as in a new run."""
    monkeypatch.setattr(cache, "_HASHED", {})
    monkeypatch.setattr(cache, "_RECORDED", {})


def test_digests_are_remembered_by_stamp(tmp_path, fresh_digests):
    data = tmp_path / "a.xyz"
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    cache.remember_digests(str(tmp_path / "c"), [str(data)])
    index = json.loads((tmp_path / "c" / "digests.json").read_text())
    assert [v[0] for v in index.values()] == [hashlib.sha256(data.read_bytes()).hexdigest()]
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.9\n")  # new content, new stamp: hashed again
    assert cache.file_digest(str(data)) == hashlib.sha256(data.read_bytes()).hexdigest()


def test_a_rewrite_with_the_same_size_and_mtime_is_hashed_again(tmp_path, fresh_digests):
    """cp -p, rsync and tar restore the mtime; the ctime still moves, and it is part of the stamp."""
    data = tmp_path / "a.xyz"
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    os.utime(data, ns=(10**18, 10**18))
    old = cache.file_digest(str(data))
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.9\n")
    os.utime(data, ns=(10**18, 10**18))
    assert cache.file_digest(str(data)) != old
    assert cache.file_digest(str(data)) == hashlib.sha256(data.read_bytes()).hexdigest()


def test_a_digest_recorded_within_seconds_of_the_last_change_is_not_trusted(tmp_path, fresh_digests):
    """git's racily-clean rule: a file changed in the same clock tick as it was hashed may keep its stamp."""
    data = tmp_path / "a.xyz"
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    stamp, status = cache._stamp(str(data))
    changed = max(status.st_mtime_ns, status.st_ctime_ns)
    folder = tmp_path / "c"
    folder.mkdir()
    for recorded_at, trusted in ((changed + 10**9, False), (changed + (cache.RACY_SECONDS + 1) * 10**9, True)):
        (folder / "digests.json").write_text(json.dumps({stamp: ["f" * 64, recorded_at]}))
        cache._HASHED.clear()
        cache._RECORDED.clear()
        cache.remember_digests(str(folder), [str(data)])
        expected = "f" * 64 if trusted else hashlib.sha256(data.read_bytes()).hexdigest()
        assert cache.file_digest(str(data)) == expected


def test_key_follows_content_names_and_options(tmp_path):
    a = tmp_path / "a.xyz"
    a.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    key = cache_key([str(a)], CutoffScheme(8.5, True), "1")
    assert key == cache_key([str(a)], CutoffScheme(8.5, True), "1")
    assert key != cache_key([str(a)], CutoffScheme(8.0, True), "1")
    assert key != cache_key([str(a)], CutoffScheme(8.5, True), "2")
    a.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.9\n")
    assert key != cache_key([str(a)], CutoffScheme(8.5, True), "1")


def test_fit_from_cache_gives_the_same_result(small, tmp_path):
    cache = tmp_path / "cache"
    first = invoke(["fit", small, *ORACLE, "--cache", cache, "--format", "json"])
    assert "from the cache" not in first.stderr and len(entries(cache)) == 1
    second = invoke(["fit", small, *ORACLE, "--cache", cache, "--format", "json"])
    assert "pairs and moments from the cache" in second.stderr
    assert json.loads(second.stdout)["species"] == json.loads(first.stdout)["species"]
    invoke(["fit", small, "--cutoff", "8.0", "--shift", "--cache", cache, "-q"])
    assert len(entries(cache)) == 2  # another cutoff, another entry


def test_fit_after_a_same_size_same_mtime_rewrite_uses_the_new_file(small, tmp_path):
    """The stale-cache defect: the rewritten file must be reduced again and its own sha256 recorded."""
    cache = tmp_path / "cache"
    invoke(["fit", small, *ORACLE, "--cache", cache, "-q", "-o", tmp_path / "a.json"])
    status = small.stat()
    lines = small.read_text().splitlines(keepends=True)
    x = lines[3].split()[1]  # an atom moved by one unit of the last digit: same size, other energies
    lines[3] = lines[3].replace(x, x[:-1] + ("1" if x[-1] == "0" else "0"), 1)
    text, changed = small.read_text(), "".join(lines)
    assert len(changed) == len(text) and changed != text
    small.write_text(changed)
    os.utime(small, ns=(status.st_atime_ns, status.st_mtime_ns))
    again = invoke(["fit", small, *ORACLE, "--cache", cache, "-o", tmp_path / "b.json"])
    assert "from the cache" not in again.stderr
    inputs = json.loads((tmp_path / "b.json").read_text())["fit"]["inputs"]
    assert inputs[0]["sha256"] == hashlib.sha256(small.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", ["zero bytes", "garbage data"])
def test_fit_with_a_damaged_entry_warns_recomputes_and_stores_it_again(small, tmp_path, damage):
    cache = tmp_path / "cache"
    first = invoke(["fit", small, *ORACLE, "--cache", cache, "--format", "json"])
    [entry] = entries(cache)
    data = bytearray(entry.read_bytes())
    if damage == "zero bytes":
        data = b""
    else:
        start = array_start(bytes(data), "m.energy6")
        data[start:start + 8] = np.float64(1.5).tobytes()
    entry.write_bytes(bytes(data))
    second = invoke(["fit", small, *ORACLE, "--cache", cache, "--format", "json"])
    assert "warning: cache entry" in second.stderr and "is damaged" in second.stderr
    assert "from the cache" not in second.stderr
    assert json.loads(second.stdout)["species"] == json.loads(first.stdout)["species"]
    third = invoke(["fit", small, *ORACLE, "--cache", cache, "--format", "json"])
    assert "from the cache" in third.stderr and "cache entry" not in third.stderr


def test_cache_is_reused_when_only_the_energies_table_changes(small, tmp_path):
    cache, table = tmp_path / "cache", tmp_path / "e.csv"
    table.write_text("name,energy\nsmall:0,-3.0\n")
    invoke(["fit", small, *ORACLE, "--cache", cache, "--energies", table, "-q"])
    table.write_text("name,energy\nsmall:0,-2.5\n")
    again = invoke(["fit", small, *ORACLE, "--cache", cache, "--energies", table, "--format", "json"])
    assert "from the cache" in again.stderr and len(entries(cache)) == 1
    residuals = tmp_path / "r.csv"
    invoke(["fit", small, *ORACLE, "--cache", cache, "--energies", table, "-q", "--residuals", residuals])
    assert residuals.read_text().splitlines()[1].split(",")[2] == "-2.5"  # the new table's energy is used


def _read_only_mount(folder: Path) -> list[str]:
    """A command prefix running its command with ``folder`` mounted read-only in a private mount
    namespace (tests run as root, for whom permission bits do not stop a write; a read-only mount does)."""
    prefix = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder)]
    if shutil.which("unshare") is None:
        pytest.skip("a read-only mount needs unshare (util-linux)")
    probe = subprocess.run(prefix + ["touch", str(folder / "probe")], capture_output=True, text=True)
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only mount here (needs root in a mount namespace): {probe.stderr.strip()}")
    return prefix


@pytest.mark.parametrize("filled", [False, True])
def test_a_read_only_cache_warns_and_the_run_goes_on(small, tmp_path, filled):
    cache = tmp_path / "cache"
    cache.mkdir()
    if filled:  # an entry for other options is there: reading the folder is fine
        invoke(["fit", small, "--cutoff", "8.0", "--cache", cache, "-q"])
    before = sorted(p.name for p in cache.iterdir())
    run = subprocess.run(_read_only_mount(cache) + [str(LJFIT), "fit", str(small), *ORACLE, "--cache", str(cache),
                                                    "--format", "csv", "-o", str(tmp_path / "p.json")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"warning: cache folder {cache} cannot be written (Read-only file system): the run goes on" in run.stderr
    assert run.stdout.startswith("parameter,value") and (tmp_path / "p.json").exists()
    assert sorted(p.name for p in cache.iterdir()) == before
