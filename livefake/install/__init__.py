"""This machine and livefake: device probes, the doctor's checks, and the face-model build (setup)."""
