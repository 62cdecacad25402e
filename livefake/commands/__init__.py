"""Subcommands of ``livefake``; see ``livefake.cli``."""
