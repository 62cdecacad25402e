"""livefake.merge"""
