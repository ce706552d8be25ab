/* certgen.c - key and self-signed certificate with mbedTLS x509write.
 *
 * mbedTLS 2.28 has no setter for subjectAltName or extendedKeyUsage, so
 * those extensions are DER-encoded here with asn1write (which writes
 * backwards from the end of a buffer).
 */
#include "certgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "dg.h"

#define PEM_MAX 4096
#define EXT_MAX 4096

struct gen {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    char *err;
    size_t err_len;
};

static int fail(struct gen *g, const char *what, int mbed_rc)
{
    char detail[128];

    mbedtls_strerror(mbed_rc, detail, sizeof detail);
    snprintf(g->err, g->err_len, "%s: %s", what, detail);
    return DG_EIO;
}

static int write_file(const char *path, const unsigned char *data, size_t len, int mode, char *err,
                      size_t err_len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    int rc = DG_OK;

    if (fd < 0) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return errno == EEXIST ? DG_EEXIST : DG_EIO;
    }
    if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        rc = DG_EIO;
    }
    close(fd);
    return rc;
}

/* GeneralNames ::= SEQUENCE OF GeneralName; dNSName [2] IA5String, iPAddress [7] OCTET STRING. */
static int san_der(const char *const *sans, size_t n, unsigned char *buf, size_t cap,
                   unsigned char **start, size_t *out_len)
{
    unsigned char *p = buf + cap;
    size_t len = 0;
    int ret;

    for (size_t i = n; i-- > 0;) {
        unsigned char ip[16];
        size_t ip_len = 0, one = 0;
        unsigned char tag;

        if (inet_pton(AF_INET, sans[i], ip) == 1)
            ip_len = 4;
        else if (inet_pton(AF_INET6, sans[i], ip) == 1)
            ip_len = 16;
        if (ip_len) {
            MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_raw_buffer(&p, buf, ip, ip_len));
            tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
        } else {
            MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_raw_buffer(&p, buf,
                                                                    (const unsigned char *)sans[i],
                                                                    strlen(sans[i])));
            tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
        }
        MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_len(&p, buf, one));
        MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_tag(&p, buf, tag));
        len += one;
    }
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *start = p;
    *out_len = len;
    return 0;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (serverAuth). */
static int eku_der(unsigned char *buf, size_t cap, unsigned char **start, size_t *out_len)
{
    unsigned char *p = buf + cap;
    size_t len = 0;
    int ret;

    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
                                                     MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *start = p;
    *out_len = len;
    return 0;
}

static void x509_time(time_t t, char out[16])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

static int build(struct gen *g, const char *key_path, const char *cert_path,
                 const char *const *sans, size_t n_sans, int valid_days)
{
    static const char pers[] = "dangan-certgen";
    unsigned char pem[PEM_MAX], ext[EXT_MAX], serial[16], *der;
    char not_before[16], not_after[16];
    size_t der_len;
    time_t now = time(NULL);
    int rc;

    if ((rc = mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy,
                                    (const unsigned char *)pers, sizeof pers - 1)) != 0)
        return fail(g, "seeding the random generator", rc);
    if ((rc = mbedtls_pk_setup(&g->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
        (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(g->key),
                                  mbedtls_ctr_drbg_random, &g->drbg)) != 0)
        return fail(g, "generating the ECDSA P-256 key", rc);
    if ((rc = mbedtls_pk_write_key_pem(&g->key, pem, sizeof pem)) != 0)
        return fail(g, "encoding the key", rc);
    rc = write_file(key_path, pem, strlen((char *)pem), 0600, g->err, g->err_len);
    dg_wipe(pem, sizeof pem);
    if (rc != DG_OK)
        return rc;

    mbedtls_x509write_crt_set_version(&g->crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&g->crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&g->crt, &g->key);
    mbedtls_x509write_crt_set_issuer_key(&g->crt, &g->key);
    dg_random(serial, sizeof serial);
    serial[0] &= 0x7f;                 /* a positive INTEGER */
    x509_time(now - 3600, not_before); /* tolerate clients whose clock is a bit behind */
    x509_time(now + (time_t)valid_days * 86400, not_after);
    if ((rc = mbedtls_x509write_crt_set_subject_name(&g->crt, "CN=dangan server,O=dangan")) ||
        (rc = mbedtls_x509write_crt_set_issuer_name(&g->crt, "CN=dangan server,O=dangan")) ||
        (rc = mbedtls_mpi_read_binary(&g->serial, serial, sizeof serial)) ||
        (rc = mbedtls_x509write_crt_set_serial(&g->crt, &g->serial)) ||
        (rc = mbedtls_x509write_crt_set_validity(&g->crt, not_before, not_after)) ||
        (rc = mbedtls_x509write_crt_set_basic_constraints(&g->crt, 0, -1)) ||
        (rc = mbedtls_x509write_crt_set_key_usage(&g->crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) ||
        (rc = mbedtls_x509write_crt_set_subject_key_identifier(&g->crt)) ||
        (rc = mbedtls_x509write_crt_set_authority_key_identifier(&g->crt)))
        return fail(g, "building the certificate", rc);
    if (san_der(sans, n_sans, ext, sizeof ext, &der, &der_len) != 0) {
        snprintf(g->err, g->err_len, "too many or too long subject alternative names");
        return DG_EINVAL;
    }
    if ((rc = mbedtls_x509write_crt_set_extension(&g->crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                  der, der_len)) != 0)
        return fail(g, "adding subjectAltName", rc);
    if (eku_der(ext, sizeof ext, &der, &der_len) != 0 ||
        (rc = mbedtls_x509write_crt_set_extension(&g->crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
                                                  0, der, der_len)) != 0)
        return fail(g, "adding extendedKeyUsage", rc);
    if ((rc = mbedtls_x509write_crt_pem(&g->crt, pem, sizeof pem, mbedtls_ctr_drbg_random,
                                        &g->drbg)) != 0)
        return fail(g, "signing the certificate", rc);
    return write_file(cert_path, pem, strlen((char *)pem), 0644, g->err, g->err_len);
}

int dg_certgen_write(const char *key_path, const char *cert_path, const char *const *sans,
                     size_t n_sans, int valid_days, char *err, size_t err_len)
{
    struct gen g = {.err = err, .err_len = err_len};
    int rc;

    mbedtls_entropy_init(&g.entropy);
    mbedtls_ctr_drbg_init(&g.drbg);
    mbedtls_pk_init(&g.key);
    mbedtls_x509write_crt_init(&g.crt);
    mbedtls_mpi_init(&g.serial);
    rc = build(&g, key_path, cert_path, sans, n_sans, valid_days);
    mbedtls_mpi_free(&g.serial);
    mbedtls_x509write_crt_free(&g.crt);
    mbedtls_pk_free(&g.key);
    mbedtls_ctr_drbg_free(&g.drbg);
    mbedtls_entropy_free(&g.entropy);
    return rc;
}
