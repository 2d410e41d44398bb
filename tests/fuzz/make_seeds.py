#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets that take binary input
(otlp_response, store, trace_render) into tests/fuzz/corpus/<name>/.

The text targets' seeds (config_env, project_json, sqlscan, traceparent) are
plain files, edited by hand. Rerun this after changing a binary format;
inputs the fuzzer found (crash-*, regressions) are kept by hand and never
overwritten. Usage: tests/fuzz/make_seeds.py
"""
import os
import sqlite3
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- protobuf wire format -------------------------------------------------
def varint(v):
    v &= (1 << 64) - 1
    b = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            b.append(c | 0x80)
        else:
            b.append(c)
            return bytes(b)


def fv(field, v):  # varint field
    return varint(field << 3) + varint(v)


def fb(field, data):  # length-delimited field
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


RETRY = "type.googleapis.com/google.rpc.RetryInfo"


def status(code, msg, *details):
    return fv(1, code) + fb(2, msg) + b"".join(fb(3, d) for d in details)


def any_(type_url, value):
    return fb(1, type_url) + fb(2, value)


def retry_info(secs=None, nanos=None):
    dur = b""
    if secs is not None:
        dur += fv(1, secs)
    if nanos is not None:
        dur += fv(2, nanos)
    return fb(1, dur)


def otlp_response():
    t = "otlp_response"
    out(t, "empty", b"")
    out(t, "partial_rejected", fb(1, fv(1, 3) + fb(2, "3 spans too big")))
    out(t, "partial_count_only", fb(1, fv(1, 7)))
    out(t, "partial_message_only", fb(1, fb(2, "warning: slow down")))
    out(t, "partial_negative", fb(1, fv(1, -1) + fb(2, "negative")))
    out(t, "partial_bad_utf8", fb(1, fv(1, 1) + fb(2, b"bad \xff\xc0\xed\xa0\x80 utf8")))
    out(t, "partial_long_message", fb(1, fv(1, 2) + fb(2, "\u00e9" * 300)))
    out(t, "partial_twice", fb(1, fv(1, 1)) + fb(1, fb(2, "merged")))
    out(t, "unknown_fields", fv(9, 1) + fb(10, b"x") + b"\x5d\x01\x02\x03\x04" + fb(1, fv(1, 1)))
    out(t, "truncated", fb(1, fv(1, 3) + fb(2, "cut"))[:-2])
    out(t, "group_wire_type", b"\x0b\x10\x01\x0c")
    out(t, "status_retry_1_5s", status(8, "slow down", any_(RETRY, retry_info(1, 500000000))))
    out(t, "status_retry_secs_only", status(14, "unavailable", any_(RETRY, retry_info(30))))
    out(t, "status_retry_nanos_only", status(8, "", any_(RETRY, retry_info(None, 250000000))))
    out(t, "status_retry_zero", status(8, "", any_(RETRY, retry_info(0, 0))))
    out(t, "status_retry_negative", status(8, "", any_(RETRY, retry_info(-5, 0))))
    out(t, "status_retry_second_detail",
        status(8, "x", any_("type.googleapis.com/google.rpc.DebugInfo", b"\x0a\x01z"),
               any_(RETRY, retry_info(2, 0))))
    out(t, "status_other_type", status(8, "x", any_("type.googleapis.com/google.rpc.Help", retry_info(9))))
    out(t, "status_value_before_type", status(8, "", fb(2, retry_info(4)) + fb(1, RETRY)))
    out(t, "status_no_details", status(3, "invalid argument"))
    out(t, "status_fixed_fields", b"\x09" + b"\x00" * 8 + b"\x15" + b"\x00" * 4 + status(8, "", any_(RETRY, retry_info(1))))


# --- state store --------------------------------------------------------
SCHEMA = [
    """CREATE TABLE runs( run_id TEXT PRIMARY KEY, status INTEGER NOT NULL,
     project TEXT NOT NULL, trigger TEXT NOT NULL, config_hash TEXT,
     hostname TEXT, rocky_version TEXT, started_wall_ns INTEGER NOT NULL,
     finished_wall_ns INTEGER NOT NULL DEFAULT 0,
     models_total INTEGER NOT NULL DEFAULT 0,
     models_succeeded INTEGER NOT NULL DEFAULT 0,
     models_failed INTEGER NOT NULL DEFAULT 0,
     models_skipped INTEGER NOT NULL DEFAULT 0, trace_id TEXT, span_id TEXT,
     parent_span_id TEXT, trace_flags INTEGER NOT NULL DEFAULT 0,
     owner_pid INTEGER NOT NULL DEFAULT 0, owner_host TEXT);
    CREATE TABLE model_execs( run_id TEXT NOT NULL REFERENCES runs(run_id),
     seq INTEGER NOT NULL, model_name TEXT NOT NULL, status INTEGER NOT NULL,
     sql_hash TEXT, error TEXT, started_wall_ns INTEGER NOT NULL DEFAULT 0,
     finished_wall_ns INTEGER NOT NULL DEFAULT 0,
     rows_affected INTEGER NOT NULL DEFAULT -1,
     bytes_written INTEGER NOT NULL DEFAULT -1,
     attempt INTEGER NOT NULL DEFAULT 1,
     dependencies TEXT NOT NULL DEFAULT '', span_id TEXT,
     PRIMARY KEY(run_id, seq));""",
    """ALTER TABLE runs ADD COLUMN delivery_confirmed INTEGER NOT NULL DEFAULT -1;
    ALTER TABLE runs ADD COLUMN trace_state TEXT;
    ALTER TABLE runs ADD COLUMN owner_start_ticks INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX model_execs_by_model ON model_execs(run_id, model_name);""",
    """CREATE TABLE run_plugins( run_id TEXT NOT NULL REFERENCES runs(run_id),
     seq INTEGER NOT NULL, instance TEXT NOT NULL, plugin_path TEXT NOT NULL,
     project_dir TEXT, config TEXT NOT NULL DEFAULT '{}',
     delivery_confirmed INTEGER NOT NULL DEFAULT 0,
     pending INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY(run_id, instance));""",
]

T0 = 1764050400000000000


def store(name, version, fill=None, schema=None, wal=False):
    path = os.path.join(HERE, "corpus", "store", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA page_size=512")
    db.execute("PRAGMA auto_vacuum=NONE")
    for step in (schema if schema is not None else SCHEMA[:version]):
        db.executescript(step)
    db.execute(f"PRAGMA user_version={version}")
    if fill:
        fill(db)
    db.commit()
    db.execute("VACUUM")
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def run_row(db, version, run_id, status=1, **kw):
    cols = dict(run_id=run_id, status=status, project="jaffle", trigger="manual",
                config_hash="ab" * 32, hostname="host", rocky_version="0.1.0",
                started_wall_ns=T0, finished_wall_ns=T0 + 3_000_000_000,
                models_total=2, models_succeeded=2, trace_id="0af7651916cd43dd8448eb211c80319c",
                span_id="b7ad6b7169203331", owner_pid=1, owner_host="host")
    if version >= 2:
        cols.update(delivery_confirmed=0, trace_state="k=v")
    cols.update(kw)
    db.execute(f"INSERT INTO runs({','.join(cols)}) VALUES({','.join('?' * len(cols))})",
               list(cols.values()))


def model_row(db, run_id, seq, name, **kw):
    cols = dict(run_id=run_id, seq=seq, model_name=name, status=2, sql_hash="cd" * 32,
                started_wall_ns=T0 + seq * 1_000_000_000,
                finished_wall_ns=T0 + (seq + 1) * 1_000_000_000,
                rows_affected=10, bytes_written=4096, dependencies="",
                span_id="00f067aa0ba902b7")
    cols.update(kw)
    db.execute(f"INSERT INTO model_execs({','.join(cols)}) VALUES({','.join('?' * len(cols))})",
               list(cols.values()))


def store_seeds():
    def v3(db):
        run_row(db, 3, "20251125T060000.000Z-aaaaaa")
        model_row(db, "20251125T060000.000Z-aaaaaa", 0, "orders")
        model_row(db, "20251125T060000.000Z-aaaaaa", 1, "customers", dependencies="orders\nstg")
        db.execute("INSERT INTO run_plugins VALUES(?,?,?,?,?,?,?,?,?)",
                   ("20251125T060000.000Z-aaaaaa", 0, "otel", "/usr/lib/rocky_otel.so",
                    "/p", '{"endpoint":"http://c:4317","timeout":"5000"}', 0, 3, 1))
    store("v3_one_run", 3, v3)
    store("v3_one_run_wal", 3, v3, wal=True)

    def v3_two(db):
        v3(db)
        run_row(db, 3, "20251125T070000.000Z-bbbbbb", status=0, started_wall_ns=T0 + 3600 * 10**9,
                finished_wall_ns=0, owner_pid=2147483647)
        model_row(db, "20251125T070000.000Z-bbbbbb", 0, "failing", status=3,
                  error="no such table: x\nline 2", finished_wall_ns=0)
        model_row(db, "20251125T070000.000Z-bbbbbb", 1, "skipped", status=4,
                  started_wall_ns=0, finished_wall_ns=0, rows_affected=-1, bytes_written=-1)
    store("v3_running_and_failed", 3, v3_two)

    def v1(db):
        run_row(db, 1, "20251125T060000.000Z-cccccc")
        model_row(db, "20251125T060000.000Z-cccccc", 0, "only")
    store("v1_one_run", 1, v1)

    def v2(db):
        run_row(db, 2, "20251125T060000.000Z-dddddd", delivery_confirmed=1)
        model_row(db, "20251125T060000.000Z-dddddd", 0, "a")
    store("v2_one_run", 2, v2)
    store("v3_empty", 3)
    store("v0_empty", 0, schema=[])
    store("foreign_tables", 0, schema=["CREATE TABLE t(x); INSERT INTO t VALUES(1);"])
    store("newer_version", 99, schema=[])

    def hostile(db):
        # Columns declared NOT NULL elsewhere are NULL here; ids malformed;
        # times extreme; configs not objects; names with terminal controls.
        run_row(db, 3, "20251125T060000.000Z-eeeeee", status=77, project="\x1b]0;title\x07",
                trace_id="zz", span_id=None, started_wall_ns=-(2**63),
                finished_wall_ns=2**63 - 1, models_total=-1)
        model_row(db, "20251125T060000.000Z-eeeeee", 0, "\u202eevil", status=-3,
                  dependencies="\n\n\n", started_wall_ns=2**63 - 1, finished_wall_ns=-(2**63),
                  span_id="xyz")
        db.execute("INSERT INTO run_plugins VALUES(?,?,?,?,?,?,?,?,?)",
                   ("20251125T060000.000Z-eeeeee", 0, "i", "/p", None, "[1,2]", 1, -1, -1))
        db.execute("INSERT INTO run_plugins VALUES(?,?,?,?,?,?,?,?,?)",
                   ("20251125T060000.000Z-eeeeee", 1, "j", "/p", None, '{"k":{"n":1}}', 1, 0, 0))
    store("hostile_values", 3, hostile)

    # The same tables declared without NOT NULL, holding NULLs where the
    # run model promises strings.
    loose = [s.replace(" NOT NULL", "") for s in SCHEMA]

    def nulls(db):
        db.execute("INSERT INTO runs(run_id, status, project, trigger, started_wall_ns)"
                   " VALUES(NULL, 1, NULL, NULL, 5)")
        db.execute("INSERT INTO runs(run_id, status, project, trigger, started_wall_ns)"
                   " VALUES('r2', 1, NULL, NULL, 4)")
        db.execute("INSERT INTO model_execs(run_id, seq, model_name, status)"
                   " VALUES('r2', 0, NULL, 2)")
        db.execute("INSERT INTO run_plugins(run_id, seq, instance, plugin_path, config)"
                   " VALUES('r2', 0, NULL, NULL, NULL)")
    store("null_strings", 3, nulls, schema=loose)

    out("store", "empty", b"")
    out("store", "not_sqlite", b"this is not a database\n")
    out("store", "header_only", b"SQLite format 3\x00" + b"\x02\x00\x01\x01" + b"\x00" * 80)


# --- trace render input (fuzz_trace_render.c's decoder) ------------------
def s(text, null=False):
    if text is None:
        return b"\xff"
    if isinstance(text, str):
        text = text.encode()
    return bytes([len(text)]) + text


def t_at(offset_100ms):  # mode 1: base + byte * 100 ms
    return b"\x01" + bytes([offset_100ms])


def t_raw(v):
    return b"\x03" + struct.pack(">q", v)


def model(name, status=2, start=t_at(1), end=t_at(5), error=None, deps=(), rows=None):
    b = s(name) + s("cd" * 32) + s(error) + bytes([status]) + start + end
    flags = 0 if rows is None else 3
    b += bytes([flags])
    if rows is not None:
        b += struct.pack(">q", rows) + struct.pack(">q", rows * 100)
    b += b"\x01" + bytes([len(deps)]) + b"".join(s(d) for d in deps) + b"\x11" * 8
    return b


def run(models, status=1, start=t_at(0), end=t_at(50), options=0, width=100,
        run_id="20251125T060000.000Z-aaaaaa", trigger="manual", now=t_at(60)):
    b = bytes([options, width]) + now + bytes([status]) + start + end
    b += s(run_id) + s("jaffle") + s(trigger) + s("ab" * 32) + s("host") + s("0.1.0") + s(None)
    b += bytes(range(1, 17)) + bytes([len(models)]) + bytes([len(models)])
    return b + b"".join(models)


def trace_seeds():
    t = "trace_render"
    out(t, "empty", b"")
    out(t, "two_models", run([model("orders", start=t_at(1), end=t_at(10), rows=5),
                              model("customers", start=t_at(10), end=t_at(30), deps=["orders"])]))
    out(t, "failed_and_skipped", run([
        model("stg", start=t_at(1), end=t_at(3)),
        model("bad", status=3, start=t_at(3), end=t_at(4), error="no such table: x\nmore"),
        model("after", status=4, start=b"\x00", end=b"\x00", deps=["bad"])], status=2))
    out(t, "running", run([model("slow", status=1, end=b"\x00")], status=0, end=b"\x00"))
    out(t, "parallel_lanes", run([model(f"m{i}", start=t_at(i), end=t_at(i + 20)) for i in range(8)]))
    out(t, "filtered", run([model("a"), model("b")], options=1))
    out(t, "narrow", run([model("a_very_long_model_name_that_is_truncated_somewhere")], width=0))
    out(t, "hostile_names", run([
        model("\x1b[2J\x1b]0;pwned\x07", error="\x1b[31mred\r\x9b"),
        model("\u202eevil\u2066", error="<script>alert(1)</script>"),
        model("bad\xff\xfe utf8"), model("<b>&amp;\"'</b>", deps=["<x>"]),
        model("\u00e9\u6f22\U0001F600", status=5)], run_id="<id>\x1b", trigger="\r\n"))
    out(t, "extreme_times", run([
        model("neg", start=t_raw(-(2**63)), end=t_raw(2**63 - 1)),
        model("big", start=t_raw(2**63 - 1), end=t_raw(-(2**63)))],
        start=t_raw(-(2**63)), end=t_raw(2**63 - 1), now=t_raw(-1)))
    out(t, "unknown_statuses", run([model("x", status=7), model("y", status=6)], status=7))
    out(t, "ends_before_start", run([model("x", start=t_at(9), end=t_at(2))], start=t_at(20), end=t_at(1)))


otlp_response()
store_seeds()
trace_seeds()
