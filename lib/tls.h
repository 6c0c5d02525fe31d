/* tls.h: mbedTLS helpers for every node-to-node connection of qserv-node.
 *
 * Owns: the cluster PKI (CA creation, ECDSA P-256 keys, CSRs, signing a CSR
 * with a node identity the *signer* chooses), CA pins ("sha256:<64 hex>" of
 * the CA certificate's DER), and TLS 1.2 connections over a caller's socket
 * fd (server, client, mutual TLS, or "pinned" client that trusts a CA only
 * if its hash equals a pin it was given).
 *
 * Conventions: PEM strings in and out (NUL-terminated, malloc'd outputs the
 * caller frees); every function returns 0 or a negative errno and, when
 * given, fills `err` with a human sentence (mbedTLS's own reason included);
 * ret_* outputs are untouched on failure.  Nothing here logs.
 *
 * Identity in certificates: subject "CN=<name>,OU=<role>,O=<cluster>,
 * serialNumber=<machine uuid>".  tls_csr_sign() ignores the CSR's subject and
 * writes the identity the registry decided, after checking the CSR's own
 * signature (proof the requester holds the key).  Identity fields are limited
 * to [A-Za-z0-9._-] so they can never inject DN syntax.
 *
 * Threads: a struct tls_config is read-only once built and may be shared by
 * many connections in many threads; a struct tls_conn belongs to one thread
 * at a time.  A tls_conn never owns its fd: close it after tls_conn_free(). */
#ifndef QSERV_TLS_H
#define QSERV_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLS_PIN_LEN  (7 + 64 + 1)   /* "sha256:" + hex + NUL */
#define TLS_ID_MAX   64             /* max bytes of one identity field, NUL included */

struct tls_identity {
	char name[TLS_ID_MAX];      /* CN: stable node name, "worker-3", "czar-0", "registry" */
	char role[TLS_ID_MAX];      /* OU: "czar" | "worker" | "registry" | "admin" */
	char cluster[TLS_ID_MAX];   /* O:  cluster name */
	char uuid[TLS_ID_MAX];      /* serialNumber: machine UUID (may be empty) */
	char serial[TLS_ID_MAX];    /* certificate serial in hex (filled by tls_conn_peer only) */
};

/* tls_identity_valid: 0 when every non-empty field uses [A-Za-z0-9._-] and
 * name/role are non-empty; -EINVAL otherwise. */
int tls_identity_valid(const struct tls_identity *id);

/* ---- keys, CSRs, CA, signing ------------------------------------------- */

/* New ECDSA P-256 private key as PEM in *ret_key_pem (caller frees). */
int tls_key_generate(char **ret_key_pem, char *err, size_t errlen);

/* CSR signed by key_pem, subject from id (the signer will override it). */
int tls_csr_create(const char *key_pem, const struct tls_identity *id,
		   char **ret_csr_pem, char *err, size_t errlen);

/* Self-signed CA certificate "CN=<cluster> CA,O=<cluster>" valid for `days`,
 * with a fresh key: both returned as PEM (caller frees both). */
int tls_ca_create(const char *cluster, int days, char **ret_cert_pem,
		  char **ret_key_pem, char *err, size_t errlen);

/* Verify csr_pem's self-signature and issue a leaf certificate for its
 * public key with subject `id`, serial `serial` (>0), valid `days`, signed
 * by the CA.  -EBADMSG: unparsable CSR; -EKEYREJECTED: bad CSR signature or
 * key type; -EINVAL: bad identity/CA. */
int tls_csr_sign(const char *ca_cert_pem, const char *ca_key_pem,
		 const char *csr_pem, const struct tls_identity *id,
		 uint64_t serial, int days, char **ret_cert_pem,
		 char *err, size_t errlen);

/* Subject alternative names of a leaf certificate, so that clients which
 * check host names (curl, OpenSSL and GnuTLS defaults, `mariadb
 * --ssl-verify-server-cert`, pymysql's check_hostname) accept it under the
 * node's name and address.  Each entry is an IPv4 or IPv6 literal (->
 * iPAddress) or else a DNS name (-> dNSName): 1 to TLS_SAN_NAME_MAX bytes,
 * labels of 1 to 63 bytes of [A-Za-z0-9_-] not starting or ending with '-',
 * no wildcard.  At most TLS_SAN_MAX entries. */
#define TLS_SAN_MAX      16
#define TLS_SAN_NAME_MAX 253

/* tls_csr_sign() plus a non-critical subjectAltName extension with the
 * `nsan` entries of `san` (none: no extension, as tls_csr_sign).
 * -ENAMETOOLONG: a name or a label too long; -EINVAL: a name that is not
 * a host name or IP literal, or more than TLS_SAN_MAX entries; the other
 * errors as tls_csr_sign(). */
int tls_csr_sign_san(const char *ca_cert_pem, const char *ca_key_pem,
		     const char *csr_pem, const struct tls_identity *id,
		     const char *const *san, size_t nsan,
		     uint64_t serial, int days, char **ret_cert_pem,
		     char *err, size_t errlen);

/* The subjectAltName entries of the first certificate in cert_pem as text,
 * "DNS:worker-1,IP:10.0.0.5,IP:fd00::5" (IPv6 as inet_ntop writes it; other
 * name types as "OTHER:<tag>").  -ENOENT: no such extension; -ENOSPC: ret
 * too small; -EBADMSG: unparsable certificate. */
int tls_cert_san(const char *cert_pem, char *ret, size_t retlen, char *err, size_t errlen);

/* Read a certificate's subject identity (and serial). */
int tls_cert_identity(const char *cert_pem, struct tls_identity *ret_id,
		      char *err, size_t errlen);

/* Pin of the first certificate in cert_pem: "sha256:" + lowercase hex of
 * SHA-256 over its DER encoding. */
int tls_pin(const char *cert_pem, char ret_pin[TLS_PIN_LEN], char *err, size_t errlen);

/* 0 if cert_pem's pin equals `pin` (case-insensitive hex, compared in
 * constant time), -EPERM if it differs, -EINVAL if `pin` is malformed. */
int tls_pin_check(const char *cert_pem, const char *pin, char *err, size_t errlen);

/* Constant-time equality of two NUL-terminated secrets (tokens): the time
 * depends only on the length of `expected`. */
bool tls_secret_equal(const char *given, const char *expected);

/* `len` random bytes from the CTR-DRBG as lowercase hex into ret_hex
 * (2*len+1 bytes). */
int tls_random_hex(size_t len, char *ret_hex);

/* ---- connection configurations ------------------------------------------ */

enum tls_peer_auth {
	TLS_PEER_NONE,     /* server: don't ask for a client certificate */
	TLS_PEER_CA,       /* verify the peer's certificate against ca_pem */
	TLS_PEER_CA_OPTIONAL, /* server only: ask for a client certificate; none is
			      fine (tls_conn_peer -> -ENOENT), but one that fails
			      verification against ca_pem fails the handshake */
	TLS_PEER_PIN,      /* client only: the server must send a CA whose pin equals
			      `pin` and a leaf that CA signed (bootstrap before the
			      node has the CA itself) */
};

struct tls_config_opts {
	bool server;
	enum tls_peer_auth peer_auth;
	const char *ca_pem;      /* TLS_PEER_CA: trusted CA(s) */
	const char *pin;         /* TLS_PEER_PIN */
	const char *cert_pem;    /* own certificate (chain: leaf first, may append the CA);
				    required for servers, optional for clients */
	const char *key_pem;     /* own private key */
	int timeout_ms;          /* handshake deadline; 0 -> 10000 */
};

struct tls_config;

int tls_config_new(const struct tls_config_opts *opts, struct tls_config **ret_cfg,
		   char *err, size_t errlen);
void tls_config_free(struct tls_config *cfg);   /* accepts NULL */

/* ---- connections --------------------------------------------------------- */

struct tls_conn;

/* Handshake on a connected socket (blocking or not; the library polls).
 * expect_name: when non-NULL the peer certificate's CN must equal it.
 * -ETIMEDOUT: no handshake within the config timeout; -ECONNRESET: peer
 * closed; -EPERM: certificate/pin verification failed; -EPROTO: other TLS
 * failure.  The fd stays the caller's. */
int tls_conn_new(struct tls_config *cfg, int fd, const char *expect_name,
		 struct tls_conn **ret_conn, char *err, size_t errlen);

/* Sends close_notify (best effort) and frees.  Accepts NULL.  Does not close the fd. */
void tls_conn_free(struct tls_conn *c);

/* Up to len bytes: >0 bytes read, 0 on orderly EOF, -ETIMEDOUT after
 * timeout_ms (<0: wait forever), -ECONNRESET / -EPROTO on errors.
 * Signature matches frame_read_fn (frame.h): pass the conn as ctx. */
ssize_t tls_io_read(void *conn, void *buf, size_t len, int timeout_ms);
/* Writes all len bytes: len, or -ETIMEDOUT / -EPIPE / -EPROTO. */
ssize_t tls_io_write(void *conn, const void *buf, size_t len, int timeout_ms);

/* Identity of the verified peer certificate (-ENOENT without one). */
int tls_conn_peer(struct tls_conn *c, struct tls_identity *ret_id);
/* PEM of the CA the peer was verified against in TLS_PEER_PIN mode (caller frees). */
int tls_conn_pinned_ca(struct tls_conn *c, char **ret_ca_pem);
int tls_conn_fd(const struct tls_conn *c);

/* ---- small file helpers shared by users of PEM files --------------------- */

/* Whole file into a malloc'd NUL-terminated string (-ENOENT, -EFBIG > 1 MiB). */
int tls_file_read(const char *path, char **ret_text);
/* Write text to path atomically (tmp + fsync + rename + dir fsync), mode. */
int tls_file_write(const char *path, const char *text, unsigned mode);
/* A node's certificate directory, the layout qserv-certs and the agent
 * write: DIR/ca.pem (the cluster CA), DIR/NAME.pem and DIR/NAME.key.  All
 * three malloc'd (caller frees) or none, with err naming the file. */
int tls_dir_load(const char *dir, const char *name, char **ret_ca, char **ret_cert, char **ret_key,
		 char *err, size_t errlen);

#endif
