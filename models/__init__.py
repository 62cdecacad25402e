"""PyTorch side: architectures, faceset dataset and trainer (installed as livefake.models)."""
