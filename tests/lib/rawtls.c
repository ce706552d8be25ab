/* rawtls.c - a blocking mbedTLS client and plain TCP sockets for tests that
 * must misbehave (old TLS versions, weak suites, garbage, oversized frames). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "fixture.h"
#include "frame.h"

struct dgt_raw {
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    uint8_t buf[1 << 20];
    size_t len;
    size_t pending_write; /* bytes of the current try_write already taken */
};

static const char *alpn[] = {"dangan/1", NULL};

/* A TCP socket connected to 127.0.0.1:port, with SO_RCVBUF (0: default) and
 * bound to source_ip (NULL: any) first; -1 on failure. */
static int open_socket(int port, int rcvbuf, const char *source_ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (source_ip) {
        struct sockaddr_in local = {.sin_family = AF_INET};

        if (inet_pton(AF_INET, source_ip, &local.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
            close(fd);
            return -1;
        }
    }
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int dgt_raw_connect(int port, const dgt_raw_opts *o, dgt_raw **out)
{
    dgt_raw *r = calloc(1, sizeof *r);
    char port_text[16];
    int rc;

    *out = NULL;
    mbedtls_net_init(&r->net);
    mbedtls_ssl_init(&r->ssl);
    mbedtls_ssl_config_init(&r->conf);
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    snprintf(port_text, sizeof port_text, "%d", port);
    if (o && (o->rcvbuf || o->source_ip)) {
        /* A small receive window must be set before connect to take effect. */
        r->net.fd = open_socket(port, o->rcvbuf, o->source_ip);
        if (r->net.fd < 0) {
            rc = -1;
            goto fail;
        }
    } else if ((rc = mbedtls_net_connect(&r->net, "127.0.0.1", port_text, MBEDTLS_NET_PROTO_TCP))) {
        goto fail;
    }
    if ((rc = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy, NULL, 0)) ||
        (rc =
             mbedtls_ssl_config_defaults(&r->conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)))
        goto fail;
    /* The pinning tests live elsewhere; here only the server's policy matters. */
    mbedtls_ssl_conf_authmode(&r->conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&r->conf, mbedtls_ctr_drbg_random, &r->drbg);
    mbedtls_ssl_conf_read_timeout(&r->conf, 5000);
    if (o && o->max_minor) {
        mbedtls_ssl_conf_min_version(&r->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_1);
        mbedtls_ssl_conf_max_version(&r->conf, MBEDTLS_SSL_MAJOR_VERSION_3, o->max_minor);
    }
    if (o && o->ciphersuites)
        mbedtls_ssl_conf_ciphersuites(&r->conf, o->ciphersuites);
    if (o && o->allow_renegotiation)
        mbedtls_ssl_conf_renegotiation(&r->conf, MBEDTLS_SSL_RENEGOTIATION_ENABLED);
    if (!(o && o->without_alpn))
        mbedtls_ssl_conf_alpn_protocols(&r->conf, alpn);
    if ((rc = mbedtls_ssl_setup(&r->ssl, &r->conf)))
        goto fail;
    mbedtls_ssl_set_bio(&r->ssl, &r->net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
    while ((rc = mbedtls_ssl_handshake(&r->ssl)) != 0) {
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
            goto fail;
    }
    *out = r;
    return 0;
fail:
    dgt_raw_close(r);
    return rc ? rc : -1;
}

int dgt_raw_write(dgt_raw *r, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n > 0) {
        int k = mbedtls_ssl_write(&r->ssl, b, n);

        if (k == MBEDTLS_ERR_SSL_WANT_WRITE || k == MBEDTLS_ERR_SSL_WANT_READ)
            continue;
        if (k < 0)
            return k;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

uint8_t *dgt_pack_request(Dangan__V1__Request *req, size_t *len)
{
    Dangan__V1__Frame f = DANGAN__V1__FRAME__INIT;
    size_t n;
    uint8_t *buf;

    f.kind_case = DANGAN__V1__FRAME__KIND_REQUEST;
    f.request = req;
    n = dangan__v1__frame__get_packed_size(&f);
    buf = malloc(n + 4);
    dg_frame_put_header(buf, (uint32_t)n);
    dangan__v1__frame__pack(&f, buf + 4);
    *len = n + 4;
    return buf;
}

int dgt_raw_send_request(dgt_raw *r, Dangan__V1__Request *req)
{
    size_t n;
    uint8_t *buf = dgt_pack_request(req, &n);
    int rc = dgt_raw_write(r, buf, n);

    free(buf);
    return rc;
}

/* Reads more bytes: >0 got some, -1 closed, -2 timeout. */
static int fill(dgt_raw *r, int timeout_ms)
{
    int k;

    mbedtls_ssl_conf_read_timeout(&r->conf, (uint32_t)timeout_ms);
    k = mbedtls_ssl_read(&r->ssl, r->buf + r->len, sizeof r->buf - r->len);
    if (k > 0) {
        r->len += (size_t)k;
        return k;
    }
    if (k == MBEDTLS_ERR_SSL_TIMEOUT)
        return -2;
    if (k == MBEDTLS_ERR_SSL_WANT_READ)
        return -2;
    return -1; /* close_notify, EOF, reset */
}

int dgt_raw_read_frame(dgt_raw *r, int timeout_ms, Dangan__V1__Frame **out)
{
    for (;;) {
        if (r->len >= 4) {
            uint32_t n = (uint32_t)r->buf[0] << 24 | (uint32_t)r->buf[1] << 16 |
                         (uint32_t)r->buf[2] << 8 | r->buf[3];

            if (r->len >= 4 + (size_t)n) {
                *out = dangan__v1__frame__unpack(NULL, n, r->buf + 4);
                memmove(r->buf, r->buf + 4 + n, r->len - 4 - n);
                r->len -= 4 + n;
                return *out ? 0 : -1;
            }
        }
        int k = fill(r, timeout_ms);
        if (k < 0)
            return k;
    }
}

bool dgt_raw_wait_closed(dgt_raw *r, int timeout_ms)
{
    for (;;) {
        r->len = 0;
        int k = fill(r, timeout_ms);

        if (k == -1)
            return true;
        if (k == -2)
            return false;
    }
}

void dgt_raw_close(dgt_raw *r)
{
    if (!r)
        return;
    mbedtls_ssl_free(&r->ssl);
    mbedtls_ssl_config_free(&r->conf);
    mbedtls_net_free(&r->net);
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
    free(r);
}

int dgt_tcp_connect(int port)
{
    return open_socket(port, 0, NULL);
}

int dgt_tcp_connect_from(int port, const char *source_ip)
{
    return open_socket(port, 0, source_ip);
}

bool dgt_tcp_wait_closed(int fd, int timeout_ms)
{
    char buf[4096];

    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};

        if (poll(&p, 1, timeout_ms) <= 0)
            return false;
        ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0)
            return true;
    }
}

int dgt_raw_renegotiate(dgt_raw *r)
{
    int rc;

    do
        rc = mbedtls_ssl_renegotiate(&r->ssl);
    while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    return rc;
}

bool dgt_raw_got_ticket(dgt_raw *r)
{
    mbedtls_ssl_session sess;
    bool got;

    mbedtls_ssl_session_init(&sess);
    if (mbedtls_ssl_get_session(&r->ssl, &sess) != 0) {
        mbedtls_ssl_session_free(&sess);
        return false;
    }
    got = sess.ticket_len > 0;
    mbedtls_ssl_session_free(&sess);
    return got;
}

void dgt_raw_set_nonblock(dgt_raw *r)
{
    mbedtls_net_set_nonblock(&r->net);
    mbedtls_ssl_set_bio(&r->ssl, &r->net, mbedtls_net_send, mbedtls_net_recv, NULL);
}

int dgt_raw_try_write(dgt_raw *r, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (r->pending_write < n) {
        int k = mbedtls_ssl_write(&r->ssl, b + r->pending_write, n - r->pending_write);

        if (k == MBEDTLS_ERR_SSL_WANT_WRITE || k == MBEDTLS_ERR_SSL_WANT_READ)
            return 0;
        if (k < 0)
            return k;
        r->pending_write += (size_t)k;
    }
    r->pending_write = 0;
    return 1;
}

int dgt_raw_try_read_frame(dgt_raw *r, Dangan__V1__Frame **out)
{
    for (;;) {
        if (r->len >= 4) {
            uint32_t n = (uint32_t)r->buf[0] << 24 | (uint32_t)r->buf[1] << 16 |
                         (uint32_t)r->buf[2] << 8 | r->buf[3];

            if (r->len >= 4 + (size_t)n) {
                *out = dangan__v1__frame__unpack(NULL, n, r->buf + 4);
                memmove(r->buf, r->buf + 4 + n, r->len - 4 - n);
                r->len -= 4 + n;
                return *out ? 0 : -1;
            }
        }
        int k = mbedtls_ssl_read(&r->ssl, r->buf + r->len, sizeof r->buf - r->len);
        if (k > 0) {
            r->len += (size_t)k;
            continue;
        }
        if (k == MBEDTLS_ERR_SSL_WANT_READ || k == MBEDTLS_ERR_SSL_WANT_WRITE)
            return -2;
        return -1;
    }
}
