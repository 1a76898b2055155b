"""`python -m trainer`: a user error is one line and exit status 2; a bug keeps its traceback."""
import pytest

from trainer import cli
from trainer.data.synth import cli as synth_cli


def test_user_error_is_one_line_with_exit_status_2(tmp_path, capsys):
    (tmp_path / "typo.yaml").write_text("train:\n  batch_sise: 4\n")
    assert cli.main(["fit", "--config", str(tmp_path / "typo.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "unknown key(s) ['batch_sise']" in err and "\n" not in err


def test_a_bug_is_not_swallowed(monkeypatch):
    def buggy(args):
        raise ValueError("bug")

    monkeypatch.setattr(synth_cli, "run", buggy)
    with pytest.raises(ValueError, match="bug"):
        cli.main(["synth", "--out", "unused"])
