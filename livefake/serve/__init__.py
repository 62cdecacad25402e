"""Serving swap models: a real Triton Inference Server, fetched pinned or found on PATH, run on a repository."""
