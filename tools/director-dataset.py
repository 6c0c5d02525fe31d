#!/usr/bin/python3
"""director-dataset.py: the qserv-ingest dataset (metadata.json version 12)
of one director table whose chunk files qserv-partition wrote into
OUT/chunks/TABLE, for benches that generate their own rows.

  director-dataset.py OUT DB TABLE STRIPES SUB_STRIPES SCHEMA_JSON

SCHEMA_JSON: the table's columns as [{"name":..,"type":..}], the first
the director key, with columns ra and decl; chunkId and subChunkId are
appended as qserv-partition writes them."""
import json, os, re, sys

out, db, table = sys.argv[1], sys.argv[2], sys.argv[3]
stripes, sub_stripes, schema = int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
schema += [{"name": "chunkId", "type": "INT NOT NULL"}, {"name": "subChunkId", "type": "INT NOT NULL"}]
json.dump({"database": db, "num_stripes": stripes, "num_sub_stripes": sub_stripes, "overlap": 0.01667,
           "auto_build_secondary_index": 1}, open(os.path.join(out, "db.json"), "w"))
json.dump({"database": db, "table": table, "is_partitioned": 1, "director_table": "",
           "director_key": schema[0]["name"], "latitude_key": "decl", "longitude_key": "ra", "schema": schema},
          open(os.path.join(out, table + ".json"), "w"))
chunks, overlaps = [], []
for f in sorted(os.listdir(os.path.join(out, "chunks", table))):
    m = re.fullmatch(r"chunk_(\d+)(_overlap)?\.txt", f)
    if m:
        (overlaps if m.group(2) else chunks).append(int(m.group(1)))
json.dump({"version": 12, "database": "db.json", "tables": [{"schema": table + ".json", "indexes": [],
           "data": [{"directory": "chunks/" + table, "chunks": chunks, "overlaps": overlaps}]}]},
          open(os.path.join(out, "metadata.json"), "w"))
