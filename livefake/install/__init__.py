"""What this machine has for livefake and what livefake installs on it: device probes, the doctor's checks, the face-model build."""
