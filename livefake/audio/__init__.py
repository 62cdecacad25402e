"""livefake.audio"""
