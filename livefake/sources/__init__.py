"""livefake.sources"""
