#!/usr/bin/env python3
"""Recomputes a kiosk journal's hash chain with nothing but Python's sqlite3
and hashlib, independently of the kiosk's Rust code (see chain.rs for the
definition). Prints the chain head as "rows hash-hex" and exits 0, or names
the first row whose stored hash does not hold and exits 1.

A row stores its whole 32-byte chain hash or (format 4, most rows) its
first 4 bytes: either holds when it is that prefix of the recomputed hash.
The head printed is the whole hash, recomputed.

Encoding 2 (format 5): a clearing row whose clearing has per-denomination
figures (table clearing_counts) hashes one more field after the 29, the text
of those rows by ascending value_minor, each "value_minor:expected:counted"
("-" for no count), joined by ",". Every other row hashes as in encoding 1.

Usage: python3 chain_check.py journal.sqlite
"""
import hashlib
import sqlite3
import struct
import sys

# The joins and columns of chain.rs (rows_sql): the row, then the money
# facts of the session, note, payment or clearing it names.
ROWS_SQL = """
SELECT e.hash, e.id, e.at, e.kind, e.session, e.note, e.payment, e.amount, e.detail,
       s.id, s.kiosk, s.account,
       CASE s.method WHEN 0 THEN 'cash' WHEN 1 THEN 'code' ELSE s.method END, s.started_at,
       n.session, n.value_currency,
       p.key, p.session, p.amount_minor, p.amount_currency,
       CASE p.method WHEN 0 THEN 'cash' WHEN 1 THEN 'code' ELSE p.method END,
       c.at, c.operator_a, c.operator_b, c.currency, c.expected_minor, c.counted_minor,
       c.counterfeit_found, c.pending_minor, c.in_doubt_notes,
       c.id
FROM events e
LEFT JOIN sessions s ON s.n = e.session
LEFT JOIN notes n ON n.id = e.note
LEFT JOIN payments p ON p.id = e.payment
LEFT JOIN clearings c ON c.id = iif(e.kind = 18 AND json_valid(e.detail),
                                    json_extract(e.detail, '$.clearing'), NULL)
ORDER BY e.id
"""


def field(v):
    """One field of the canonical bytes (encoding 1)."""
    if v is None:
        return b"\x00"
    if isinstance(v, int):
        return b"\x01" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return b"\x02" + struct.pack(">I", len(b)) + b
    if isinstance(v, bytes):
        return b"\x03" + struct.pack(">I", len(v)) + v
    if isinstance(v, float):
        return b"\x04" + struct.pack(">d", v)
    raise TypeError(type(v))


def clearing_counts(db, clearing):
    """The v30 text of a clearing's per-denomination figures, or None."""
    if clearing is None:
        return None
    has = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                     "AND name = 'clearing_counts'").fetchone()[0]
    if not has:
        return None
    rows = db.execute(
        "SELECT value_minor, expected, counted FROM clearing_counts "
        "WHERE clearing = ? ORDER BY value_minor", (clearing,)).fetchall()
    if not rows:
        return None
    return ",".join("%d:%d:%s" % (v, e, "-" if c is None else "%d" % c)
                    for v, e, c in rows)


def holds(stored, h):
    """Whether a row's stored hash is its chain hash h, whole or its tag."""
    return isinstance(stored, bytes) and len(stored) in (4, 32) and h[:len(stored)] == stored


def main(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    anchor_event, anchor_hash = db.execute(
        "SELECT anchor_event, anchor_hash FROM chain WHERE id = 1").fetchone()
    prev = bytes(32)
    rows = 0
    for row in db.execute(ROWS_SQL):
        stored, rid = row[0], row[1]
        canonical = b"".join(field(v) for v in row[1:30])
        counts = clearing_counts(db, row[30])
        if counts is not None:
            canonical += field(counts)
        h = hashlib.sha256(prev + canonical).digest()
        if rid <= anchor_event:
            prev, rows = h, rid
            if rid == anchor_event and h != anchor_hash:
                print("rows before the chain do not hash to its anchor (row %d)" % rid)
                return 1
            continue
        if rows == anchor_event and prev != anchor_hash:
            print("rows before the chain do not hash to its anchor")
            return 1
        if rid != rows + 1 or not holds(stored, h):
            print("chain breaks at row %d" % rid)
            return 1
        prev, rows = h, rid
    if rows == anchor_event:
        prev = anchor_hash
    print(rows, prev.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
