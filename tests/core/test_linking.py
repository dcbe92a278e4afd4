"""Imported source records become part of golden records: linked to the customer they are when
the model is sure, new customers otherwise, doubtful ones queued for review."""

from __future__ import annotations

import json

from c360_desktop.core.identity.importing import apply, plan
from c360_desktop.core.identity.linking import link_sources
from c360_desktop.core.search.service import CustomerSearch
from c360_desktop.core.storage.cache import open_cache
from plugins.quickbooks import QuickBooksIIF


def iif_line(name, street, town, parish, phone, email):
    return f"CUST\t{name}\t{street}\t{town}\t{parish}\t{phone}\t{email}\t\t\n"


def test_imported_records_join_their_customers_or_become_new_ones(demo_cache, tmp_path):
    cache = open_cache(demo_cache)
    conn = cache.reader()
    known = conn.execute(
        "SELECT id, given_name, family_name, street, town, parish, primary_phone, primary_email FROM customer "
        "WHERE kind = 'individual' AND primary_phone IS NOT NULL AND primary_email IS NOT NULL AND street IS NOT NULL "
        "AND deleted_at IS NULL ORDER BY id LIMIT 3").fetchall()
    lines = "!CUST\tNAME\tBADDR1\tBADDR2\tBADDR3\tPHONE1\tEMAIL\tTAXID\tCOMPANYNAME\n"
    for _cid, given, family, street, town, parish, phone, email in known:
        # as QuickBooks holds them: "Family, Given", the phone written locally, the e-mail in capitals
        local = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
        lines += iif_line(f"{family}, {given}", street, town, parish, local, email.upper())
    lines += iif_line("Zzyzx, Quentavious", "1 Nowhere Lane", "Lucea", "Hanover", "876-555-0199", "qz@example.com")
    path = tmp_path / "quickbooks.iif"
    path.write_text(lines, encoding="utf-8")
    imported = apply(cache, plan(path, QuickBooksIIF()), "analyst")
    assert imported.inserted == 4

    result = link_sources(cache, "analyst", imported.record_ids)
    conn = cache.reader()
    linked_to = {cid for _rid, cid, _p in result.linked}
    assert linked_to == {k[0] for k in known} and all(p >= 0.9 for *_x, p in result.linked)
    assert len(result.created) == 1
    new = conn.execute("SELECT display_name, primary_phone, kind, search_key FROM customer WHERE id = ?",
                       (result.created[0],)).fetchone()
    assert new[0] == "Quentavious Zzyzx" and new[1] == "+18765550199" and new[2] == "individual" and new[3]
    assert [h.customer_id for h in CustomerSearch(cache).search("Zzyzx")] == [result.created[0]]
    # every imported record now belongs to a customer, with provenance for the golden values
    for rid in imported.record_ids:
        assert conn.execute("SELECT count(*) FROM identity_link WHERE source_record_id = ?", (rid,)).fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM golden_value WHERE customer_id = ? AND system LIKE 'quickbooks:%'",
                        (result.created[0],)).fetchone()[0] >= 2
    queued = [(e, json.loads(p).get("customer_id")) for e, p in conn.execute(
        "SELECT entity, payload FROM outbox WHERE entity IN ('customer', 'identity_link') AND operation = 'insert'")]
    assert sum(e == "identity_link" for e, _c in queued) == 4 and sum(e == "customer" for e, _c in queued) == 1
    # linking again changes nothing
    again = link_sources(cache, "analyst", imported.record_ids)
    assert again.linked == [] and again.created == []
    cache.close()
