"""The moment cache: exact round trip, keyed by content and options, and used by `ljfit fit --cache`."""
import json

import numpy as np
from synth import random_dataset
from test_cli_support import ORACLE, invoke

from fitcore.cache import cache_key, load_entry, store_entry
from fitcore.moments import CutoffScheme, compute_moments


def test_round_trip_is_exact(rng, tmp_path):
    dataset = random_dataset(rng, n_frames=3, pbc="slab", triclinic=True, fragments=True)
    dataset = type(dataset)(**{**dataset.__dict__, "forces": rng.normal(size=(dataset.n_atoms, 3)),
                               "info": ({"config": "a b"},) * 3, "extra": {"q": rng.normal(size=dataset.n_atoms)}})
    moments = compute_moments(dataset, CutoffScheme(7.0, True), with_forces=True)
    store_entry(str(tmp_path), "k", dataset, moments)
    loaded, loaded_moments = load_entry(str(tmp_path), "k")
    for name, value in dataset.__dict__.items():
        other = getattr(loaded, name)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(other, value)
        elif name == "extra":
            np.testing.assert_array_equal(other["q"], value["q"])
        else:
            assert other == value, name
    for name, value in moments.__dict__.items():
        other = getattr(loaded_moments, name)
        assert (other == value) if isinstance(value, tuple) else np.array_equal(other, value), name


def test_a_damaged_entry_is_a_miss_and_is_replaced(rng, tmp_path):
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "header.json").write_text("{not json")
    assert load_entry(str(tmp_path), "k") is None
    dataset = random_dataset(rng, n_frames=2, pbc="full")
    store_entry(str(tmp_path), "k", dataset, compute_moments(dataset, CutoffScheme(7.0)))
    assert load_entry(str(tmp_path), "k") is not None


def test_digests_are_remembered_by_stamp(tmp_path):
    from fitcore import cache
    data = tmp_path / "a.xyz"
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    cache.remember_digests(str(tmp_path / "c"), [str(data)])
    index = json.loads((tmp_path / "c" / "digests.json").read_text())
    assert list(index.values()) == [cache.file_digest(str(data))]
    data.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.9\n")  # new content, new stamp: hashed again
    assert cache.file_digest(str(data)) != list(index.values())[0]


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
    entries = lambda: [p for p in cache.iterdir() if p.is_dir()]  # noqa: E731
    assert "from the cache" not in first.stderr and len(entries()) == 1
    second = invoke(["fit", small, *ORACLE, "--cache", cache, "--format", "json"])
    assert "pairs and moments from the cache" in second.stderr
    assert json.loads(second.stdout)["species"] == json.loads(first.stdout)["species"]
    invoke(["fit", small, "--cutoff", "8.0", "--shift", "--cache", cache, "-q"])
    assert len(entries()) == 2  # another cutoff, another entry


def test_cache_is_reused_when_only_the_energies_table_changes(small, tmp_path):
    cache, table = tmp_path / "cache", tmp_path / "e.csv"
    table.write_text("name,energy\nsmall:0,-3.0\n")
    invoke(["fit", small, *ORACLE, "--cache", cache, "--energies", table, "-q"])
    table.write_text("name,energy\nsmall:0,-2.5\n")
    again = invoke(["fit", small, *ORACLE, "--cache", cache, "--energies", table, "--format", "json"])
    assert "from the cache" in again.stderr and len([p for p in cache.iterdir() if p.is_dir()]) == 1
    residuals = tmp_path / "r.csv"
    invoke(["fit", small, *ORACLE, "--cache", cache, "--energies", table, "-q", "--residuals", residuals])
    assert residuals.read_text().splitlines()[1].split(",")[2] == "-2.5"  # the new table's energy is used
