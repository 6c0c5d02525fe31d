/* registry_proof.h: proof that a joining machine holds its node key,
 * private to agent/registry/ (both ends of the protocol use it).
 *
 * A machine the registry already knows may get a certificate again only if
 * it proves it holds the key of the certificate issued before (or the
 * operator re-admitted it).  The registry keeps each node's public key
 * (base64 of the DER SubjectPublicKeyInfo, from the CSR it signed) in its
 * state; on a JOIN of a known uuid it sends CHALLENGE {nonce} and the agent
 * answers PROOF {sig}: an ECDSA/SHA-256 signature by node.key over
 * "qserv-join-proof/1 <uuid> <nonce>" (base64 DER).  The nonce is fresh per
 * attempt, so a recorded proof cannot be replayed. */
#ifndef AGENT_REGISTRY_PROOF_H
#define AGENT_REGISTRY_PROOF_H

#include <jansson.h>
#include <stddef.h>

#include "tls.h"

#define REG_PUBKEY_MAX 256      /* base64 SPKI of a P-256 key is 124 bytes */
#define REG_NONCE_HEX 64        /* 32 random bytes as hex */
#define REG_SIG_MAX 256         /* base64 of a DER ECDSA P-256 signature (<= 72 bytes) */

/* The public key of csr_pem as base64 SPKI into ret (size REG_PUBKEY_MAX).
 * -EBADMSG for an unparsable CSR. */
int reg_proof_pubkey_of_csr(const char *csr_pem, char *ret, size_t size, char *err, size_t errlen);

/* Agent side: sign the proof for uuid and nonce with key_pem into ret_sig
 * (size REG_SIG_MAX). */
int reg_proof_sign(const char *key_pem, const char *uuid, const char *nonce, char *ret_sig, size_t size,
		   char *err, size_t errlen);

/* Agent side: answer the CHALLENGE challenge (its nonce) with a PROOF
 * signed by key_pem, on t. */
int reg_proof_reply(struct tls_conn *t, const char *key_pem, const char *uuid, json_t *challenge,
		    char *err, size_t errlen);

/* Registry side: 0 when sig is pubkey's signature of the proof for uuid and
 * nonce, -EKEYREJECTED when it is not (err says why), -EBADMSG when pubkey
 * or sig cannot be decoded. */
int reg_proof_verify(const char *pubkey, const char *uuid, const char *nonce, const char *sig,
		     char *err, size_t errlen);

#endif
