/* wreq.h: the request bodies of the worker's API (wapi.c), parsed and
 * checked without MariaDB: each function takes the parsed JSON body (for
 * /ingest/csv, the query string as a JSON object of strings) and fills a
 * plain struct, or returns -EINVAL with err naming the field (never
 * quoting the refused value).  Every name that comes out of here passed
 * qserv/common/sqlid.h, every column type its grammar (in canonical
 * form); what is left to the handlers is what needs MariaDB or the
 * worker's state.  No globals, no logging; pointers into the JSON are
 * borrowed and live as long as the body. */
#ifndef QSERV_WORKER_WREQ_H
#define QSERV_WORKER_WREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "buf.h"

#define WREQ_NAME 65    /* a name of at most 64 bytes and its NUL */

/* POST /ingest/file[-async] {transaction_id, table, chunk, overlap, url,
 * [database], [charset_name], [fields_terminated_by, fields_enclosed_by,
 * fields_escaped_by, lines_terminated_by], [max_num_warnings], [num_retries]}, and
 * /ingest/csv's query or form fields. */
struct wreq_contrib {
	uint32_t trans_id;              /* 1..2^31-1 */
	char db[WREQ_NAME];             /* "" = the transaction's */
	char table[WREQ_NAME];
	int32_t chunk;                  /* -1 when absent */
	bool overlap;
	char url[1024];                 /* "" when absent; else file://, http://, https:// */
	char charset[33];               /* "" = the default */
	/* dialect strings as sent (at most 2 bytes); ft, lt "" when absent,
	 * enc "" and esc "\\\\" when absent (csvd_parse reads them) */
	char ft[4], enc[4], esc[4], lt[4];
	/* max_num_warnings: MariaDB warnings kept with the contribution,
	 * 0..65535 (Qserv's range), WREQ_MAX_WARNINGS when absent */
	unsigned max_warnings;
	/* num_retries: automatic retries of a transient read failure (async
	 * only, as in Qserv), 0..WREQ_MAX_RETRIES_LIMIT; -1 when absent */
	int num_retries;
};
#define WREQ_MAX_RETRIES_LIMIT 65535
#define WREQ_MAX_WARNINGS 64            /* Qserv's default (MariaDB's max_error_count) */
#define WREQ_MAX_WARNINGS_LIMIT 65535   /* Qserv's (and MariaDB's) upper bound */
int wreq_contrib(json_t *p, struct wreq_contrib *ret, char *err, size_t errlen);

/* POST /worker/trans {database, transaction_id, action: begin|commit|abort};
 * database is required (and checked) for begin only. */
enum wreq_action { WREQ_BEGIN, WREQ_COMMIT, WREQ_ABORT };
struct wreq_trans {
	char db[WREQ_NAME];
	uint32_t id;                    /* 1..2^31-1 */
	enum wreq_action action;
};
int wreq_trans(json_t *b, struct wreq_trans *ret, char *err, size_t errlen);

/* POST /worker/database, /worker/publish, /worker/unpublish {database} */
int wreq_db(json_t *b, char ret_db[WREQ_NAME], char *err, size_t errlen);

/* POST /worker/chunk {database, chunk}: chunk 0 or more. */
int wreq_chunk(json_t *b, char ret_db[WREQ_NAME], int32_t *ret_chunk, char *err, size_t errlen);

/* POST /worker/table {database, table, schema: [{name, type}...],
 * is_partitioned, is_director, director_key, chunk_id_key, sub_chunk_id_key}.
 * defs is "`a` T,`b` U," with the canonical types, cols "`a`,`b`";
 * wreq_table_free() frees them (also after a failure). */
struct wreq_table {
	char db[WREQ_NAME], table[WREQ_NAME];
	bool partitioned, director;
	char director_key[WREQ_NAME], chunk_key[WREQ_NAME], sub_chunk_key[WREQ_NAME];
	unsigned ncols;
	struct buf defs, cols;
};
int wreq_table(json_t *b, struct wreq_table *ret, char *err, size_t errlen);
void wreq_table_free(struct wreq_table *t);

/* POST /worker/sqlindex {database, table, index, spec, comment, columns:
 * [{column, length, ascending}...], [overlap]}: list is the key part list
 * ("`a`(10),`b` DESC"), kind the SQL word for spec ("" for DEFAULT). */
struct wreq_index {
	char db[WREQ_NAME], table[WREQ_NAME], index[WREQ_NAME];
	const char *kind;               /* "", "UNIQUE ", "FULLTEXT ", "SPATIAL " */
	const char *comment;            /* borrowed; a literal for qsql_quote */
	char list[32 * 90];
	bool overlap;
};
int wreq_index(json_t *b, struct wreq_index *ret, char *err, size_t errlen);

/* POST /worker/subchunks {database, table, chunk, sub_chunks: [n...]}:
 * *ret_sub is malloc'ed (caller frees), a non-integer entry is -1. */
struct wreq_subchunks {
	char db[WREQ_NAME], table[WREQ_NAME];
	int32_t chunk;
	int32_t *sub;
	size_t n;
};
int wreq_subchunks(json_t *b, struct wreq_subchunks *ret, char *err, size_t errlen);

/* The chunk number of a replica request that names a database's regular
 * (non-partitioned) tables instead of a chunk: "regular": true in a body,
 * regular=1 in a query string.  Never a real chunk (those are 0 or more),
 * nor the -1 the parsers leave for an absent or refused chunk. */
#define WREQ_REGULAR (-2)

/* POST /worker/replica {database, chunk | regular, source_id, source_url}:
 * exactly one of chunk (0 or more) and "regular": true (chunk is then
 * WREQ_REGULAR); regular is a flag (true/false, 0/1, "0"/"1"), false or
 * absent when a chunk is given.  source_id is a worker name
 * ([A-Za-z0-9_.-], 1 to 64 bytes), source_url the source's API base,
 * http(s)://<host>[:<port>] (letters, digits, '.', '-' in the host; no
 * user, path or query; one trailing '/' allowed and dropped). */
struct wreq_replica {
	char db[WREQ_NAME];
	int32_t chunk;                  /* or WREQ_REGULAR */
	char source_id[WREQ_NAME];
	char source_url[300];
	char backup_file[160];          /* "" or <backup>/<file>: the stream is that backup file
					 * of the source (wbackup.c), its database may differ */
};
int wreq_replica(json_t *b, struct wreq_replica *ret, char *err, size_t errlen);

/* Query strings (the arguments as a JSON object of strings, as wapi.c
 * builds them).  GET /worker/replicas[?database=]: ret_db "" when database
 * is absent or empty, else a checked name. */
int wreq_db_arg(json_t *q, char ret_db[WREQ_NAME], char *err, size_t errlen);
/* GET|DELETE /worker/replica?database=&chunk=, GET /replica/chunk?...:
 * database required, chunk a decimal number 0..2^31-1 (digits only, at
 * most 10); or, instead of chunk, regular=1 (*ret_chunk WREQ_REGULAR;
 * regular=0 or regular= is the same as no regular; the handlers that take
 * no regular tables refuse WREQ_REGULAR themselves). */
int wreq_chunk_arg(json_t *q, char ret_db[WREQ_NAME], int32_t *ret_chunk, char *err, size_t errlen);

/* A contribution id (PUT /ingest/file/<id>, GET /ingest/file-async/<id>):
 * digits only, 1..2^32-1. */
int wreq_id(const char *s, uint32_t *ret, char *err, size_t errlen);
/* GET /worker/contribs?transaction_id= | ?id= (the controller's reports):
 * exactly one, digits only; the other is 0. */
int wreq_contribs_arg(json_t *q, uint32_t *ret_trans, uint32_t *ret_id, char *err, size_t errlen);

/* POST /ingest/csv as Qserv takes it, multipart/form-data: qserv/common/mpart.h. */

/* POST /worker/config {database, [TIMEOUT], [ASYNC_PROC_LIMIT]}: the keys
 * of Qserv's per-database ingest configuration the worker applies (the
 * controller sends them on PUT /ingest/config); numbers 0..2^31-1 as
 * integers or digit strings, 0 or absent = not set. */
struct wreq_config {
	char db[WREQ_NAME];
	long timeout_s;         /* TIMEOUT: a download's time limit, at most the worker's */
	long async_limit;       /* ASYNC_PROC_LIMIT: the database's async loads at once */
};
int wreq_config(json_t *b, struct wreq_config *ret, char *err, size_t errlen);

#endif
