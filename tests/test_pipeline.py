"""Reading and reducing in worker processes gives exactly what one process gives."""
import numpy as np
import pytest

from fitcore import pipeline
from fitcore.errors import InputError
from fitcore.io.inputs import DataOptions, load_dataset
from fitcore.io.xyz import ReadOptions, read_structures
from fitcore.moments import CutoffScheme, compute_moments
from fitcore.pipeline import PendingFeaturization, Featurization


@pytest.fixture
def small_thresholds(monkeypatch):
    """Make the oracle files (a few hundred kB) big enough to be split and read by workers."""
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(pipeline, "SPLIT_BYTES", 10_000)


@pytest.mark.parametrize("with_forces", [False, True])
def test_workers_equal_one_process(data_dir, small_thresholds, with_forces):
    paths = [str(data_dir / "oracle_cubic.extxyz"), str(data_dir / "oracle_slab.extxyz")]
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(8.5, True), with_forces=with_forces)
    pending = PendingFeaturization(paths, job, workers=2)
    assert pending.parallel and len(pending.futures) >= 2 * pipeline.TASKS_PER_WORKER - 1  # byte ranges
    dataset, moments = pending.result()
    serial = load_dataset(paths)
    expected = compute_moments(serial, CutoffScheme(8.5, True), with_forces=with_forces)
    assert dataset.names == serial.names and dataset.type_names == serial.type_names
    np.testing.assert_array_equal(dataset.positions, serial.positions)
    np.testing.assert_array_equal(dataset.energies, serial.energies)
    np.testing.assert_allclose(moments.energy12, expected.energy12, rtol=1e-13)
    np.testing.assert_allclose(moments.energy6, expected.energy6, rtol=1e-13)
    np.testing.assert_array_equal(moments.pair_count, expected.pair_count)
    if with_forces:
        np.testing.assert_allclose(moments.force12, expected.force12, rtol=1e-12, atol=1e-30)


def test_files_with_different_types_are_merged(tmp_path, small_thresholds):
    a, b = tmp_path / "a.xyz", tmp_path / "b.xyz"
    a.write_text("2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n")
    b.write_text("2\nenergy=-2\nXe 0 0 0\nKr 0 0 4.0\n")
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(None))
    dataset, moments = PendingFeaturization([str(a), str(b)], job, workers=2).result()
    assert dataset.type_names == ("Ar", "Kr", "Xe")
    assert moments.pair_count.tolist() == [1, 0, 0, 0, 1, 0]  # Ar-Ar and Kr-Xe, in the merged columns


def test_a_fit_gets_count_tables_not_atom_labels(tmp_path, small_thresholds):
    """Workers send per-frame counts of each type and species; files with other types merge their columns."""
    a, b = tmp_path / "a.xyz", tmp_path / "b.xyz"
    a.write_text("3\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\nXe 4 0 0\n")
    b.write_text("2\nenergy=-2\nXe 0 0 0\nKr 0 0 4.0\n" "1\nenergy=-3\nKr 0 0 0\n")
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(None), coordinates=False)
    dataset, moments = PendingFeaturization([str(a), str(b)], job, workers=2).result()
    assert dataset.type_index is None and dataset.species_index is None
    assert dataset.type_names == dataset.species_names == ("Ar", "Kr", "Xe")
    assert dataset.type_counts.tolist() == [[2, 0, 1], [0, 1, 1], [0, 1, 0]]
    assert dataset.species_counts.tolist() == [[2, 0, 1], [0, 1, 1], [0, 1, 0]]
    serial = load_dataset([str(a), str(b)])
    np.testing.assert_array_equal(dataset.type_counts, serial.type_counts)
    assert moments.pair_count.tolist() == [1, 0, 2, 0, 1, 0]  # Ar-Ar, Ar-Xe twice, Kr-Xe


def test_a_worker_error_is_the_first_bad_place(tmp_path, small_thresholds):
    good = "2\nenergy=-1\nAr 0 0 0\nAr 0 0 3.8\n"
    files = []
    for k, text in enumerate([good, good.replace("3.8", "x"), good.replace("Ar 0 0 0", "Ar 0 0 nan")]):
        path = tmp_path / f"f{k}.xyz"
        path.write_text(text)
        files.append(str(path))
    job = Featurization(data=DataOptions(read=ReadOptions()), scheme=CutoffScheme(None))
    with pytest.raises(InputError, match=r"f1\.xyz:4: .*'x'"):
        PendingFeaturization(files, job, workers=2).result()


def test_missing_cutoff_message_says_where_it_comes_from(data_dir, small_thresholds):
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(None), cutoff_needed="a cutoff in p.json")
    with pytest.raises(InputError, match="periodic frames need a cutoff in p.json"):
        PendingFeaturization([str(data_dir / "oracle_cubic.extxyz")], job, workers=2).result()


def test_warnings_raised_in_workers_reach_the_parent_once(tmp_path, small_thresholds):
    """A file read in pieces by worker processes warns as a whole-file read does (a forked worker's own
    warnings went to a copy of the parent's record, and were lost)."""
    from fitcore.errors import LjfitWarning
    path = tmp_path / "ha.xyz"
    path.write_text("".join(f"2\nE(Ha) -0.0{k:03d}\nAr 0 0 0\nAr 0 0 {3.5 + k / 1000:.3f}\n" for k in range(1, 800)))
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(None))
    pending = PendingFeaturization([str(path)], job, workers=2)
    assert pending.parallel and len(pending.futures) >= 2
    with pytest.warns(LjfitWarning, match="comments give energies in hartree, but they are read as eV") as caught:
        dataset, _ = pending.result()
    assert dataset.n_frames == 799
    assert len([w for w in caught if "hartree" in str(w.message)]) == 1
