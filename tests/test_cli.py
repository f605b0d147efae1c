"""The `aglu` entry point: help, version and unknown commands."""

import aglu
from aglu.cli import main


def test_version_help_and_unknown_command(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"aglu {aglu.__version__}\n"
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["trian"]) == 2
    assert capsys.readouterr().err.startswith("aglu: unknown command 'trian'; use one of train, ")
