"""The dev-set evaluation's arithmetic and its reading of a parse, without a trained model."""
from __future__ import annotations

from pathlib import Path

import pytest

from scripts import devset_evaluation as ev
from scripts.nlu_devset import DevRow


def row(id_: str, lang: str, text: str, intent: str, category=None, brand=None, source="s.jsonl") -> DevRow:
    return DevRow(id=id_, source=source, line=1, lang=lang, text=text, intent=intent, category=category, brand=brand,
                  stratum="s")


def parse(intent: str, *entities, confidence: float = 0.9):
    return {"intent": {"name": intent, "confidence": confidence},
            "entities": [{"entity": kind, "value": value} for kind, value in entities]}


def test_the_actions_reading_fills_in_what_the_parse_missed():
    rows = [row("a", "en", "looking for a huawei phone", "request_recommendation", "phone", "huawei"),
            row("b", "zh", "想要个耳机", "request_recommendation", "headphones"),
            row("c", "en", "what's the weather", "out_of_scope")]
    parsed = [(rows[0], parse("request_recommendation"), 5.0),  # nothing tagged: the alias table reads the text
              (rows[1], parse("request_recommendation", ("category", "耳机")), 6.0),
              (rows[2], parse("out_of_scope"), 7.0)]
    by_id = {p.id: p for p in ev.read_predictions(parsed)}
    assert (by_id["a"].category, by_id["a"].brand) == ("phone", "huawei")
    assert (by_id["a"].nlu_category, by_id["a"].nlu_brand) == (None, None)
    assert by_id["b"].category == by_id["b"].nlu_category == "headphones"
    assert by_id["c"].category is None and by_id["c"].intent == "out_of_scope"


def prediction(id_: str, intent: str, category=None, brand=None, nlu_category=None, ms: float = 10.0) -> ev.Prediction:
    return ev.Prediction(id=id_, intent=intent, confidence=0.9, category=category, brand=brand,
                         nlu_category=nlu_category, nlu_brand=None, parse_ms=ms)


@pytest.fixture
def report(tmp_path: Path) -> ev.DevsetReport:
    model = tmp_path / "daogou.tar.gz"
    model.write_bytes(b"")
    rows = [row("en1", "en", "a phone please", "request_recommendation", "phone", source="a.jsonl"),
            row("en2", "en", "weather?", "out_of_scope", source="a.jsonl"),
            row("en3", "en", "play music", "out_of_scope", source="a.jsonl"),
            row("zh1", "zh", "华为手机", "request_recommendation", "phone", "huawei", source="b.jsonl"),
            row("zh2", "zh", "谢谢", "thank", source="b.jsonl")]
    predictions = [prediction("en1", "request_recommendation", "phone", nlu_category="phone"),
                   prediction("en2", "nlu_fallback"),  # a rejection: counts for out-of-scope recall
                   prediction("en3", "greet", category="tv"),
                   prediction("zh1", "request_recommendation", "phone", None),  # brand missed
                   prediction("zh2", "out_of_scope", ms=30.0)]  # an in-scope message rejected
    return ev.score(rows, predictions, "old", model)


def test_headline_figures(report):
    assert report.ratio("intent accuracy, en") == ev.Ratio(1, 3)
    assert report.ratio("intent accuracy, zh") == ev.Ratio(1, 2)
    assert report.ratio("out-of-scope recall") == ev.Ratio(1, 2)
    assert report.ratio("out-of-scope recall (out_of_scope only)") == ev.Ratio(0, 2)
    assert report.ratio("in-scope rejected") == ev.Ratio(1, 3)
    assert report.ratio("category resolved end to end") == ev.Ratio(2, 2)
    assert report.ratio("category in the parse") == ev.Ratio(1, 2)
    assert report.ratio("brand resolved end to end") == ev.Ratio(0, 1)
    # Out-of-scope rows are not asked for a category: "category read where none was named" skips them.
    assert report.ratio("category read where none was named") == ev.Ratio(0, 1)
    assert report.latency_ms["p50"] == 10.0


def test_breakdowns(report):
    assert [(s["source"], s["rows"]) for s in report.by_source] == [("a.jsonl", 3), ("b.jsonl", 2)]
    thank = next(i for i in report.by_intent if i["intent"] == "thank")
    assert (thank["support"], thank["correct"]) == (1, 0)
    assert {(c["expected"], c["predicted"]) for c in report.confusions} == {
        ("out_of_scope", "nlu_fallback"), ("out_of_scope", "greet"), ("thank", "out_of_scope")}


def test_a_row_without_a_prediction_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no prediction"):
        ev.score([row("x", "en", "hi", "greet")], [], "old", tmp_path / "missing.tar.gz")


def test_saved_reports_come_back_side_by_side_old_first(report, tmp_path):
    ev.save(report, tmp_path)
    newer = ev.DevsetReport(**{**report.__dict__, "label": "new"})
    ev.save(newer, tmp_path)
    loaded = ev.load_reports(tmp_path)
    assert [r.label for r in loaded] == ["old", "new"]
    section = ev.markdown(loaded)
    assert section[0] == ev.SECTION
    header = next(line for line in section if line.startswith("| figure"))
    assert header.index("old (") < header.index("new (")
    assert any(line.startswith("| intent accuracy, en | >= 0.92 | 0.333 (1/3) | 0.333 (1/3) |") for line in section)


def test_replace_section_keeps_the_rest_of_the_doc():
    doc = "# NLU evaluation\n\nintro\n\n## Independent test messages\n\nheld out\n"
    once = ev.replace_section(doc, [ev.SECTION, "", "first"])
    assert once.startswith(doc.rstrip()) and once.rstrip().endswith("first")
    twice = ev.replace_section(once + "\n## Later\n\nkept\n", [ev.SECTION, "", "second"])
    assert "first" not in twice and "second" in twice and "held out" in twice and "kept" in twice
    assert twice.index("second") < twice.index("## Later")


def test_a_full_rewrite_keeps_what_people_wrote_above_the_generated_part(tmp_path):
    from scripts.evaluate_nlu import written_above

    doc = tmp_path / "nlu_evaluation.md"
    assert written_above(doc) == ["# NLU evaluation", ""]
    doc.write_text("# NLU evaluation\n\n## Old and new side by side\n\n| a | b |\n\n"
                   "`rasa test nlu --cross-validation --folds 3` on `data/nlu`...\n\n### Intents\n", encoding="utf-8")
    assert written_above(doc) == ["# NLU evaluation", "", "## Old and new side by side", "", "| a | b |", ""]


def test_scoring_a_model_on_the_dev_set_leaves_the_rest_of_the_doc_alone(tmp_path, monkeypatch):
    import scripts.evaluate_nlu as evaluate

    scored = []
    monkeypatch.setattr(evaluate, "score_devset", lambda model, label, datasets: scored.append(label))
    monkeypatch.setattr(evaluate.subprocess, "run", lambda *a, **k: pytest.fail("cross-validation must not run"))
    monkeypatch.setattr(evaluate.devset_evaluation, "load_reports", lambda: [])
    doc = tmp_path / "nlu_evaluation.md"
    doc.write_text("# NLU evaluation\n\n## Written by hand\n", encoding="utf-8")
    assert evaluate.main(["--devset-model", str(tmp_path / "m.tar.gz"), "--doc", str(doc)]) == 0
    assert scored == ["new"] and "## Written by hand" in doc.read_text(encoding="utf-8")
