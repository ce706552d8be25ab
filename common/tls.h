/* tls.h - an mbedTLS 2.28 session over memory buffers (no sockets, no libuv).
 *
 * The I/O layer (stream.c) appends received ciphertext to dg_tls_cin() and
 * sends whatever accumulates in dg_tls_cout(); mbedTLS never sees a file
 * descriptor. dg_tls_pull() advances the handshake and decrypts everything
 * available, so no plaintext stays parked inside mbedTLS.
 *
 * Settings (docs/security.md), the same on both ends: TLS 1.2 only; the three
 * ECDHE-ECDSA AEAD suites (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305);
 * groups X25519, P-256, P-384; no renegotiation; no session tickets; ALPN
 * "dangan/1", required by the server.
 *
 * Client trust: either a CA file (chain and host name verified; IP literals
 * checked against iPAddress SANs), or a pinned SHA-256 certificate fingerprint
 * (any other certificate aborts the handshake: never a fallback), or "probe"
 * mode, which accepts any certificate only so its fingerprint can be shown —
 * a probe connection must send nothing.
 *
 * A dg_tls_conf is shared by many sessions and must outlive them. Each dg_tls
 * belongs to one thread at a time.
 */
#ifndef DG_TLS_H
#define DG_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hex.h"

#define DG_TLS_ALPN "dangan/1"

typedef struct dg_tls_conf dg_tls_conf;
typedef struct dg_tls dg_tls;

/* Server configuration from a PEM certificate and PEM private key. Refuses a
 * key file readable by group or others. DG_OK, DG_EDENIED (key mode), DG_EIO
 * (unreadable), DG_EINVAL (unparsable); `err` explains. Free with dg_tls_conf_free. */
int dg_tls_conf_new_server(const char *cert_path, const char *key_path, dg_tls_conf **out,
                           char *err, size_t err_len);

typedef struct dg_tls_client_opts {
    const char *ca_path;       /* PEM CA bundle (or the server's own cert); or NULL */
    const uint8_t *pin_sha256; /* DG_FINGERPRINT_LEN bytes; or NULL */
    bool is_probe;             /* accept any certificate; record its fingerprint */
} dg_tls_client_opts;

/* Client configuration; exactly one of ca_path, pin_sha256, is_probe. */
int dg_tls_conf_new_client(const dg_tls_client_opts *opts, dg_tls_conf **out, char *err,
                           size_t err_len);
void dg_tls_conf_free(dg_tls_conf *conf);

/* A new session. `host` (client only, may be NULL) is used for SNI and name
 * verification. Free with dg_tls_free. */
int dg_tls_new(dg_tls_conf *conf, const char *host, dg_tls **out);
void dg_tls_free(dg_tls *t);

/* Ciphertext received from the peer: the I/O layer appends here. */
dg_buf *dg_tls_cin(dg_tls *t);
/* Ciphertext to send: the I/O layer drains this. */
dg_buf *dg_tls_cout(dg_tls *t);

/* Advances the handshake, then decrypts all available records into `plain`.
 * DG_OK: progress made or more input needed (see dg_tls_is_established).
 * DG_ECLOSED: the peer sent close_notify. DG_ETRUST: the server's certificate
 * is not the trusted one. DG_EPROTO: no ALPN agreement. DG_ETLS: any other
 * TLS failure. After an error the session is dead; dg_tls_errmsg() explains. */
int dg_tls_pull(dg_tls *t, dg_buf *plain);
/* Encrypts `len` bytes into the outgoing ciphertext. Only once established.
 * DG_OK or DG_ETLS. */
int dg_tls_push(dg_tls *t, const uint8_t *p, size_t len);
/* Queues a close_notify alert. */
void dg_tls_close_notify(dg_tls *t);

bool dg_tls_is_established(const dg_tls *t);
/* SHA-256 of the peer's certificate (DER), available once the certificate
 * was received. DG_OK or DG_ENOTFOUND. */
int dg_tls_peer_fingerprint(const dg_tls *t, uint8_t fp[DG_FINGERPRINT_LEN]);
/* Negotiated cipher suite name, e.g. "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256". */
const char *dg_tls_ciphersuite(const dg_tls *t);
/* Why the last call failed; "" when it did not. */
const char *dg_tls_errmsg(const dg_tls *t);

/* SHA-256 fingerprint of the first certificate in a PEM file. */
int dg_tls_cert_file_fingerprint(const char *cert_path, uint8_t fp[DG_FINGERPRINT_LEN]);

#endif
