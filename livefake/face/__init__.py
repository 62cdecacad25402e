"""livefake.face"""
