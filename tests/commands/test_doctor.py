import pytest

from livefake.cli import main


def test_doctor_reports_every_check_with_a_fix_for_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--probe-cameras", "1"])
    lines = capsys.readouterr().out.splitlines()
    checks = [line for line in lines if line.startswith("[")]
    names = " ".join(checks)
    for name in ("camera", "inference", "face models", "virtual camera", "audio", "training"):
        assert name in names
    for index, line in enumerate(lines):
        if line.startswith("[MISS]") and "cannot check" not in line:
            assert "fix:" in lines[index + 1], f"no fix given for: {line}"
    assert code == 0  # ONNX Runtime is installed here
