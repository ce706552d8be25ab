/* certgen.h - the server's key and self-signed certificate (dangand init).
 *
 * ECDSA P-256 key (PEM, mode 0600) and an X.509 v3 certificate signed with
 * it: CA=false, digitalSignature, serverAuth, and subjectAltNames with a
 * dNSName for every host name and an iPAddress for every IP literal given.
 * Clients trust it by pinning its SHA-256 fingerprint or by using the
 * certificate file itself as their CA file. Single-threaded (offline command).
 */
#ifndef DG_CERTGEN_H
#define DG_CERTGEN_H

#include <stddef.h>

/* Writes a new key and certificate (neither file may exist). DG_OK, DG_EEXIST,
 * DG_EIO, DG_EINVAL (a SAN that is too long); `err` explains. */
int dg_certgen_write(const char *key_path, const char *cert_path, const char *const *sans,
                     size_t n_sans, int valid_days, char *err, size_t err_len);

#endif
