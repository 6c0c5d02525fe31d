/* registry_proof.c: the node-key proof of a re-join (registry_proof.h):
 * public key of a CSR, signing the challenge (agent), verifying it
 * (registry), over mbedTLS (2.28 API, like lib/tls_pki.c). */
#include "registry_proof.h"
#include "registry_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>

/* SHA-256 of the text the proof signs. */
static int proof_hash(const char *uuid, const char *nonce, unsigned char hash[32])
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "qserv-join-proof/1 %s %s", uuid, nonce);

	if (n < 0 || n >= (int)sizeof(msg))
		return -EINVAL;
	return mbedtls_sha256_ret((const unsigned char *)msg, (size_t)n, hash, 0) ? -EIO : 0;
}

int reg_proof_pubkey_of_csr(const char *csr_pem, char *ret, size_t size, char *err, size_t errlen)
{
	mbedtls_x509_csr csr;
	unsigned char der[512];
	size_t olen = 0;
	int len, rc = 0;

	mbedtls_x509_csr_init(&csr);
	if (mbedtls_x509_csr_parse(&csr, (const unsigned char *)csr_pem, strlen(csr_pem) + 1) != 0) {
		snprintf(err, errlen, "unparsable CSR");
		rc = -EBADMSG;
	} else if ((len = mbedtls_pk_write_pubkey_der(&csr.pk, der, sizeof(der))) <= 0 ||
		   mbedtls_base64_encode((unsigned char *)ret, size, &olen, der + sizeof(der) - len, (size_t)len)) {
		snprintf(err, errlen, "cannot encode the CSR's public key");
		rc = -EBADMSG;
	}
	mbedtls_x509_csr_free(&csr);
	return rc;
}

int reg_proof_sign(const char *key_pem, const char *uuid, const char *nonce, char *ret_sig, size_t size,
		   char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t slen = 0, olen = 0;
	int rc = 0;

	mbedtls_pk_init(&pk);
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	if (proof_hash(uuid, nonce, hash) < 0) {
		snprintf(err, errlen, "challenge too long");
		rc = -EINVAL;
	} else if (mbedtls_pk_parse_key(&pk, (const unsigned char *)key_pem, strlen(key_pem) + 1, NULL, 0) != 0) {
		snprintf(err, errlen, "cannot read the node key");
		rc = -EBADMSG;
	} else if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"qjp", 3) != 0 ||
		   mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, &slen,
				   mbedtls_ctr_drbg_random, &drbg) != 0 ||
		   mbedtls_base64_encode((unsigned char *)ret_sig, size, &olen, sig, slen) != 0) {
		snprintf(err, errlen, "cannot sign the registry's challenge");
		rc = -EIO;
	}
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	mbedtls_pk_free(&pk);
	return rc;
}

int reg_proof_verify(const char *pubkey, const char *uuid, const char *nonce, const char *sig,
		     char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	unsigned char der[512], raw[256], hash[32];
	size_t dlen = 0, rlen = 0;
	int rc = 0;

	mbedtls_pk_init(&pk);
	if (mbedtls_base64_decode(der, sizeof(der), &dlen, (const unsigned char *)pubkey, strlen(pubkey)) != 0 ||
	    mbedtls_pk_parse_public_key(&pk, der, dlen) != 0) {
		snprintf(err, errlen, "the stored public key is unreadable");
		rc = -EBADMSG;
	} else if (mbedtls_base64_decode(raw, sizeof(raw), &rlen, (const unsigned char *)sig, strlen(sig)) != 0 ||
		   rlen == 0) {
		snprintf(err, errlen, "the proof is not base64");
		rc = -EBADMSG;
	} else if (proof_hash(uuid, nonce, hash) < 0 ||
		   mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), raw, rlen) != 0) {
		snprintf(err, errlen, "the proof is not signed by the node's key");
		rc = -EKEYREJECTED;
	}
	mbedtls_pk_free(&pk);
	return rc;
}

int reg_proof_reply(struct tls_conn *t, const char *key_pem, const char *uuid, json_t *challenge,
		    char *err, size_t errlen)
{
	char nonce[REG_NONCE_HEX + 1], sig[REG_SIG_MAX];
	int rc;

	if ((rc = reg_msg_str(challenge, "nonce", nonce, sizeof(nonce), 1, err, errlen)) < 0 ||
	    (rc = reg_proof_sign(key_pem, uuid, nonce, sig, sizeof(sig), err, errlen)) < 0)
		return rc;
	rc = reg_msg_send(tls_io_write, t, REG_MSG_PROOF, json_pack("{s:s}", "sig", sig), REG_MSG_MAX_REQ, 10000);
	if (rc < 0)
		snprintf(err, errlen, "sending the key proof failed: %s", strerror(-rc));
	return rc;
}
