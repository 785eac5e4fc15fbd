"""The Rasa project's data is consistent: what `rasa data validate` checks, and what we generate."""
import subprocess
import sys
from pathlib import Path

import yaml

from actions.messages import LOCALE_DIR
from actions.render import category_name
from recsys.catalog import CATEGORIES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RASA = Path(sys.executable).with_name("rasa")


def test_rasa_data_validate():
    result = subprocess.run(
        [str(RASA), "data", "validate", "--fail-on-warnings", "--config", "config.yml", "--domain", "domain.yml", "--data", "data/nlu", "data/rules",
         "var/nlu/real_messages.yml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_generated_nlu_lookups_are_up_to_date(tmp_path):
    subprocess.run(
        [sys.executable, "scripts/generate_nlu_lookups.py", "--nlu-dir", str(tmp_path)],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )
    for name in ("lookups.yml", "products.yml", "jieba/aliases.txt"):
        generated = PROJECT_ROOT / "data/nlu/generated" / name
        assert (tmp_path / "generated" / name).read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), (
            f"data/nlu/generated/{name} is stale: run `make lookups`"
        )


def test_every_language_has_every_message():
    catalogs = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in LOCALE_DIR.glob("*.yml")}
    assert set(catalogs) == {"en", "zh"}
    assert set(catalogs["en"]) == set(catalogs["zh"])


def test_category_names_come_from_the_taxonomy_only():
    for path in LOCALE_DIR.glob("*.yml"):
        assert not [key for key in yaml.safe_load(path.read_text(encoding="utf-8")) if key.startswith("category.")], path
    assert [category_name("en", c) for c in CATEGORIES[:2]] == ["phones", "laptops"]
    assert category_name("zh", "tv") == "电视"
    assert all(category_name(language, c) for language in ("en", "zh") for c in CATEGORIES)


def test_every_response_has_a_chinese_variation():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variations in domain["responses"].items():
        conditions = [v.get("condition") for v in variations]
        assert [{"type": "slot", "name": "language", "value": "zh"}] in conditions, name
        assert None in conditions, f"{name} has no default (English) variation"


def test_action_server_registers_exactly_the_domain_actions():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(executor.actions) == set(domain["actions"])
