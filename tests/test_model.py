"""The conformed model's dimensions: artists and aliases, tracks by ISRC and normalised title,
stores → platforms (unknown stores reported, never guessed), territories."""

import csv
import json

import duckdb
import pytest

from assets.lakehouse import SQL_DIR
from assets.model import STORE_PLATFORMS, store_platform
from tests.cli_helpers import query, run
from tests.sources.test_distrokid import OLD_HEADER, tsv
from tests.warehouse_helpers import model


@pytest.fixture(scope="module")
def macros():
    con = duckdb.connect()
    con.execute((SQL_DIR / "_macros.sql").read_text())
    yield con
    con.close()


@pytest.mark.parametrize("title, key", [
    ("Static Bloom (feat. Ivy Vale)", "static bloom"),
    ("STATIC BLOOM", "static bloom"),
    ("Static Bloom [ft. Ivy Vale]", "static bloom"),
    ("Static Bloom feat. Ivy Vale", "static bloom"),
    ("Static Bloom - Remastered 2011", "static bloom"),
    ("Static Bloom (2019 Remaster)", "static bloom"),
    ("Café del Mar!", "cafe del mar"),
    ("Static Bloom (Live)", "static bloom live"),  # another recording keeps its words
    ("Static Bloom - Radio Edit", "static bloom radio edit"),
    ("Left Foot", "left foot"),  # 'ft' inside a word is not a featuring note
    ("   ", None),
])
def test_title_key(macros, title, key):
    assert macros.execute("SELECT title_key(?)", [title]).fetchone()[0] == key


@pytest.mark.parametrize("name", ["ZONE A0", "zone.a0", "Zone A0", " zone_a0 "])
def test_artist_key_joins_spellings(macros, name):
    assert macros.execute("SELECT artist_key(?)", [name]).fetchone()[0] == "zonea0"


def test_every_fixture_store_is_mapped(local_env, bedrot):
    path = bedrot / "distrokid" / "dk_bank_details_20250527_102936.tsv"
    rows = list(csv.DictReader(path.read_bytes().decode("utf-8").replace("\r", "\n").splitlines(), delimiter="\t"))
    stores = {r["Store"] for r in rows}
    assert len(stores) == 16
    assert {s for s in stores if store_platform(s) == "unknown"} == set()
    assert run("ingest", path).exit_code == 0
    dim = {r["store"]: r for r in query("SELECT store, platform, mapped, lines FROM dim_store")}
    assert set(dim) == stores and all(r["mapped"] for r in dim.values())
    assert dim["YouTube (Ads)"]["platform"] == dim["YouTube (Red)"]["platform"] == "youtube"
    assert dim["Amazon Unlimited (Streaming)"]["platform"] == "amazon_music"
    assert sum(r["lines"] for r in dim.values()) == 8635
    # tracks: one row per ISRC, the distributor's title, the release's UPC
    tracks = query("SELECT count(*) AS n, count(DISTINCT isrc) AS isrcs, count(upc) AS upcs FROM dim_track")
    assert tracks[0]["n"] == tracks[0]["isrcs"] == tracks[0]["upcs"] > 0
    artists = query("SELECT artist, aliases FROM dim_artist ORDER BY artist")
    assert artists == [{"artist": "PIG1987", "aliases": ["PIG1987"]}, {"artist": "ZONE A0", "aliases": ["ZONE A0"]}]


def test_unknown_store_is_reported_not_guessed(local_env, tmp_path):
    row = ["2024-10-05", "2024-08", "Spotify", "Zone A0", "Song A (feat. Ivy)", "QZ1", "1", "10", "100", "Song", "US", "0", "0.04"]
    odd = ["2024-10-05", "2024-08", "Moonbeam Radio", "zone.a0", "SONG A", "QZ1", "1", "3", "100", "Song", "OU", "0", "0.5"]
    (tmp_path / "dk_bank_details_x.tsv").write_bytes(tsv(OLD_HEADER, [row, odd]))
    assert "moonbeam radio" not in STORE_PLATFORMS
    assert run("ingest", tmp_path / "dk_bank_details_x.tsv").exit_code == 0
    assert query("SELECT store, platform, mapped FROM dim_store ORDER BY store") == [
        {"store": "Moonbeam Radio", "platform": "unknown", "mapped": False},
        {"store": "Spotify", "platform": "spotify", "mapped": True},
    ]
    status = json.loads(run("status", "--json").stdout)
    dk = next(r for r in status if r["source"] == "distrokid")
    assert dk["unmapped_stores"] == [{"store": "Moonbeam Radio", "lines": 1, "earnings_usd": 0.5}]
    assert "unmapped store (distrokid): 'Moonbeam Radio'" in run("status").stdout
    # both spellings of the artist are one artist; the most used distributor spelling is canonical
    assert query("SELECT artist, aliases FROM dim_artist") == [{"artist": "Zone A0", "aliases": ["Zone A0", "zone.a0"]}]
    assert query("SELECT isrc, title, title_key, titles FROM dim_track") == [
        {"isrc": "QZ1", "title": "SONG A", "title_key": "song a", "titles": ["SONG A", "Song A (feat. Ivy)"]}]
    # DistroKid's OU is a territory like the ISO countries
    assert query("SELECT r.country, t.name FROM fct_royalties r JOIN dim_territory t ON t.code = r.country "
                 "ORDER BY 1") == [{"country": "OU", "name": "Outside the US"}, {"country": "US", "name": "United States"}]


def test_territories_cover_iso_3166():
    con = model()
    n, codes = con.execute("SELECT count(*), count(DISTINCT code) FROM dim_territory").fetchone()
    assert n == codes >= 249 + 1
    assert con.execute("SELECT name FROM dim_territory WHERE code IN ('JP', 'OU') ORDER BY code").fetchall() == [
        ("Japan",), ("Outside the US",)]


def test_account_streams_never_add_account_rows_to_artist_rows(local_env, tmp_path):
    """A distributor's account-wide Spotify days and two artists' dashboard days overlap: per day,
    the account number is the distributor's row where it has one, else the artists' sum."""
    days = [f"2025-03-0{d}" for d in range(1, 6)]
    (tmp_path / "toolost_spotify_20250306_120000.json").write_text(json.dumps(
        {"streams": [{"date": d, "streams": "100"} for d in days[:3]], "discovery": []}))
    for artist, n in (("Nova Lights", 30), ("Ivy Vale", 20)):
        lines = ["date,listeners,streams,followers"] + [f"{d},5,{n},7" for d in days]
        (tmp_path / f"{artist}-audience-timeline.csv").write_text("\n".join(lines) + "\n")
    result = run("ingest", tmp_path)
    assert result.exit_code == 0, result.output
    assert query("SELECT date, source, streams, artists FROM v_streams_account_daily WHERE platform = 'spotify' "
                 "ORDER BY date") == [
        {"date": "2025-03-01", "source": "toolost", "streams": 100, "artists": None},
        {"date": "2025-03-02", "source": "toolost", "streams": 100, "artists": None},
        {"date": "2025-03-03", "source": "toolost", "streams": 100, "artists": None},
        {"date": "2025-03-04", "source": "spotify_for_artists", "streams": 50, "artists": 2},
        {"date": "2025-03-05", "source": "spotify_for_artists", "streams": 50, "artists": 2},
    ]
    # per artist, the dashboards' rows stay in v_streams_daily
    assert query("SELECT artist, sum(streams) AS s FROM v_streams_daily WHERE artist IS NOT NULL GROUP BY 1 "
                 "ORDER BY 1") == [{"artist": "Ivy Vale", "s": 100}, {"artist": "Nova Lights", "s": 150}]
