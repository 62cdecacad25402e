"""Facesets: the format (a folder of aligned crops plus one index), extraction, and housekeeping tools."""
