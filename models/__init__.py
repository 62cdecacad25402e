"""PyTorch side: architectures, faceset dataset and trainer (installed as livefake.models).

The package itself imports nothing, so ``livefake.models.catalog`` (the architectures as data)
is usable without torch. Build models with ``livefake.models.registry.build_model``.
"""
