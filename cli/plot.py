"""Parity plots (matplotlib, an optional extra: pip install 'ljfit[plot]')."""
import numpy as np


def parity_plot(path: str, dataset, energy_pred: np.ndarray, statistics: dict, energy_unit: str,
                already_converted: bool = False) -> None:
    """Reference vs predicted energy per frame, coloured by composition (or by file), with a residual histogram."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from fitcore.errors import LjfitError
        raise LjfitError("--plot needs matplotlib: pip install 'ljfit[plot]'") from None
    from fitcore.units import energy_factor

    from fitcore.io.files import atomic_write
    e = energy_factor(energy_unit)
    known = ~np.isnan(dataset.energies)
    ref, pred = dataset.energies[known] / e, energy_pred[known] / e
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
    s = statistics.get("energy") or {}
    scale = 1.0 if already_converted else 1.0 / e
    if s.get("n"):
        fig.suptitle(f"RMSE {s['rmse'] * scale:.4g}  MAE {s['mae'] * scale:.4g}  max {s['max_abs'] * scale:.4g} "
                     f"{energy_unit}   R² {s['r2']:.6g}   ({s['n']} frames)" if s.get("r2") is not None else "")
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
