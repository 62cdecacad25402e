"""PNG plots of a run: capture->sink latency over time and per-stage processing time."""

from __future__ import annotations

from pathlib import Path

from livefake.pipeline import Pipeline


def plot_run(pipeline: Pipeline, path: str | Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, latency = pipeline.stats.latency_series()
    names = pipeline.stats.stage_names
    rows = 2 if names else 1
    figure, axes = plt.subplots(rows, 1, figsize=(9, 3.4 * rows), constrained_layout=True, squeeze=False)
    top = axes[0][0]
    top.plot(t, latency, lw=0.8, color="tab:blue")
    top.set(title=f"{title}: capture->sink latency", xlabel="time since first capture (s)", ylabel="ms")
    top.grid(alpha=0.3)
    if names:
        bottom = axes[1][0]
        bottom.boxplot([pipeline.stats.stage_series(name) for name in names], showfliers=False)
        bottom.set_xticks(range(1, len(names) + 1), names)
        bottom.set(title="per-stage processing time", ylabel="ms")
        bottom.grid(alpha=0.3)
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
