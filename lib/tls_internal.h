/* tls_internal.h: what the two halves of lib's TLS code share (private to
 * lib/: tls_pki.c owns the RNG, PEM parsing, identities and pins;
 * tls_conn.c the configurations and connections built on them). */
#ifndef QSERV_TLS_INTERNAL_H
#define QSERV_TLS_INTERNAL_H

#include <stddef.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tls.h"

#define PEM_MAX 8192

/* mbedTLS's text for error r, in buf. */
const char *tls__mbed_str(int r, char *buf, size_t len);
/* The process-wide CTR-DRBG, seeded once: 0 or a negative mbedTLS error. */
int tls__rng(void);
extern mbedtls_ctr_drbg_context tls__drbg;
/* PEM parsing with a sentence in err naming `what`. */
int tls__parse_crt(mbedtls_x509_crt *crt, const char *pem, const char *what, char *err, size_t errlen);
int tls__parse_key(mbedtls_pk_context *pk, const char *pem, const char *what, char *err, size_t errlen);
/* Subject identity (and serial) of a parsed certificate. */
void tls__crt_identity(const mbedtls_x509_crt *crt, struct tls_identity *id);
/* Pin of a DER certificate; a pin given by a person in canonical form. */
void tls__der_pin(const unsigned char *der, size_t len, char out[TLS_PIN_LEN]);
int tls__pin_normalize(const char *pin, char out[TLS_PIN_LEN]);

#endif
