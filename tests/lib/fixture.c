/* fixture.c - starting and stopping real servers, clients, the CLI runner. */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fail_msg("fixture failure (see above)");
}

void dgt_tempdir(char *out, size_t len)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(out, len, "%s/dangan-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(out))
        die("mkdtemp: %s", strerror(errno));
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* DGT_KEEP=1 in the environment keeps the test's directories (the data
 * directory, server.log) in $TMPDIR for a look after a failure. */
void dgt_rmtree(const char *path)
{
    if (!getenv("DGT_KEEP"))
        nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs argv with stdout captured into `out`; returns exit status. */
static int run_capture(char *const argv[], char *out, size_t out_len)
{
    int pipefd[2];
    pid_t pid;
    size_t n = 0;
    int status;

    if (pipe(pipefd) != 0)
        die("pipe");
    pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    for (;;) {
        ssize_t k = read(pipefd[0], out + n, out_len - 1 - n);

        if (k <= 0)
            break;
        n += (size_t)k;
    }
    out[n] = '\0';
    close(pipefd[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void copy_field(const char *text, const char *label, char *out, size_t len)
{
    const char *p = strstr(text, label);

    if (!p)
        die("init output lacks \"%s\":\n%s", label, text);
    p += strlen(label);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " \n");
    snprintf(out, len, "%.*s", (int)n, p);
}

static void write_config(dgt_server *s, const char *extra_ini)
{
    FILE *f;

    snprintf(s->config, sizeof s->config, "%s/test.conf", s->root);
    if (!(f = fopen(s->config, "w")))
        die("cannot write %s", s->config);
    fputs(extra_ini ? extra_ini : "", f);
    fclose(f);
}

/* Servers still running when a test aborts are killed at exit. */
#define MAX_LIVE 16
static pid_t live[MAX_LIVE];

static void kill_live(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0)
            kill(live[i], SIGKILL);
}

static void track(pid_t pid, bool add)
{
    static bool registered;

    if (!registered) {
        atexit(kill_live);
        registered = true;
    }
    for (int i = 0; i < MAX_LIVE; i++) {
        if (add && live[i] == 0) {
            live[i] = pid;
            return;
        }
        if (!add && live[i] == pid) {
            live[i] = 0;
            return;
        }
    }
}

static void spawn_serve(dgt_server *s)
{
    static const char ready[] = "msg=\"listening\" addr=127.0.0.1:";
    int64_t deadline = dg_mono_ms() + 20000;
    struct stat sb;
    /* A restart appends to the same log: read what this start writes. */
    long start = stat(s->log, &sb) == 0 ? (long)sb.st_size : 0;
    char text[65536];

    s->pid = fork();
    if (s->pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null = open("/dev/null", O_RDWR);

        dup2(fd, 2);
        dup2(null, 1);
        dup2(null, 0);
        close(fd);
        close(null);
        /* DGT_LOG_LEVEL=debug logs every request into the test's server log */
        const char *level = s->log_level              ? s->log_level
                            : getenv("DGT_LOG_LEVEL") ? getenv("DGT_LOG_LEVEL")
                                                      : "info";
        char listen[32];

        snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port); /* 0: any free port */
        /* read by dangand-test only */
        if (s->clock[0])
            setenv("DANGAN_TEST_CLOCK", s->clock, 1);
        const char *prog = s->program ? s->program : DANGAND_PATH;

        execl(prog, prog, "serve", "--data", s->data, "--config", s->config, "--listen", listen,
              "--log-level", level, (char *)NULL);
        _exit(127);
    }
    track(s->pid, true);
    for (;;) {
        FILE *f = fopen(s->log, "r");
        size_t n = f && fseek(f, start, SEEK_SET) == 0 ? fread(text, 1, sizeof text - 1, f) : 0;
        const char *last;
        int status;

        if (f)
            fclose(f);
        text[n] = '\0';
        if ((last = strstr(text, ready))) {
            s->port = atoi(last + strlen(ready));
            snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", s->port);
            return;
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            die("dangand serve exited before listening:\n%s", text);
        if (dg_mono_ms() > deadline)
            die("dangand serve did not start in time:\n%s", text);
        usleep(10000);
    }
}

/* The driven clock's offset file: one int64, 0 to begin with. */
static void make_clock(dgt_server *s)
{
    int64_t zero = 0;
    FILE *f;

    snprintf(s->clock, sizeof s->clock, "%s/clock", s->root);
    if (!(f = fopen(s->clock, "w")) || fwrite(&zero, sizeof zero, 1, f) != 1)
        die("cannot write %s", s->clock);
    fclose(f);
}

void dgt_clock_advance(const dgt_server *s, int64_t ms)
{
    _Atomic int64_t *offset;
    int fd;

    if (!s->program || strcmp(s->program, DANGAND_TEST_PATH) != 0)
        die("dgt_clock_advance: the server is not a dangand-test; its clock cannot be moved");
    if ((fd = open(s->clock, O_RDWR)) < 0)
        die("cannot open %s", s->clock);
    offset = mmap(NULL, sizeof *offset, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (offset == MAP_FAILED)
        die("cannot map %s", s->clock);
    atomic_fetch_add(offset, ms);
    munmap((void *)offset, sizeof *offset);
}

void dgt_log_wait(const dgt_server *s, const char *needle, int n)
{
    int64_t deadline = dg_mono_ms() + 30000;

    while (dgt_log_count(s, needle) <= n) {
        if (dg_mono_ms() > deadline)
            die("the server did not log \"%s\" in time", needle);
        usleep(2000);
    }
}

void dgt_server_sweep(const dgt_server *s)
{
    static const char swept[] = "msg=\"swept on request\"";
    int n = dgt_log_count(s, swept);

    if (!s->program || strcmp(s->program, DANGAND_TEST_PATH) != 0)
        die("dgt_server_sweep: the server is not a dangand-test (SIGUSR1 would end it)");
    if (kill(s->pid, SIGUSR1) != 0)
        die("cannot signal the server: %s", strerror(errno));
    dgt_log_wait(s, swept, n);
}

void dgt_server_start(dgt_server *s, const char *extra_ini)
{
    dgt_server_start_prog(s, extra_ini, NULL);
}

static void start(dgt_server *s, const char *extra_ini, const char *program, const char *level)
{
    char out[4096];
    char *const init[] = {DANGAND_PATH, "init", "--data", s->data, NULL};

    memset(s, 0, sizeof *s);
    s->program = program;
    s->log_level = level;
    dgt_tempdir(s->root, sizeof s->root);
    snprintf(s->data, sizeof s->data, "%s/data", s->root);
    snprintf(s->log, sizeof s->log, "%s/server.log", s->root);
    if (run_capture(init, out, sizeof out) != 0)
        die("dangand init failed:\n%s", out);
    copy_field(out, "admin password:", s->admin_password, sizeof s->admin_password);
    copy_field(out, "fingerprint:      SHA256:", s->fingerprint, sizeof s->fingerprint);
    write_config(s, extra_ini);
    make_clock(s);
    spawn_serve(s);
}

void dgt_server_start_prog(dgt_server *s, const char *extra_ini, const char *program)
{
    start(s, extra_ini, program, NULL);
}

void dgt_server_start_debug(dgt_server *s, const char *extra_ini, const char *program)
{
    start(s, extra_ini, program, "debug");
}

void dgt_server_kill(dgt_server *s)
{
    int status;

    if (s->pid <= 0)
        return;
    track(s->pid, false);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
}

void dgt_server_restart(dgt_server *s, const char *extra_ini)
{
    write_config(s, extra_ini);
    s->port = 0;
    spawn_serve(s);
}

void dgt_server_restart_same_port(dgt_server *s)
{
    spawn_serve(s); /* s->port is the one it had */
}

int dgt_server_stop_keep(dgt_server *s)
{
    return dgt_server_stop_by(s, SIGTERM);
}

int dgt_server_stop_by(dgt_server *s, int signum)
{
    int status;
    int64_t deadline = dg_mono_ms() + 30000;

    if (s->pid <= 0)
        return 0;
    track(s->pid, false);
    kill(s->pid, signum);
    while (waitpid(s->pid, &status, WNOHANG) == 0) {
        if (dg_mono_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
            return -2;
        }
        usleep(5000);
    }
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* cmocka leaves a failed group teardown out of its exit status, and most
 * integration tests stop their server there: a server that exited badly or
 * logged an error must still fail the test program. */
static bool has_stop_failed;

static void exit_if_stop_failed(void)
{
    if (has_stop_failed)
        _exit(1);
}

void dgt_server_stop(dgt_server *s)
{
    int rc = dgt_server_stop_keep(s);
    bool has_errors = dgt_log_has(s, " error ");

    if (rc != 0 || has_errors) {
        char cmd[512];

        if (!has_stop_failed && atexit(exit_if_stop_failed) != 0)
            die("atexit failed");
        has_stop_failed = true;
        snprintf(cmd, sizeof cmd, "cat %s >&2", s->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(cannot show the log)\n");
        fprintf(stderr, "dgt_server_stop: the server exited %d%s; this test program fails\n", rc,
                has_errors ? " and logged errors" : "");
    }
    assert_int_equal(rc, 0);
    assert_false(has_errors);
    dgt_rmtree(s->root);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    n = (long)fread(buf, 1, (size_t)n, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

bool dgt_log_has(const dgt_server *s, const char *needle)
{
    return dgt_log_count(s, needle) > 0;
}

int dgt_log_count(const dgt_server *s, const char *needle)
{
    char *text = read_all(s->log);
    int n = 0;

    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    free(text);
    return n;
}

void dgt_db_path(const dgt_server *s, char *out, size_t len)
{
    snprintf(out, len, "%s/dangan.db", s->data);
}

dg_client *dgt_connect(const dgt_server *s)
{
    dg_client_opts o = {.server = s->addr, .fingerprint = s->fingerprint};
    dg_client *c;
    int rc = dg_client_open(&o, &c);

    if (rc != DG_OK)
        die("connect to %s failed: %s", s->addr, dg_client_errmsg(c));
    return c;
}

dg_client *dgt_login(const dgt_server *s, const char *user, const char *password)
{
    dg_client *c = dgt_connect(s);
    int rc = dg_client_login(c, user, password, NULL);

    if (rc != DG_OK)
        die("login as %s failed: %s", user, dg_client_errmsg(c));
    return c;
}

dg_reply *dgt_call(dg_client *c, Dangan__V1__Request *req)
{
    dg_reply *r;
    int rc = dg_client_call(c, req, &r);

    if (rc != DG_OK)
        die("call failed: %s", dg_client_errmsg(c));
    return r;
}

size_t dgt_count_named(dg_client *c, const char *name)
{
    Dangan__V1__SearchRequest m = DANGAN__V1__SEARCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    const Dangan__V1__SearchResponse *sr;
    dg_reply *r;
    size_t n = 0;

    m.query = (char *)name;
    m.limit = 50;
    req.body_case = DANGAN__V1__REQUEST__BODY_SEARCH;
    req.search = &m;
    r = dgt_call(c, &req);
    assert_int_equal(dgt_code(r), 0);
    sr = dg_reply_response(r)->search;
    for (size_t i = 0; i < sr->n_hits; i++)
        n += sr->hits[i]->customer && strcmp(sr->hits[i]->customer->name, name) == 0;
    dg_reply_free(r);
    return n;
}

int dgt_code(const dg_reply *r)
{
    return dg_reply_response(r)->status->code;
}

int64_t dgt_record_id(const Dangan__V1__Record *r)
{
    switch (r->kind_case) {
    case DANGAN__V1__RECORD__KIND_CUSTOMER:
        return r->customer->id;
    case DANGAN__V1__RECORD__KIND_CONTACT:
        return r->contact->id;
    case DANGAN__V1__RECORD__KIND_INTERACTION:
        return r->interaction->id;
    case DANGAN__V1__RECORD__KIND_DEAL:
        return r->deal->id;
    case DANGAN__V1__RECORD__KIND_FEEDBACK:
        return r->feedback->id;
    case DANGAN__V1__RECORD__KIND_TASK:
        return r->task->id;
    default:
        fail_msg("a record without a kind");
        return 0;
    }
}

const char *dgt_reason(const dg_reply *r)
{
    return dg_reply_response(r)->status->reason;
}

void dgt_raw_call_ok(dgt_raw *r, Dangan__V1__Request *req, uint64_t id)
{
    Dangan__V1__Frame *f;

    req->id = id;
    assert_int_equal(dgt_raw_send_request(r, req), 0);
    f = dgt_raw_reply(r, id, NULL);
    assert_int_equal(f->response->status->code, DANGAN__V1__CODE__OK);
    dangan__v1__frame__free_unpacked(f, NULL);
}

dgt_raw *dgt_raw_admin(const dgt_server *s, const dgt_raw_opts *o)
{
    Dangan__V1__Request hello = DANGAN__V1__REQUEST__INIT, login = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__HelloRequest h = DANGAN__V1__HELLO_REQUEST__INIT;
    Dangan__V1__LoginRequest l = DANGAN__V1__LOGIN_REQUEST__INIT;
    dgt_raw *r;

    assert_int_equal(dgt_raw_connect(s->port, o, &r), 0);
    h.protocol_major = 1;
    hello.body_case = DANGAN__V1__REQUEST__BODY_HELLO;
    hello.hello = &h;
    dgt_raw_call_ok(r, &hello, 1);
    l.username = "admin";
    l.password = (char *)s->admin_password;
    login.body_case = DANGAN__V1__REQUEST__BODY_LOGIN;
    login.login = &l;
    dgt_raw_call_ok(r, &login, 2);
    return r;
}

Dangan__V1__Frame *dgt_raw_reply(dgt_raw *r, uint64_t id, size_t *n_events)
{
    for (;;) {
        Dangan__V1__Frame *f;

        assert_int_equal(dgt_raw_read_frame(r, 10000, &f), 0);
        if (f->kind_case == DANGAN__V1__FRAME__KIND_RESPONSE && f->response->id == id)
            return f;
        if (f->kind_case == DANGAN__V1__FRAME__KIND_EVENT && n_events)
            (*n_events)++;
        dangan__v1__frame__free_unpacked(f, NULL);
    }
}

long dgt_tcp_wmem_max(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    long lo, dflt, hi;

    if (!f || fscanf(f, "%ld %ld %ld", &lo, &dflt, &hi) != 3)
        die("cannot read /proc/sys/net/ipv4/tcp_wmem");
    fclose(f);
    return hi;
}

/* ------------------------------------------------------------ CLI runner */

static void drain_into(int fd, char *buf, size_t cap, size_t *n)
{
    ssize_t k = read(fd, buf + *n, cap - 1 - *n);

    if (k > 0)
        *n += (size_t)k;
    buf[*n] = '\0';
}

/* Runs `program` with argv, stdin from `input`, stdout/stderr captured;
 * DANGAN_CONFIG_DIR=config_dir when it is not NULL. */
static void run_program(dgt_run *r, const char *program, const char *config_dir, const char *input,
                        const char *const *argv)
{
    int in[2], out[2], err[2], status;
    size_t n_out = 0, n_err = 0, argc = 0;
    const char *args[64];
    pid_t pid;

    args[argc++] = program;
    for (size_t i = 0; argv[i] && argc < 63; i++)
        args[argc++] = argv[i];
    args[argc] = NULL;
    if (pipe(in) || pipe(out) || pipe(err))
        die("pipe");
    pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        setsid(); /* no controlling terminal: prompts must fail, not hang */
        if (config_dir)
            setenv("DANGAN_CONFIG_DIR", config_dir, 1);
        execv(program, (char *const *)args);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (input && write(in[1], input, strlen(input)) < 0)
        die("cannot feed stdin");
    close(in[1]);
    r->out[0] = r->err[0] = '\0';
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0 && poll(fds, 2, 60000) > 0) {
        for (int i = 0; i < 2; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            size_t before = i == 0 ? n_out : n_err;
            drain_into(fds[i].fd, i == 0 ? r->out : r->err, sizeof r->out,
                       i == 0 ? &n_out : &n_err);
            if ((i == 0 ? n_out : n_err) == before) {
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    close(out[0]);
    close(err[0]);
    waitpid(pid, &status, 0);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void dgt_cli(dgt_run *r, const char *config_dir, const char *input, const char *const *argv)
{
    run_program(r, DANGAN_PATH, config_dir, input, argv);
}

void dgt_dangand(dgt_run *r, const char *const *argv)
{
    run_program(r, DANGAND_PATH, NULL, NULL, argv);
}

void dgt_run_program(dgt_run *r, const char *program, const char *input, const char *const *argv)
{
    run_program(r, program, NULL, input, argv);
}

void dgt_sql(const dgt_server *s, const char *sql)
{
    char path[512], *err = NULL;
    sqlite3 *db;

    dgt_db_path(s, path, sizeof path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("cannot open the database");
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "dgt_sql: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db);
        die("SQL failed");
    }
    sqlite3_close(db);
}

void dgt_load_database(const dgt_server *s, const char *file)
{
    char db[512], p[600];
    FILE *f = fopen(file, "r");
    char *sql, *err = NULL;
    long n;
    int fd;
    sqlite3 *h;

    if (!f)
        die("cannot open %s", file);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    sql = calloc(1, (size_t)n + 1);
    if (!sql || fread(sql, 1, (size_t)n, f) != (size_t)n)
        die("cannot read %s", file);
    fclose(f);
    dgt_db_path(s, db, sizeof db);
    for (const char *suffix = ""; suffix;
         suffix = *suffix ? (suffix[1] == 'w' ? NULL : "-wal") : "-shm") {
        snprintf(p, sizeof p, "%s%s", db, suffix);
        unlink(p);
    }
    fd = open(db, O_WRONLY | O_CREAT | O_EXCL, 0600); /* dangand wants 0600 */
    if (fd < 0)
        die("cannot create %s", db);
    close(fd);
    if (sqlite3_open(db, &h) != SQLITE_OK || sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(h, "PRAGMA journal_mode = WAL", NULL, NULL, &err) != SQLITE_OK)
        die("cannot load %s: %s", file, err ? err : sqlite3_errmsg(h));
    sqlite3_close(h);
    free(sql);
}

void dgt_make_user(const dgt_server *s, const char *name, int role, const char *password)
{
    static const char temporary[] = "temporary-password-1";
    Dangan__V1__UserAddRequest add = DANGAN__V1__USER_ADD_REQUEST__INIT;
    Dangan__V1__ChangePasswordRequest chpw = DANGAN__V1__CHANGE_PASSWORD_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    dg_client *c = dgt_login(s, "admin", s->admin_password);
    dg_reply *r;

    add.username = (char *)name;
    add.role = (Dangan__V1__Role)role;
    add.password = (char *)temporary;
    req.body_case = DANGAN__V1__REQUEST__BODY_USER_ADD;
    req.user_add = &add;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        die("cannot add user %s: %s", name, dg_reply_response(r)->status->message);
    dg_reply_free(r);
    dg_client_close(c);

    c = dgt_login(s, name, temporary);
    chpw.current_password = (char *)temporary;
    chpw.new_password = (char *)password;
    req.body_case = DANGAN__V1__REQUEST__BODY_CHANGE_PASSWORD;
    req.change_password = &chpw;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        die("cannot set the password of %s: %s", name, dg_reply_response(r)->status->message);
    dg_reply_free(r);
    dg_client_close(c);
}

void dgt_cli_login(dgt_run *r, const char *config_dir, const dgt_server *s, const char *user,
                   const char *password)
{
    const char *connect[] = {"connect", s->addr, "--fingerprint", s->fingerprint, NULL};
    const char *login[] = {"login", "--user", user, "--password-stdin", NULL};
    char line[256];

    dgt_cli(r, config_dir, NULL, connect);
    if (r->status != 0)
        die("dangan connect failed: %s", r->err);
    snprintf(line, sizeof line, "%s\n", password);
    dgt_cli(r, config_dir, line, login);
    if (r->status != 0)
        die("dangan login %s failed: %s", user, r->err);
}

void dgt_demo_password(const char *summary, const char *user, char *out, size_t len)
{
    char key[80];
    const char *line, *p;

    snprintf(key, sizeof key, "\n  %s ", user);
    line = strstr(summary, key);
    p = line ? strstr(line, "password: ") : NULL;
    if (!p)
        die("no password for %s in the demo-data summary", user);
    p += strlen("password: ");
    snprintf(out, len, "%.*s", (int)strcspn(p, " \n"), p);
}

void dgt_create_customers_with(dg_client *c, int n, const char *prefix,
                               void (*fill)(Dangan__V1__Customer *cu, int i, void *ud), void *ud)
{
    Dangan__V1__BatchRequest batch = DANGAN__V1__BATCH_REQUEST__INIT;
    Dangan__V1__Request req = DANGAN__V1__REQUEST__INIT;
    Dangan__V1__BatchOp *ops = calloc((size_t)n, sizeof *ops),
                        **ptrs = calloc((size_t)n, sizeof *ptrs);
    Dangan__V1__CreateRequest *cr = calloc((size_t)n, sizeof *cr);
    Dangan__V1__Record *recs = calloc((size_t)n, sizeof *recs);
    Dangan__V1__Customer *cus = calloc((size_t)n, sizeof *cus);
    char(*names)[96] = calloc((size_t)n, sizeof *names);
    dg_reply *r;

    if (!ops || !ptrs || !cr || !recs || !cus || !names)
        die("out of memory");
    for (int i = 0; i < n; i++) {
        dangan__v1__batch_op__init(&ops[i]);
        dangan__v1__create_request__init(&cr[i]);
        dangan__v1__record__init(&recs[i]);
        dangan__v1__customer__init(&cus[i]);
        snprintf(names[i], sizeof names[i], "%s%05d", prefix, i);
        cus[i].name = names[i];
        if (fill)
            fill(&cus[i], i, ud);
        recs[i].kind_case = DANGAN__V1__RECORD__KIND_CUSTOMER;
        recs[i].customer = &cus[i];
        cr[i].record = &recs[i];
        cr[i].allow_duplicate = true;
        ops[i].op_case = DANGAN__V1__BATCH_OP__OP_CREATE;
        ops[i].create = &cr[i];
        ptrs[i] = &ops[i];
    }
    batch.ops = ptrs;
    batch.n_ops = (size_t)n;
    req.body_case = DANGAN__V1__REQUEST__BODY_BATCH;
    req.batch = &batch;
    r = dgt_call(c, &req);
    if (dgt_code(r) != 0)
        die("batch of %d customers: %s", n, dg_reply_response(r)->status->message);
    dg_reply_free(r);
    free(names);
    free(cus);
    free(recs);
    free(cr);
    free(ptrs);
    free(ops);
}

struct owner_notes {
    Dangan__V1__UserRef who;
    const char *notes;
};

static void fill_owner_notes(Dangan__V1__Customer *cu, int i, void *ud)
{
    struct owner_notes *on = ud;

    (void)i;
    if (on->who.username)
        cu->owner = &on->who;
    cu->notes = (char *)on->notes;
}

void dgt_create_customers(dg_client *c, int n, const char *prefix, const char *owner,
                          const char *notes)
{
    struct owner_notes on = {DANGAN__V1__USER_REF__INIT, notes};

    on.who.username = (char *)owner;
    dgt_create_customers_with(c, n, prefix, fill_owner_notes, &on);
}
