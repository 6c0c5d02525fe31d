#!/usr/bin/python3
"""mkdataset.py: turns qserv-gen + qserv-partition output into a dataset
directory in the qserv-ingest layout (metadata.json version 12), the input
`qservctl ingest` takes.

  mkdataset.py --db NAME --gen GEN_DIR --part PART_DIR --out OUT_DIR
               [--stripes S --sub-stripes SS --overlap R] [--regular FILE.tsv ...]
               [--no-auto-index]

GEN_DIR has <T>.schema.json from qserv-gen; PART_DIR/<T>/ the chunk files of
qserv-partition for Object (director) and Source (child); each --regular TSV
becomes a regular table Filter-like (two columns id INT, name VARCHAR)."""
import argparse, json, os, re, shutil

ap = argparse.ArgumentParser()
ap.add_argument("--db", required=True)
ap.add_argument("--gen", required=True)
ap.add_argument("--part", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--stripes", type=int, default=85)
ap.add_argument("--sub-stripes", type=int, default=12)
ap.add_argument("--overlap", type=float, default=0.01667)
ap.add_argument("--regular", action="append", default=[])
ap.add_argument("--no-auto-index", action="store_true")
a = ap.parse_args()

os.makedirs(a.out, exist_ok=True)
db = {"version": 12, "database": a.db, "num_stripes": a.stripes, "num_sub_stripes": a.sub_stripes,
      "overlap": a.overlap, "auto_build_secondary_index": 0 if a.no_auto_index else 1, "auth_key": ""}
json.dump(db, open(os.path.join(a.out, "db.json"), "w"), indent=1)
tables = []
for t, director, lat, lon in (("Object", "", "decl", "ra"), ("Source", "Object", "", "")):
    schema = json.load(open(os.path.join(a.gen, t + ".schema.json")))["schema"]
    schema += [{"name": "chunkId", "type": "INT NOT NULL"}, {"name": "subChunkId", "type": "INT NOT NULL"}]
    tj = {"database": a.db, "table": t, "is_partitioned": 1, "director_table": director,
          "director_key": "objectId", "latitude_key": lat, "longitude_key": lon, "schema": schema}
    json.dump(tj, open(os.path.join(a.out, t + ".json"), "w"), indent=1)
    src = os.path.join(a.part, t)
    dst = os.path.join(a.out, "chunks", t)
    shutil.copytree(src, dst, dirs_exist_ok=True)
    chunks, overlaps = [], []
    for f in sorted(os.listdir(dst)):
        m = re.fullmatch(r"chunk_(\d+)(_overlap)?\.txt", f)
        if m:
            (overlaps if m.group(2) else chunks).append(int(m.group(1)))
    tables.append({"schema": t + ".json", "indexes": [],
                   "data": [{"directory": "chunks/" + t, "chunks": chunks, "overlaps": overlaps}]})
for path in a.regular:
    name = os.path.splitext(os.path.basename(path))[0]
    shutil.copy(path, os.path.join(a.out, name + ".tsv"))
    tj = {"database": a.db, "table": name, "is_partitioned": 0,
          "schema": [{"name": "id", "type": "INT NOT NULL"}, {"name": "name", "type": "VARCHAR(32)"}]}
    json.dump(tj, open(os.path.join(a.out, name + ".json"), "w"), indent=1)
    tables.append({"schema": name + ".json", "indexes": [], "data": [{"directory": "", "files": [name + ".tsv"]}]})
json.dump({"version": 12, "charset_name": "latin1", "database": "db.json", "tables": tables},
          open(os.path.join(a.out, "metadata.json"), "w"), indent=1)
