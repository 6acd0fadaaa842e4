"""docs/data-model.md is generated from the code and must stay in step with it."""

from __future__ import annotations

import subprocess
import sys

from assets import docs
from assets.lake import MANIFEST_SCHEMA
from assets.model import TABLES
from assets.sources import SOURCES


def test_data_model_doc_is_up_to_date():
    assert docs.DOC_PATH.exists(), "docs/data-model.md is missing: run `make docs`"
    assert docs.DOC_PATH.read_text(encoding="utf-8") == docs.render(), (
        "docs/data-model.md is out of date with the schemas: run `make docs`"
    )


def test_render_is_deterministic():
    assert docs.render() == docs.render()


def test_every_curated_column_is_documented():
    text = docs.DOC_PATH.read_text(encoding="utf-8")
    for table in TABLES.values():
        assert f"### {table.name}" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text, f"{table.name}.{col.name} is not in docs/data-model.md"
            assert docs._cell(col.doc) in text, f"the doc of {table.name}.{col.name} is not in docs/data-model.md"


def test_manifest_sources_and_views_are_documented():
    text = docs.render()
    missing = [f.name for f in MANIFEST_SCHEMA if f.name not in docs.MANIFEST_DOCS]
    assert not missing, f"manifest columns without a doc in assets/docs.py MANIFEST_DOCS: {missing}"
    assert docs.UNDOCUMENTED not in text
    for name, src in SOURCES.items():
        for ds in src.datasets:
            assert f"#### {name}/{ds.name}" in text
    for path in docs.SQL_DIR.glob("*.sql"):
        assert f"Defined in `sql/{path.name}`." in text
    for view in ("dim_artist", "dim_artist_alias", "dim_track", "dim_track_title", "dim_store", "v_streams_daily",
                 "v_streams_account_daily", "lake_files"):
        assert f"`{view}` columns:" in text or f"### {view}\n" in text, view
    for table in ("dim_territory", "ref_store_platform"):
        assert f"### {table}\n" in text


def test_check_flag_passes_on_the_repository():
    proc = subprocess.run([sys.executable, "-m", "assets.docs", "--check"], check=False, cwd=docs.ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_check_flag_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "data-model.md"
    monkeypatch.setattr(docs, "DOC_PATH", stale)
    assert docs.main(["--check"]) == 1
    assert "missing" in capsys.readouterr().err
    stale.write_text(docs.render().replace("fct_royalties", "fct_something_else"), encoding="utf-8")
    assert docs.main(["--check"]) == 1
    assert "make docs" in capsys.readouterr().err
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
