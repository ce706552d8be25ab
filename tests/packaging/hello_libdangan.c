/* hello_libdangan.c - a libdangan user's program, built by install.sh from
 * the installed files only (`pkg-config --cflags --libs dangan`): it prints
 * the library's version, packs a request with the generated protobuf code,
 * then connects to a port where nothing listens and reports the error as
 * the library names it. Exit 0 when all of that behaved as documented. */
#include <dangan.h>
#include <stdio.h>

/* dangan.h must not bring dangan's internal helpers into a user's namespace. */
#if defined(DG_MIN) || defined(DG_MAX) || defined(DG_ARRAY_LEN) || defined(DG_UNUSED) ||           \
    defined(dg_assert) || defined(DG_ASSERT_THREAD) || defined(DG_H)
#error "dangan.h exposes dangan's internal header dg.h"
#endif

int main(void)
{
    dg_client_opts o = {
        .server = "127.0.0.1:1", /* tcpmux: nothing listens there */
        .fingerprint = "SHA256:0000000000000000000000000000000000000000000000000000000000000000",
        .connect_timeout_ms = 5000,
    };
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__PingRequest ping = DANGAN__V1__PING_REQUEST__INIT;
    dg_client *c = NULL;
    size_t packed;
    int rc;

    printf("libdangan %s\n", dg_client_version());
    req.id = 1;
    req.body_case = DANGAN__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    packed = dangan__v1__request__get_packed_size(&req);
    printf("a Ping request packs into %zu bytes\n", packed);
    rc = dg_client_open(&o, &c);
    printf("connecting to %s: %s (%s)\n", o.server, dg_client_errmsg(c), dg_client_strerror(rc));
    dg_client_close(c);
    return packed > 0 && rc == DG_CLIENT_EIO ? 0 : 1;
}
