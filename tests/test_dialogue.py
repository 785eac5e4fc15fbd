"""The dialogue model passes the test stories: `rasa test core --fail-on-prediction-errors`.

The stories run through the trained model (NLU and policies), in both languages, with
corrections, skipped questions and switches of topic. `make test` trains the model first.
"""
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA = Path(sys.executable).with_name("rasa")
#: The model `make models` trains; DAOGOU_RASA_MODEL points the test at another one (a branch's own training).
MODEL = Path(os.environ.get("DAOGOU_RASA_MODEL") or PROJECT_ROOT / "models" / "rasa" / "daogou.tar.gz")


def test_test_stories_pass(tmp_path):
    assert MODEL.exists(), "no trained Rasa model: run `make models` (make test does)"
    result = subprocess.run(
        [str(RASA), "test", "core", "--model", str(MODEL), "--stories", "tests/stories", "--fail-on-prediction-errors",
         "--out", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-3000:] + result.stderr[-3000:]
