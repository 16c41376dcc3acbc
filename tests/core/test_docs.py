import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"


def test_cli_reference_matches_the_commands_help():
    """docs/cli.md is generated from --help; regenerate it with the script when this fails."""
    result = subprocess.run(
        [sys.executable, str(DOCS / "make_cli_reference.py"), "--check"], capture_output=True
    )
    assert result.returncode == 0, "docs/cli.md is stale: run python docs/make_cli_reference.py"
