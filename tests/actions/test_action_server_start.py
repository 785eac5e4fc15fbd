"""The action server starts without Rasa's engine or TensorFlow: every start would pay seconds for them."""
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_action_loads_neither_rasa_nor_tensorflow():
    code = ("import importlib, pkgutil, sys, actions\n"
            "for module in pkgutil.iter_modules(actions.__path__): importlib.import_module(f'actions.{module.name}')\n"
            "print(sorted({'rasa', 'tensorflow', 'keras'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
