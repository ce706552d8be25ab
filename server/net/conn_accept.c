/* conn_accept.c - taking connections (see conn.h): from the listener, or
 * handed over by loop 0, which counts each in accept order; and refusing
 * those over the hard cap.
 * Runs on: the loop thread of the table.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conn_int.h"
#include "dg.h"
#include "log.h"
#include "peers.h"

static void refused_closed_cb(uv_handle_t *h)
{
    free(h);
}

/* The address of an accepted socket, as dg_conn_peer_ip gives it ("" if unknown). */
static void socket_peer_ip(uv_tcp_t *t, char *out, size_t len)
{
    struct sockaddr_storage ss;
    int n = sizeof ss;

    out[0] = '\0';
    if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &n) != 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, out, len);
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, out, len);
}

/* Over the hard cap: take the connection off the backlog (or the socket
 * handed over, fd >= 0) and drop it. */
static void refuse_connection(dg_conns *cs, int fd)
{
    uv_tcp_t *t = dg_xmalloc(sizeof *t);
    char ip[64] = "";

    uv_tcp_init(dg_server_loop(cs->srv), t);
    if (fd >= 0 ? uv_tcp_open(t, fd) == 0 : uv_accept(cs->listener, (uv_stream_t *)t) == 0)
        socket_peer_ip(t, ip, sizeof ip);
    else if (fd >= 0)
        close(fd);
    uv_close((uv_handle_t *)t, refused_closed_cb);
    if (dg_peers_may_warn(dg_server_peers(cs->srv), DG_PEER_REFUSED, ip, dg_mono_ms()))
        dg_log_warn("conn",
                    "peer=%s action=accept msg=\"connection refused: server full\" "
                    "connections=%u",
                    ip[0] ? ip : "-", (unsigned)dg_server_connections(cs->srv));
}

/* "ip" from "ip:port" or "[ip6]:port". */
static void split_peer_ip(dg_conn *c)
{
    const char *colon = strrchr(c->peer, ':');
    const char *start = c->peer[0] == '[' ? c->peer + 1 : c->peer;
    const char *end = colon ? colon : c->peer + strlen(c->peer);
    size_t n;

    if (end > start && end[-1] == ']')
        end--;
    n = end > start ? (size_t)(end - start) : 0;
    if (n >= sizeof c->peer_ip)
        n = sizeof c->peer_ip - 1;
    memcpy(c->peer_ip, start, n);
    c->peer_ip[n] = '\0';
}

/* Counts a new connection as not logged in (or takes the verdict loop 0
 * counted it with, `handed`); false if it is to be closed at once. */
static bool admit_unauth(dg_conn *c, const dg_conn_ticket *handed)
{
    dg_server *srv = c->srv;
    enum dg_peer_verdict v = handed ? (enum dg_peer_verdict)handed->verdict
                                    : dg_peers_add_unauth(dg_server_peers(srv), c->peer_ip);

    c->is_unauth_counted = true;
    if (v == DG_PEER_ACCEPT)
        return true;
    c->is_refused = true;
    if (dg_peers_may_warn(dg_server_peers(srv), DG_PEER_REFUSED, c->peer_ip, dg_mono_ms()))
        dg_log_warn("conn",
                    "conn=%llu peer=%s action=accept msg=\"too many connections from this "
                    "address are not logged in; %s\" unauthenticated=%u limit=%u",
                    (unsigned long long)c->id, c->peer,
                    v == DG_PEER_REFUSE ? "telling it after the handshake" : "closing it now",
                    (unsigned)dg_peers_n_unauth(dg_server_peers(srv), c->peer_ip),
                    (unsigned)dg_server_config(srv)->max_unauth_per_address);
    return v == DG_PEER_REFUSE;
}

/* Takes one connection: from the listener (handed NULL), or handed over
 * by loop 0, which counted it already. */
static void take(dg_conns *cs, const dg_conn_ticket *handed)
{
    dg_server *srv = cs->srv;
    const dg_config *cfg = dg_server_config(srv);
    int fd = handed ? handed->fd : -1;
    uint32_t n_all;
    dg_conn *c;
    int rc;

    DG_ASSERT_LOOP_THREAD();
    if (handed) {
        n_all = handed->n_all;
    } else if ((n_all = __atomic_add_fetch(&cs->total->n, 1, __ATOMIC_RELAXED)) >
               cs->max + OVERFLOW_SLOTS) {
        __atomic_sub_fetch(&cs->total->n, 1, __ATOMIC_RELAXED);
        refuse_connection(cs, fd);
        return;
    }
    c = dg_xcalloc(1, sizeof *c);
    c->table = cs;
    c->srv = srv;
    c->id = __atomic_add_fetch(&cs->total->next_id, 1, __ATOMIC_RELAXED);
    c->accepted_ms = c->last_read_ms = dg_mono_ms();
    rc = dg_stream_new(dg_server_loop(srv), dg_server_tls(srv), NULL, &conn_cbs, c, &c->stream);
    if (rc != DG_OK) {
        free(c);
        __atomic_sub_fetch(&cs->total->n, 1, __ATOMIC_RELAXED);
        if (handed)
            dg_peers_remove_unauth(dg_server_peers(srv), handed->peer_ip);
        refuse_connection(cs, fd);
        return;
    }
    c->next = cs->list;
    if (cs->list)
        cs->list->prev = c;
    cs->list = c;
    cs->n++;
    c->is_over_capacity = n_all > cs->max;
    dg_stream_set_write_marks(c->stream, cfg->write_high_water, cfg->write_low_water);
    if (handed) { /* counted under this address: let go of it under the same */
        snprintf(c->peer_ip, sizeof c->peer_ip, "%s", handed->peer_ip);
        c->is_unauth_counted = true;
    }
    rc = fd >= 0 ? uv_tcp_open((uv_tcp_t *)dg_stream_handle(c->stream), fd)
                 : uv_accept(cs->listener, dg_stream_handle(c->stream));
    if (rc != 0 && fd >= 0)
        close(fd);
    if (rc != 0 || dg_stream_start(c->stream) != DG_OK) {
        conn_close(c, false);
        return;
    }
    snprintf(c->peer, sizeof c->peer, "%s", dg_stream_peer(c->stream));
    if (!handed)
        split_peer_ip(c);
    if (!admit_unauth(c, handed)) {
        conn_close(c, false);
        return;
    }
    dg_log_debug("conn", "conn=%llu peer=%s loop=%u msg=\"accepted\"", (unsigned long long)c->id,
                 c->peer, dg_server_loop_index(srv));
}

void dg_conns_accept(dg_conns *cs)
{
    take(cs, NULL);
}

bool dg_conns_hand_over(dg_conns *cs, dg_conn_ticket *t)
{
    uv_tcp_t *tcp;
    uv_os_fd_t fd;

    DG_ASSERT_LOOP_THREAD();
    if ((t->n_all = __atomic_add_fetch(&cs->total->n, 1, __ATOMIC_RELAXED)) >
        cs->max + OVERFLOW_SLOTS) {
        __atomic_sub_fetch(&cs->total->n, 1, __ATOMIC_RELAXED);
        refuse_connection(cs, -1);
        return false;
    }
    /* The socket goes to the other loop as a duplicate: closing this
     * handle closes the first. */
    tcp = dg_xmalloc(sizeof *tcp);
    uv_tcp_init(dg_server_loop(cs->srv), tcp);
    t->fd = -1;
    if (uv_accept(cs->listener, (uv_stream_t *)tcp) == 0 &&
        uv_fileno((uv_handle_t *)tcp, &fd) == 0) {
        socket_peer_ip(tcp, t->peer_ip, sizeof t->peer_ip);
        t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    }
    uv_close((uv_handle_t *)tcp, refused_closed_cb);
    if (t->fd < 0) {
        __atomic_sub_fetch(&cs->total->n, 1, __ATOMIC_RELAXED);
        return false;
    }
    /* counted in accept order, whichever loop takes it */
    t->verdict = dg_peers_add_unauth(dg_server_peers(cs->srv), t->peer_ip);
    return true;
}

void dg_conns_adopt(dg_conns *cs, const dg_conn_ticket *t)
{
    take(cs, t);
}

void dg_conns_drop_ticket(dg_conns *cs, const dg_conn_ticket *t)
{
    close(t->fd);
    dg_peers_remove_unauth(dg_server_peers(cs->srv), t->peer_ip);
    __atomic_sub_fetch(&cs->total->n, 1, __ATOMIC_RELAXED);
}
