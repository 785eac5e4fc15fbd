"""The whole build: deterministic, equal to the committed files, and stopped by a bad row that it names."""
from pathlib import Path

import pytest

from catalog_build import BuildError, build_catalog
from catalog_build.__main__ import main
from recsys.catalog import CATEGORIES
from tests.catalog_build.conftest import INDIA, JD, LAPTOPS, PROJECT_ROOT, real_lines

CATALOG_DIR = PROJECT_ROOT / "data" / "catalog"


def test_build_is_deterministic_and_reproduces_the_committed_files(real_source, tmp_path):
    first = build_catalog(real_source)
    second = build_catalog(real_source)

    assert first.products_text() == second.products_text()
    assert first.aliases_text == second.aliases_text
    first.write(tmp_path)
    for name in ("products.jsonl", "aliases.yml"):
        assert (tmp_path / name).read_bytes() == (CATALOG_DIR / name).read_bytes(), (
            f"data/catalog/{name} is stale: run `make catalog`"
        )
    assert {p["category"] for p in first.products} == set(CATEGORIES)


def _india_row(real_source: Path, line: int, **changes: str) -> str:
    """A real smartphones_india.csv row with some columns changed."""
    header, row = real_lines(real_source / INDIA, (1, line))
    values = dict(zip(header.split(","), row.split(",")))
    values.update(changes)
    return ",".join(values.values())


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        # A rating of 150 out of 100 becomes 7.5 stars: ProductRecord refuses it.
        (lambda src: _india_row(src, 3, rating="150"),
         "smartphones_india.csv:3: phone-oneplus-nord-ce-2-lite-5g: invalid product: rating: ensure this value is less than or equal to 5"),
        (lambda src: _india_row(src, 3, ram_capacity="lots"), "smartphones_india.csv:3: cannot read it (ValueError: invalid literal for int()"),
        (lambda src: _india_row(src, 3, brand_name="acme"), "smartphones_india.csv:3: brand 'acme' is not in taxonomy.yml"),
    ],
)
def test_bad_india_row_is_named(sample_source, real_source, bad_line, expected):
    source = sample_source(india=(2, 3), replace={(INDIA, 3): bad_line(real_source)})
    with pytest.raises(BuildError) as error:
        build_catalog(source, curated_dir=None)
    assert expected in str(error.value)


def test_bad_laptop_and_jd_rows_are_named(sample_source, real_source):
    laptop = real_lines(real_source / LAPTOPS, (153,))[0].replace(",Dell,", ",Acme,")
    with pytest.raises(BuildError, match=r"laptops_europe\.csv:2: brand 'acme' is not in taxonomy\.yml"):
        build_catalog(sample_source(laptops=(153,), replace={(LAPTOPS, 153): laptop}), curated_dir=None)
    with pytest.raises(BuildError, match=r"jd_phones_zh\.jsonl:2: not valid JSON"):
        build_catalog(sample_source(jd=(1, 10), replace={(JD, 10): '{"p_name": "荣耀8'}), curated_dir=None)


def test_bad_curated_entry_is_named(sample_source, tmp_path):
    curated = tmp_path / "curated"
    curated.mkdir()
    (curated / "tablet.yml").write_text(
        "- {brand: apple, model: iPad Air, price: 4799, list_price: 3999, description: {en: A tablet., zh: 平板。},\n"
        "   selling_points: {en: [], zh: []}}\n", encoding="utf-8")
    with pytest.raises(BuildError) as error:
        build_catalog(sample_source(india=(2,)), curated_dir=curated)
    assert "curated/tablet.yml entry 1 (iPad Air): tablet-apple-ipad-air: invalid product: list_price: list price 3999 is below the price 4799" in str(error.value)


def test_every_problem_is_listed_not_only_the_first(sample_source, real_source):
    replace = {(INDIA, line): _india_row(real_source, line, rating="150") for line in (2, 3)}
    with pytest.raises(BuildError) as error:
        build_catalog(sample_source(india=(2, 3), replace=replace), curated_dir=None)
    assert "smartphones_india.csv:2: phone-oneplus-11-5g" in str(error.value)
    assert "smartphones_india.csv:3: phone-oneplus-nord-ce-2-lite-5g" in str(error.value)


def test_command_writes_nothing_when_a_row_is_bad(sample_source, real_source, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "products.jsonl").write_text("the catalog as it was\n", encoding="utf-8")
    source = sample_source(india=(2, 3), replace={(INDIA, 3): _india_row(real_source, 3, rating="150")})

    assert main(["--source", str(source), "--out-dir", str(out_dir), "--curated", str(tmp_path / "none")]) == 1
    assert "smartphones_india.csv:3" in capsys.readouterr().err
    assert sorted(p.name for p in out_dir.iterdir()) == ["products.jsonl"]
    assert (out_dir / "products.jsonl").read_text(encoding="utf-8") == "the catalog as it was\n"


def test_command_builds_from_a_source_folder(sample_source, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["--source", str(sample_source(india=(2,), jd=(10,))), "--out-dir", str(out_dir), "--curated", str(tmp_path / "none")]) == 0
    ids = [line.split('"')[3] for line in (out_dir / "products.jsonl").read_text(encoding="utf-8").splitlines()]
    assert ids == ["phone-honor-8", "phone-oneplus-11-5g"]
    assert "2 products" in capsys.readouterr().out


def test_missing_listing_is_named(tmp_path):
    with pytest.raises(BuildError, match=r"smartphones_india\.csv: source listing not found"):
        build_catalog(tmp_path, curated_dir=None)
