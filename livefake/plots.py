"""PNG plots of a run: capture->sink latency over time and per-stage processing time."""

from __future__ import annotations

from pathlib import Path

from livefake.pipeline import Pipeline


def plot_run(pipeline: Pipeline, path: str | Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, latency = pipeline.stats.latency_series()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), constrained_layout=True)
    top.plot(t, latency, lw=0.8, color="tab:blue")
    top.set(title=f"{title}: capture->sink latency", xlabel="time since first capture (s)", ylabel="ms")
    top.grid(alpha=0.3)
    names = pipeline.stats.stage_names
    series = [pipeline.stats.stage_series(name) for name in names]
    if names:
        bottom.boxplot(series, showfliers=False)
        bottom.set_xticks(range(1, len(names) + 1), names)
    bottom.set(title="per-stage processing time", ylabel="ms")
    bottom.grid(alpha=0.3)
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
