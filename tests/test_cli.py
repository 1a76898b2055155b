"""`python -m trainer`: a user error is one line and exit status 2; a bug keeps its traceback."""
import pytest

from landcover_qgis_plugin.core.options import OPTIONS
from trainer import cli
from trainer.cli import COMMANDS, main
from trainer.data.synth import cli as synth_cli


def test_user_error_is_one_line_with_exit_status_2(tmp_path, capsys):
    (tmp_path / "typo.yaml").write_text("train:\n  batch_sise: 4\n")
    assert cli.main(["fit", "--config", str(tmp_path / "typo.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "unknown key(s) ['batch_sise']" in err and "\n" not in err


@pytest.mark.parametrize("text, message", [
    ("train: [unclosed\n", "is not valid YAML"),
    ("train:\n  stages: 3\n", "train.stages: expected a list of stages, got int"),
])
def test_malformed_configs_are_one_line(tmp_path, capsys, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    assert cli.main(["fit", "--config", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_an_override_into_a_value_is_one_line(capsys):
    assert cli.main(["fit", "--config", "tiny", "--set", "name.part=1"]) == 2
    assert "Override 'name.part': 'name' is not a section of the config." in capsys.readouterr().err


def test_a_bug_is_not_swallowed(monkeypatch):
    def buggy(args):
        raise ValueError("bug")

    monkeypatch.setattr(synth_cli, "run", buggy)
    with pytest.raises(ValueError, match="bug"):
        cli.main(["synth", "--out", "unused"])


def test_a_truncated_weights_file_is_a_model_file_error(tmp_path, capsys):
    import yaml

    from trainer.config import load_config

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(load_config("tiny").to_dict(), sort_keys=False))
    (run / "best.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    assert cli.main(["export", "--run", str(run), "--out", str(tmp_path / "m.keras")]) == 2
    err = capsys.readouterr().err
    assert "best.weights.h5 cannot be loaded" in err and "truncated" in err
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.parametrize("command", [name for name, _module in COMMANDS])
def test_every_command_prints_its_help(command, capsys):
    """--help of every sub-command: argparse formats each option's help text (a bare % breaks it)."""
    with pytest.raises(SystemExit) as ended:
        main([command, "--help"])
    assert ended.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: python -m trainer {command}") and "--help" in text


def test_predict_help_names_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(spec.flag in text for spec in OPTIONS)
    assert "99 % of its pixels" in text
