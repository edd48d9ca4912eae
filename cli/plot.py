"""Parity plots (matplotlib, an optional extra: pip install 'ljfit[plot]')."""
import numpy as np


def parity_plot(path: str, dataset, energy_ref: np.ndarray, energy_pred: np.ndarray, stats, energy_unit: str) -> None:
    """Reference vs predicted energy per frame ([n_frames], in ``energy_unit``; NaN: no reference), coloured by
    composition (or by file), with a residual histogram and the statistics ``stats`` (ErrorStats) in the title."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from fitcore.errors import LjfitError
        raise LjfitError("--plot needs matplotlib: pip install 'ljfit[plot]'") from None
    from fitcore.io.files import atomic_write
    known = ~np.isnan(energy_ref)
    ref, pred = energy_ref[known], energy_pred[known]
    groups = _groups(dataset)[known]
    fig, (ax, hist) = plt.subplots(1, 2, figsize=(10, 4.5), gridspec_kw={"width_ratios": [1.3, 1]})
    labels = list(dict.fromkeys(groups))
    if len(labels) <= 10:  # few files or compositions: one colour each, with a legend
        for k, label in enumerate(labels):
            sel = groups == label
            ax.scatter(ref[sel], pred[sel], s=10, alpha=0.8, color=plt.get_cmap("tab10")(k), label=label)
        ax.legend(fontsize=7, title="file" if labels[0] in dataset.sources else "composition")
    else:  # many compositions: colour by the fraction of the most common type
        counts = dataset.type_counts[known]
        main = int(np.argmax(counts.sum(axis=0)))
        fraction = counts[:, main] / counts.sum(axis=1)
        points = ax.scatter(ref, pred, s=10, alpha=0.8, c=fraction, cmap="viridis")
        fig.colorbar(points, ax=ax, label=f"fraction of {dataset.type_names[main]}")
    lo, hi = min(ref.min(), pred.min()), max(ref.max(), pred.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel(f"reference energy ({energy_unit})")
    ax.set_ylabel(f"predicted energy ({energy_unit})")
    ax.tick_params(axis="x", labelrotation=30)
    hist.tick_params(axis="x", labelrotation=30)
    hist.hist(pred - ref, bins=40, color="tab:blue")
    hist.set_xlabel(f"predicted - reference ({energy_unit})")
    hist.set_ylabel("frames")
    if stats is not None and stats.n and stats.r2 is not None:
        fig.suptitle(f"RMSE {stats.rmse:.4g}  MAE {stats.mae:.4g}  max {stats.max_abs:.4g} {energy_unit}   "
                     f"R² {stats.r2:.6g}   ({stats.n} frames)")
    fig.tight_layout()
    import io
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.rsplit(".", 1)[-1].lower() if "." in path else "png", dpi=120)
    plt.close(fig)
    atomic_write(path, buffer.getvalue())


def _groups(dataset) -> np.ndarray:
    """A label per frame: its composition when there are few compositions, else its file when there are few
    files, else its composition (the caller then colours by composition fraction)."""
    compositions = np.array([" ".join(f"{t}{c}" for t, c in zip(dataset.type_names, row) if c)
                             for row in dataset.type_counts], dtype=object)
    if len(set(compositions)) > 10 and 1 < len(set(dataset.sources)) <= 10:
        return np.array(dataset.sources, dtype=object)
    return compositions
