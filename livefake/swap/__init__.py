"""livefake.swap"""
