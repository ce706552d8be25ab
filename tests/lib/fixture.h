/* fixture.h - test fixtures: a real dangand in a fresh temp dir on an
 * ephemeral 127.0.0.1 port, clients for it, a raw TLS client for hostile
 * input, and a runner for CLI commands.
 *
 * dgt_server_start runs `dangand init` (parsing the admin password and the
 * fingerprint it prints), writes optional extra config, runs `dangand serve
 * --listen 127.0.0.1:0` with stderr to a log file and waits for the
 * "listening" line to learn the port. dgt_server_stop sends SIGTERM, waits,
 * and reports whether it exited 0 without logging an error line; then the
 * temp dir is removed.
 *
 * Time: a server started with DANGAND_TEST_PATH (dangand-test, whose clock the
 * test drives: common/clock.h) runs on the real clock plus an offset that
 * dgt_clock_advance moves forward, and dgt_server_sweep runs its once-a-second
 * sweep (timeouts, session expiry, throttle expiry, change-feed pruning) at
 * once. A test never sleeps until something expires: it moves the clock.
 */
#ifndef DGT_FIXTURE_H
#define DGT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dangan.h"
#include "dg.h"

typedef struct dgt_server {
    char root[256]; /* temp dir holding everything below */
    char data[320]; /* data dir */
    char log[320];  /* server stderr */
    char config[320];
    char clock[320]; /* the offset a dangand-test adds to its clock (DANGAN_TEST_CLOCK) */
    char addr[64];   /* "127.0.0.1:PORT" */
    int port;
    char admin_password[64];
    char fingerprint[128]; /* "AB:CD:..." */
    pid_t pid;
    const char *program;   /* the dangand that serves; DANGAND_PATH when NULL */
    const char *log_level; /* --log-level; NULL: $DGT_LOG_LEVEL, or info */
} dgt_server;

/* Starts a server; `extra_ini` (may be NULL) is written as --config. Aborts the test on failure. */
void dgt_server_start(dgt_server *s, const char *extra_ini);
/* The same with another dangand binary (DANGAND_FAULTY_PATH: fault injection,
 * spec from the file named by the environment's DANGAN_FAULT_FILE); restarts
 * use it too. */
void dgt_server_start_prog(dgt_server *s, const char *extra_ini, const char *program);
/* The same with a debug log: every accept and every request is logged, so a
 * test can wait for the server to have done something (dgt_log_wait). */
void dgt_server_start_debug(dgt_server *s, const char *extra_ini, const char *program);
/* SIGKILL, reaped: the data dir stays as a crash leaves it. */
void dgt_server_kill(dgt_server *s);
/* Starts the server again on the same data dir (after dgt_server_stop_keep). */
void dgt_server_restart(dgt_server *s, const char *extra_ini);
/* The same, on the port it had (clients reconnect to the same address). */
void dgt_server_restart_same_port(dgt_server *s);
/* SIGTERM, wait; returns the exit status (-1 if it died by a signal). Keeps the data dir. */
int dgt_server_stop_keep(dgt_server *s);
/* The same with another signal. */
int dgt_server_stop_by(dgt_server *s, int signum);
/* Stops, asserts exit 0 and no error lines, removes the temp dir. */
void dgt_server_stop(dgt_server *s);
/* Moves the clock of a dangand-test server forward by `ms` (wall and
 * monotonic alike), at once; it stays moved across restarts. Asserts that the
 * server is a dangand-test. */
void dgt_clock_advance(const dgt_server *s, int64_t ms);
/* Runs the sweep of a dangand-test server now (SIGUSR1) and returns when it
 * has run: what it found expired is closed or ended, and what it wrote
 * (change-feed pruning, sessions' last activity) is committed. */
void dgt_server_sweep(const dgt_server *s);
/* Waits until the log has more than `n` lines containing `needle`; fails
 * the test if it does not within 30 s (an event awaited, not a delay). */
void dgt_log_wait(const dgt_server *s, const char *needle, int n);
/* True if the server log contains `needle`. */
bool dgt_log_has(const dgt_server *s, const char *needle);
/* Counts lines of the log containing `needle`. */
int dgt_log_count(const dgt_server *s, const char *needle);
/* Path of the database file. */
void dgt_db_path(const dgt_server *s, char *out, size_t len);

/* A client with the fingerprint pinned; asserts success. */
dg_client *dgt_connect(const dgt_server *s);
/* dgt_connect + login; asserts success. */
dg_client *dgt_login(const dgt_server *s, const char *user, const char *password);
/* Sends one request and returns the reply (asserts transport success). */
dg_reply *dgt_call(dg_client *c, Dangan__V1__Request *req);
/* How many live customers named exactly `name` a search as `c` finds (of its first 50 hits). */
size_t dgt_count_named(dg_client *c, const char *name);
/* Status code and reason of a reply. */
int dgt_code(const dg_reply *r);
/* The id of a record of any kind (fails the test for a Record without one). */
int64_t dgt_record_id(const Dangan__V1__Record *r);
const char *dgt_reason(const dg_reply *r);

/* ---- raw TLS (mbedTLS, blocking) for hostile clients ---- */
typedef struct dgt_raw dgt_raw;
typedef struct dgt_raw_opts {
    int max_minor;           /* 3 = TLS 1.2 (default 0 means 3); 2 = TLS 1.1 */
    const int *ciphersuites; /* NULL: mbedTLS defaults */
    bool without_alpn;
    int rcvbuf;               /* SO_RCVBUF before connecting, 0 = system default */
    bool allow_renegotiation; /* let this client ask for a renegotiation */
    const char *source_ip;    /* local address to connect from ("127.0.0.2": another peer
                               * on loopback, as Linux routes all of 127/8 there); NULL: any */
} dgt_raw_opts;
/* Connects and handshakes; returns 0 or the mbedTLS error; *out set on 0. */
int dgt_raw_connect(int port, const dgt_raw_opts *o, dgt_raw **out);
int dgt_raw_write(dgt_raw *r, const void *p, size_t n);
/* Packs a Request into a frame and writes it. */
int dgt_raw_send_request(dgt_raw *r, Dangan__V1__Request *req);
/* Reads one frame: 0 and *out (free with dangan__v1__frame__free_unpacked),
 * -1 when the server closed the connection, -2 on timeout. */
int dgt_raw_read_frame(dgt_raw *r, int timeout_ms, Dangan__V1__Frame **out);
/* Waits until the server closes: true if it did within timeout_ms. */
bool dgt_raw_wait_closed(dgt_raw *r, int timeout_ms);
void dgt_raw_close(dgt_raw *r);
/* Asks the server to renegotiate; returns mbedtls_ssl_renegotiate's result. */
int dgt_raw_renegotiate(dgt_raw *r);
/* True if the server issued a TLS session ticket. */
bool dgt_raw_got_ticket(dgt_raw *r);
/* Switches to non-blocking I/O. Then: try_write returns 1 when the whole
 * buffer was taken, 0 when the socket is full (call again with the SAME
 * bytes), <0 on error; try_read_frame returns 0 with a frame, -2 when none is
 * complete yet, -1 when closed. */
void dgt_raw_set_nonblock(dgt_raw *r);
int dgt_raw_try_write(dgt_raw *r, const void *p, size_t n);
int dgt_raw_try_read_frame(dgt_raw *r, Dangan__V1__Frame **out);
/* Packs a Request as a frame into a malloc'd buffer. */
uint8_t *dgt_pack_request(Dangan__V1__Request *req, size_t *len);
/* Sends `req` as request `id` and asserts that it is answered OK. */
void dgt_raw_call_ok(dgt_raw *r, Dangan__V1__Request *req, uint64_t id);
/* A raw TLS client (options `o`, may be NULL) that has said Hello and logged
 * in as admin, as requests 1 and 2. */
dgt_raw *dgt_raw_admin(const dgt_server *s, const dgt_raw_opts *o);
/* Reads frames until the response to request `id` and returns it (free with
 * dangan__v1__frame__free_unpacked). The events that came ahead of it are
 * counted in *n_events (may be NULL): what the server had queued for the
 * connection before the reply. */
Dangan__V1__Frame *dgt_raw_reply(dgt_raw *r, uint64_t id, size_t *n_events);
/* The most a TCP socket's send buffer grows to by itself (tcp_wmem's
 * maximum, bytes): with a client's SO_RCVBUF, what the kernel can hold of a
 * server's output, so what arrives beyond it was queued by the server. */
long dgt_tcp_wmem_max(void);

/* Adds a user as admin with a temporary password and sets `password` as
 * the user's own (the first-login change), so it can work at once. `role`
 * is a Dangan__V1__Role. Aborts on failure. */
void dgt_make_user(const dgt_server *s, const char *name, int role, const char *password);

/* Creates n customers "PREFIX00000".. in one Batch (allow_duplicate), owned
 * by `owner` (NULL: the caller), with `notes` (may be NULL). Aborts on failure. */
void dgt_create_customers(dg_client *c, int n, const char *prefix, const char *owner,
                          const char *notes);
/* The same, with each customer's fields beyond the name set by
 * fill(cu, i, ud) (may be NULL). */
void dgt_create_customers_with(dg_client *c, int n, const char *prefix,
                               void (*fill)(Dangan__V1__Customer *cu, int i, void *ud), void *ud);

/* Plain TCP: connect, send bytes, return fd. */
int dgt_tcp_connect(int port);
/* The same from a given local address (NULL: any); -1 on failure. */
int dgt_tcp_connect_from(int port, const char *source_ip);
/* Reads until EOF or timeout; true if the peer closed within timeout_ms. */
bool dgt_tcp_wait_closed(int fd, int timeout_ms);

/* ---- CLI runner ---- */
typedef struct dgt_run {
    int status;      /* exit code, or 128+signal */
    char out[65536]; /* stdout */
    char err[65536]; /* stderr */
} dgt_run;
/* Runs the dangan CLI with DANGAN_CONFIG_DIR=config_dir, feeding `input` on
 * stdin (may be NULL) and no terminal. argv is NULL-terminated, without "dangan". */
void dgt_cli(dgt_run *r, const char *config_dir, const char *input, const char *const *argv);
/* `dangan connect` (by fingerprint) and `dangan login --password-stdin` in
 * config_dir; aborts on failure. */
void dgt_cli_login(dgt_run *r, const char *config_dir, const dgt_server *s, const char *user,
                   const char *password);
/* The password `dangand demo-data` printed for `user` in its summary. */
void dgt_demo_password(const char *summary, const char *user, char *out, size_t len);
/* Runs dangand with argv (NULL-terminated, without "dangand"). */
void dgt_dangand(dgt_run *r, const char *const *argv);
/* Runs any program (a path) with argv (NULL-terminated, without the program),
 * feeding `input` on stdin (may be NULL). */
void dgt_run_program(dgt_run *r, const char *program, const char *input, const char *const *argv);
/* Runs SQL on the server's database with a connection of its own, as an
 * intruder with file access would (stop the server first). Aborts on error. */
void dgt_sql(const dgt_server *s, const char *sql);
/* Takes the database of a stopped server back to schema `version` (6 or
 * later) by undoing each later migration, as if an older dangand had made
 * it: the next start migrates it forward again. */
void dgt_schema_back_to(const dgt_server *s, int version);

/* Replaces the database of a stopped server with one made from the SQL
 * dump `file` (sqlite3 .dump, with its PRAGMA user_version), in WAL mode as
 * dangand keeps it. Aborts on failure. */
void dgt_load_database(const dgt_server *s, const char *file);

/* mkdtemp under $TMPDIR; rm -rf. */
void dgt_tempdir(char *out, size_t len);
void dgt_rmtree(const char *path);

#endif
