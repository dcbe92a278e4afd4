"""Campaign lists that honour consent: the customers a marketing campaign may reach on one
channel, and how many were left out and why.

A customer is on the list for a channel when:

- they have an address for it (e-mail: the primary e-mail; SMS, WhatsApp and calls: the primary
  phone);
- their latest marketing consent for that channel is *granted*. With ``include_unrecorded``, a
  customer with no record for the channel is taken too: the company relies on legitimate
  interests for existing customers who never objected, and says so in the list's title;
- they have no objection request in the register (an objection to direct marketing stands
  whatever the consent table says), and were not erased.

A *withdrawn* consent always leaves the customer out. Parish and segment narrow the list; a field
rep's list stays within their parishes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from c360_desktop.core import jamaica
from c360_desktop.core.models import CHANNEL_WORDS, CONSENT_CHANNELS, LATEST_CONSENT, LEGAL_BASES

ADDRESS = {"email": "primary_email", "sms": "primary_phone", "whatsapp": "primary_phone", "phone": "primary_phone"}


@dataclass(frozen=True)
class Audience:
    channel: str
    frame: pd.DataFrame  # customer_id, Customer, Parish, Segment, the address, Consent since, Legal basis
    withdrawn: int  # left out: consent withdrawn
    unrecorded: int  # left out: no consent recorded (0 with include_unrecorded)
    objected: int  # left out: an objection request
    no_address: int  # left out: no e-mail address / phone number

    @property
    def left_out(self) -> int:
        return self.withdrawn + self.unrecorded + self.objected + self.no_address

    def summary(self) -> str:
        word = CHANNEL_WORDS[self.channel]
        parts = [f"{n:,} {why}" for n, why in ((self.withdrawn, "withdrew consent"),
                                               (self.unrecorded, "never gave consent"),
                                               (self.objected, "objected to direct marketing"),
                                               (self.no_address, f"have no {'e-mail address' if self.channel == 'email' else 'phone number'}"))
                 if n]
        return (f"{len(self.frame):,} customers may receive marketing by {word}"
                + (f"; left out: {', '.join(parts)}" if parts else ""))


def audience(conn: sqlite3.Connection, channel: str, parishes: Sequence[str] | None = None,
             segment: str | None = None, include_unrecorded: bool = False) -> Audience:
    """The campaign list for ``channel`` (a key of models.CONSENT_CHANNELS) and what was left out."""
    if channel not in CONSENT_CHANNELS:
        raise ValueError(f"channel {channel!r}: choose one of {', '.join(CONSENT_CHANNELS)}")
    address = ADDRESS[channel]
    where, params = ["c.deleted_at IS NULL"], []
    if parishes:
        where.append(f"c.parish IN ({','.join('?' * len(parishes))})")
        params += list(parishes)
    if segment:
        where.append("s.name = ?")
        params.append(segment)
    sql = f"""
        SELECT c.id, c.display_name, c.parish, s.name, c.{address}, k.status, k.recorded_at,
               coalesce(k.legal_basis, 'consent'),
               EXISTS (SELECT 1 FROM subject_request r WHERE r.customer_id = c.id AND r.kind = 'objection'
                       AND r.deleted_at IS NULL AND r.status != 'refused')
        FROM customer c
        LEFT JOIN segment s ON s.id = c.segment_id
        LEFT JOIN consent k ON k.customer_id = c.id AND k.purpose = 'marketing' AND k.channel = ?
             AND k.deleted_at IS NULL AND {LATEST_CONSENT}
        WHERE {' AND '.join(where)}
        ORDER BY c.display_name, c.id"""
    rows = conn.execute(sql, [channel, *params]).fetchall()
    kept, withdrawn, unrecorded, objected, no_address = [], 0, 0, 0, 0
    by_code = jamaica.parish_by_code()
    for cid, name, parish, seg, value, status, since, basis, objection in rows:
        if status == "withdrawn":
            withdrawn += 1
        elif objection:
            objected += 1
        elif status is None and not include_unrecorded:
            unrecorded += 1
        elif not value:
            no_address += 1
        else:
            p = by_code.get(parish or "")
            kept.append((cid, name, p.address_name if p else parish, seg, value,
                         str(since)[:10] if since else "", LEGAL_BASES.get(basis, basis) if status else
                         "Legitimate interests (no record)"))
    label = "E-mail" if channel == "email" else "Phone"
    frame = pd.DataFrame(kept, columns=["customer_id", "Customer", "Parish", "Segment", label, "Consent since",
                                        "Legal basis"])
    return Audience(channel, frame, withdrawn, unrecorded, objected, no_address)
