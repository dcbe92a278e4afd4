"""Imports never mix people and never leave records unlinked (issue 19, items 3, 4 and 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

C360 = str(Path(sys.executable).with_name("c360"))


def c360(*args, timeout=180):
    return subprocess.run([C360, *args], capture_output=True, text=True, timeout=timeout)


def rows(cache: Path, sql: str, params=()):
    import sqlite3

    conn = sqlite3.connect(cache)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


LEADS = ("Ref,Full name,Mobile,E-mail\n"
         "L-1,Quenton Abernathy-Zulu,876-555-0142,quenton@example.com\n"
         "L-2,Shanice Oyelaran-Brooks,(876) 555-0177,shanice.ob@example.com\n")


def test_the_user_guide_import_example_imports_names_phones_and_emails(demo_cache, tmp_path):
    guide = (Path(__file__).parents[2] / "docs" / "user-guide.md").read_text()
    line = next(ln for ln in guide.splitlines() if ln.startswith("c360 import leads.csv"))
    example = line.split("#")[0].split()[2:]  # the arguments after "c360 import"
    (tmp_path / "leads.csv").write_text(LEADS)
    r = subprocess.run([C360, "import", *[a.strip('"') for a in _shell_words(" ".join(example))],
                        "--cache", str(demo_cache)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = rows(demo_cache, "SELECT display_name, primary_phone, primary_email FROM customer "
                           "WHERE display_name LIKE '%Abernathy%' OR display_name LIKE '%Oyelaran%' ORDER BY 1")
    assert got == [("Quenton Abernathy-Zulu", "+18765550142", "quenton@example.com"),
                   ("Shanice Oyelaran-Brooks", "+18765550177", "shanice.ob@example.com")]


def _shell_words(text: str) -> list[str]:
    import shlex

    return shlex.split(text)


def test_two_files_that_reuse_ids_do_not_overwrite_each_other(demo_cache, tmp_path):
    (tmp_path / "fair.csv").write_text("Ref,Name,Phone\n1,Zebediah Quarrie,876-555-0101\n2,Ottoline Fairweather,876-555-0102\n")
    (tmp_path / "webshop.csv").write_text("Ref,Name,Phone\n1,Marguerite Tsang,876-555-0201\n2,Barnaby Okonkwo,876-555-0202\n")
    for name in ("fair.csv", "webshop.csv"):
        r = c360("import", str(tmp_path / name), "--id-column", "Ref", "--map", "Name=Name", "--map", "Phone=Phone",
                 "--cache", str(demo_cache))
        assert r.returncode == 0, r.stderr
        assert f"source system spreadsheet:{name[:-4]}" in r.stderr and "2 new" in r.stderr
    kept = rows(demo_cache, "SELECT system, external_id, json_extract(fields, '$.Name') FROM source_record "
                            "WHERE system LIKE 'spreadsheet:%' ORDER BY 1, 2")
    assert kept == [("spreadsheet:fair", "1", "Zebediah Quarrie"), ("spreadsheet:fair", "2", "Ottoline Fairweather"),
                    ("spreadsheet:webshop", "1", "Marguerite Tsang"), ("spreadsheet:webshop", "2", "Barnaby Okonkwo")]
    # Named as one source system, the second export of it updates the first.
    (tmp_path / "fair-v2.csv").write_text("Ref,Name,Phone\n1,Zebediah Quarrie,876-555-0999\n")
    r = c360("import", str(tmp_path / "fair-v2.csv"), "--id-column", "Ref", "--map", "Name=Name", "--map",
             "Phone=Phone", "--system", "spreadsheet:fair", "--cache", str(demo_cache))
    assert r.returncode == 0 and "0 new, 1 updated" in r.stderr, r.stderr
    r = c360("import", str(tmp_path / "fair-v2.csv"), "--id-column", "Ref", "--map", "Name=Name",
             "--system", "fair 2026!", "--cache", str(demo_cache))
    assert r.returncode == 2 and "use letters, digits" in r.stderr and "Traceback" not in r.stderr


def test_an_update_that_replaces_the_whole_identity_goes_to_review(demo_cache, tmp_path):
    from c360_desktop.core.identity.importing import TableConnector, import_file, plan
    from c360_desktop.core.identity.review import pending
    from c360_desktop.core.storage.cache import open_cache

    connector = TableConnector("Ref", {"Name": "Name", "Phone": "Phone", "Email": "Email"}, "crm")
    path = tmp_path / "crm.csv"
    path.write_text("Ref,Name,Phone,Email\n7,Desmond Achterberg,876-555-0301,des@example.com\n")
    cache = open_cache(demo_cache)
    try:
        first = import_file(cache, plan(path, connector), "analyst")
        assert first.inserted == 1 and len(first.links.created) == 1
        before = len(pending(cache.reader(), 100_000))
        # Same id, another person: name, phone and e-mail all different.
        path.write_text("Ref,Name,Phone,Email\n7,Philippa Nakashima,876-555-0399,pn@example.org\n")
        second = import_file(cache, plan(path, connector), "analyst")
        assert second.updated == 0 and len(second.suspects) == 1 and second.reviews == 1
        kept = rows(demo_cache, "SELECT external_id, json_extract(fields, '$.Name') FROM source_record "
                                "WHERE system = 'crm' ORDER BY 1")
        assert kept == [("7", "Desmond Achterberg"), ("7~2", "Philippa Nakashima")]
        names = rows(demo_cache, "SELECT display_name FROM customer WHERE display_name IN "
                                 "('Desmond Achterberg', 'Philippa Nakashima') ORDER BY 1")
        assert names == [("Desmond Achterberg",), ("Philippa Nakashima",)]
        queue = pending(cache.reader(), 100_000)
        assert len(queue) == before + 1
        pair = next(p for p in queue if any(c["field"] == "same source id" for c in p.contributions))
        linked = {r[0] for r in rows(demo_cache, "SELECT l.customer_id FROM identity_link l JOIN source_record s "
                                                 "ON s.id = l.source_record_id WHERE s.system = 'crm'")}
        assert {pair.customer_a, pair.customer_b} == linked
        # The same file again changes nothing; a real update (a new phone only) is an update.
        assert import_file(cache, plan(path, connector), "analyst").suspects == []
        path.write_text("Ref,Name,Phone,Email\n7,Desmond Achterberg,876-555-0388,des@example.com\n")
        third = import_file(cache, plan(path, connector), "analyst")
        assert third.updated == 1 and third.suspects == []
    finally:
        cache.close()


def test_no_link_then_link_and_the_next_import_links_what_was_left(demo_cache, tmp_path):
    (tmp_path / "leads.csv").write_text(LEADS)
    args = ["--id-column", "Ref", "--map", "Full name=Name", "--map", "Mobile=Phone", "--cache", str(demo_cache)]
    r = c360("import", str(tmp_path / "leads.csv"), *args, "--no-link")
    assert r.returncode == 0 and "not linked yet" in r.stderr, r.stderr
    unlinked = ("SELECT count(*) FROM source_record s WHERE s.system = 'spreadsheet:leads' AND NOT EXISTS "
                "(SELECT 1 FROM identity_link l WHERE l.source_record_id = s.id)")
    assert rows(demo_cache, unlinked) == [(2,)]
    r = c360("link", "--cache", str(demo_cache))
    assert r.returncode == 0 and "2 new customers" in r.stderr, r.stderr
    assert rows(demo_cache, unlinked) == [(0,)]
    assert c360("link", "--cache", str(demo_cache)).stderr.startswith("linked 0 to existing customers, 0 new")


def test_an_import_killed_before_linking_is_finished_by_running_it_again(demo_cache, tmp_path):
    """The process is killed (SIGKILL) the moment the records are stored, before any is linked."""
    (tmp_path / "leads.csv").write_text(LEADS)
    args = ["import", str(tmp_path / "leads.csv"), "--id-column", "Ref", "--map", "Full name=Name",
            "--map", "Mobile=Phone", "--cache", str(demo_cache)]
    code = ("import os, signal, sys\n"
            "import c360_desktop.core.identity.linking as linking\n"
            "linking.link_sources = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
            "from c360_desktop.cli import main\n"
            f"sys.exit(main({json.dumps(args)}))\n")
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert killed.returncode == -9
    assert rows(demo_cache, "SELECT count(*) FROM source_record WHERE system = 'spreadsheet:leads'") == [(2,)]
    again = c360(*args)
    assert again.returncode == 0 and "0 new, 0 updated, 2 unchanged" in again.stderr
    assert "2 new customers" in again.stderr
    assert rows(demo_cache, "SELECT count(*) FROM customer WHERE display_name IN "
                            "('Quenton Abernathy-Zulu', 'Shanice Oyelaran-Brooks')") == [(2,)]


def test_a_suspect_stored_by_a_killed_import_still_goes_to_review(demo_cache, tmp_path):
    """Killed (SIGKILL) after the suspect record is stored, before linking: the next run of the
    import links it and queues the pair, once."""
    path = tmp_path / "crm.csv"
    args = ["import", str(path), "--id-column", "Ref", "--map", "Name=Name", "--map", "Phone=Phone",
            "--map", "Email=Email", "--system", "crm", "--cache", str(demo_cache)]
    path.write_text("Ref,Name,Phone,Email\n7,Desmond Achterberg,876-555-0301,des@example.com\n")
    assert c360(*args).returncode == 0
    path.write_text("Ref,Name,Phone,Email\n7,Philippa Nakashima,876-555-0399,pn@example.org\n")
    code = ("import os, signal, sys\n"
            "import c360_desktop.core.identity.linking as linking\n"
            "linking.link_sources = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
            "from c360_desktop.cli import main\n"
            f"sys.exit(main({json.dumps(args)}))\n")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=180).returncode == -9
    assert rows(demo_cache, "SELECT external_id FROM source_record WHERE system = 'crm' ORDER BY 1") == [("7",), ("7~2",)]
    queued = ("SELECT count(*) FROM review_pair WHERE status = 'pending' AND contributions LIKE '%same source id%'")
    assert rows(demo_cache, queued) == [(0,)]
    again = c360(*args)
    assert again.returncode == 0, again.stderr
    assert rows(demo_cache, queued) == [(1,)]
    assert c360(*args).returncode == 0 and rows(demo_cache, queued) == [(1,)]  # not queued twice
