"""livefake.merge: colour transfer, mask composition and paste-back (MergeStage), label, watermark."""
