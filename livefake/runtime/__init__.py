"""livefake.runtime"""
