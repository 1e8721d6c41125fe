"""The "today" side of the page "From Channels 1 to today" is code that runs on the installed Channels."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "includes" / "channels1_today"


def test_the_channels1_page_examples_pass_their_own_tests():
    # A child pytest, from the examples' folder: its own pytest.ini and Django settings, like a lesson.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=EXAMPLES,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"the examples' tests failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
