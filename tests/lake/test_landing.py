"""Landing: the one landing function and its collision rule, claims, and adopting objects dropped
by other means (sorted where they belong, options of an earlier claim kept)."""

import io
import json
import zipfile

import pytest

from assets.lake import UNIDENTIFIED, Lake
from assets.lake.landing import free_key
from resources.settings import Settings
from resources.storage import open_storage

TSV = ("Reporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity\tTeam Percentage\tSong/Album\t"
       "Country of Sale\tSongwriter Royalties Withheld\tEarnings (USD)\r"
       "2024-10-05\t2024-08\tSpotify\tNova\t{title}\tQZ1\t1\t10\t100\tSong\tUS\t0\t0.04")


def statement(title: str = "Song A") -> bytes:
    return TSV.format(title=title).encode()


@pytest.fixture
def lake(local_env) -> Lake:
    return Lake(open_storage(Settings.from_env()))


def test_free_key_numbers_copies():
    assert free_key("d/b", "x.tsv", set()) == "d/b/x.tsv"
    assert free_key("d/b", "x.tsv", {"d/b/x.tsv"}) == "d/b/x (2).tsv"
    assert free_key("d/b", "x.tsv", {"d/b/x.tsv", "d/b/x (2).tsv"}) == "d/b/x (3).tsv"
    assert free_key("d/b", "README", {"d/b/README"}) == "d/b/README (2)"


def test_cli_landing_records_options_with_the_file(lake, tmp_path):
    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    landed, refused = lake.land_paths([f], as_of=None, options={"artist": "Nova"}, batch="run-1")
    assert not refused and [i.key for i in landed] == ["distrokid/bank_details/dk_bank_details_x.tsv"]
    [row] = lake.manifest().to_dict("records")
    assert row["status"] == "landed" and row["batch"] == "run-1" and row["landing_key"] == landed[0].key
    assert json.loads(row["options"]) == {"artist": "Nova"} and row["sha256"] == landed[0].sha256
    [claimed] = lake.claimed("run-1")
    assert claimed.landing_id == landed[0].landing_id and claimed.options == {"artist": "Nova"}
    assert lake.claimed("another-run") == []


def test_a_name_taken_in_landing_gets_a_number(lake, tmp_path):
    lake.storage.put("landing", "distrokid/bank_details/dk_bank_details.tsv", statement("waiting"))
    f = tmp_path / "dk_bank_details.tsv"
    f.write_bytes(statement("new"))
    landed, _ = lake.land_paths([f], batch="b")
    assert landed[0].key == "distrokid/bank_details/dk_bank_details (2).tsv"
    assert lake.storage.get("landing", "distrokid/bank_details/dk_bank_details.tsv") == statement("waiting")


def test_adopt_sorts_drops_from_any_folder_and_keeps_both_of_one_name(lake):
    lake.storage.put("landing", "laptop/dk_bank_details.tsv", statement("A"))
    lake.storage.put("landing", "phone/dk_bank_details.tsv", statement("B"))
    lake.storage.put("landing", "holiday.txt", b"not an export")
    landed, refused = lake.adopt("run-2")
    assert not refused
    keys = sorted(i.key for i in landed)
    assert keys == ["_unidentified/_unidentified/holiday.txt", "distrokid/bank_details/dk_bank_details (2).tsv",
                    "distrokid/bank_details/dk_bank_details.tsv"]
    assert sorted(o.key for o in lake.storage.list("landing")) == keys
    assert {lake.storage.get("landing", k) for k in keys[1:]} == {statement("A"), statement("B")}
    assert sorted(i.key for i in lake.claimed("run-2")) == keys
    # adopting again takes nothing: the objects are this batch's already
    assert lake.adopt("run-2") == ([], [])


def test_adopt_opens_a_dropped_zip_and_refuses_a_member_that_escapes(lake):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("exports/dk_bank_details_2.tsv", statement())
        zf.writestr("../evil.tsv", statement())
    lake.storage.put("landing", "sync/exports.zip", buf.getvalue())
    landed, refused = lake.adopt("run-3")
    assert [i.key for i in landed] == ["distrokid/bank_details/dk_bank_details_2.tsv"]
    assert len(refused) == 1 and "would leave its folder" in refused[0].reason
    assert not any(o.key.endswith(".zip") for o in lake.storage.list("landing"))


def test_claims_of_an_active_run_are_left_alone_and_a_dead_claim_is_taken_over(lake, tmp_path):
    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    [item], _ = lake.land_paths([f], options={"artist": "Nova"}, batch="cli-run")
    busy = lambda claim: claim["batch"] == "cli-run"  # noqa: E731
    assert lake.landing.waiting(busy) == []
    assert lake.adopt("sensor-run", busy) == ([], [])
    # the CLI's run died before it took the file: the next run takes it, with its options
    assert [o.key for o in lake.landing.waiting(lambda claim: False)] == [item.key]
    [taken], _ = lake.adopt("sensor-run", lambda claim: False)
    assert (taken.landing_id, taken.options, taken.batch) == (item.landing_id, {"artist": "Nova"}, "sensor-run")
    assert [i.landing_id for i in lake.claimed("sensor-run")] == [item.landing_id]


def test_adopt_only_what_the_run_selected(lake):
    lake.storage.put("landing", "drop/dk_bank_details.tsv", statement())
    lake.storage.put("landing", "drop/notes.txt", b"hello")
    landed, _ = lake.adopt("run-4", allowed={UNIDENTIFIED})
    assert [i.key for i in landed] == [f"{UNIDENTIFIED}/{UNIDENTIFIED}/notes.txt"]
    assert lake.storage.stat("landing", "drop/dk_bank_details.tsv") is not None  # left for a distrokid run


def test_changes_leave_out_duplicates(lake, tmp_path):
    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    landed, _ = lake.land_paths([f], batch="b1")
    assert lake.changes(landed) == {("distrokid", "bank_details")}
    lake.to_raw(lake.claimed("b1"))
    lake.stage()
    g = tmp_path / "again" / "dk_bank_details_x.tsv"
    g.parent.mkdir()
    g.write_bytes(statement())
    again, _ = lake.land_paths([g], batch="b2")
    assert lake.changes(again) == set(), "the same bytes change nothing past raw"
    [result] = lake.to_raw(lake.claimed("b2"))
    assert result.status == "duplicate"
