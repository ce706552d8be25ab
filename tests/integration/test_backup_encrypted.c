/* test_backup_encrypted.c - dangand backup --encrypt and the restore of an
 * encrypted backup, against a real server over real TLS: the file holds
 * none of the database's plaintext (a customer's name, a bank account, the
 * SQLite header) while a plain backup of the same data does; a wrong
 * passphrase is refused and the data directory stays byte for byte as it
 * was; the right one restores, with an intact audit chain; a file with a
 * bit flipped, chunks swapped, cut short or extended is refused; a key file
 * works in place of a passphrase and must be private. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

#define NAME "明文绝不外泄有限公司"
#define ACCOUNT "6222021234567890123"
#define PASSPHRASE "correct horse battery staple\n"
#define CHUNK (1u << 20)
#define CHUNK_RECORD (4 + CHUNK + 16)

static dgt_server srv;
static char sealed[400];

static void fill(Dangan__V1__Customer *cu, int i, void *ud)
{
    (void)i;
    (void)ud;
    cu->bank_account = ACCOUNT;
}

/* The whole file at `path` (free it); its size in *len. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    p = malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static bool file_has(const char *path, const char *needle)
{
    size_t len;
    char *p = slurp(path, &len);
    bool has = memmem(p, len, needle, strlen(needle)) != NULL;

    free(p);
    return has;
}

static void dangand_with_input(dgt_run *r, const char *input, const char *const *argv)
{
    dgt_run_program(r, DANGAND_PATH, input, argv);
}

static void restore(dgt_run *r, const char *from, const char *input)
{
    const char *argv[] = {"restore", "--data", srv.data, "--from", from, NULL};

    dangand_with_input(r, input, argv);
}

/* Entries of the data directory whose names start with `prefix`. */
static int count_in_data_dir(const char *prefix)
{
    DIR *d = opendir(srv.data);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* A copy of the sealed backup at `to`, changed by `change` (may be NULL). */
static void copy_sealed(const char *to, void (*change)(char *p, size_t *len))
{
    size_t len;
    char *p = slurp(sealed, &len);
    FILE *f;

    if (change)
        change(p, &len);
    assert_non_null(f = fopen(to, "wb"));
    assert_int_equal(fwrite(p, 1, len, f), len);
    fclose(f);
    free(p);
}

static void flip_bit(char *p, size_t *len)
{
    p[*len / 2] ^= 0x10;
}

static void swap_first_chunks(char *p, size_t *len)
{
    char *tmp = malloc(CHUNK_RECORD);

    assert_true(*len > 64 + 2 * CHUNK_RECORD);
    memcpy(tmp, p + 64, CHUNK_RECORD);
    memmove(p + 64, p + 64 + CHUNK_RECORD, CHUNK_RECORD);
    memcpy(p + 64 + CHUNK_RECORD, tmp, CHUNK_RECORD);
    free(tmp);
}

static void cut_last_chunk(char *p, size_t *len)
{
    (void)p;
    *len = 64 + ((*len - 64) / CHUNK_RECORD) * CHUNK_RECORD; /* whole chunks only */
}

static void cut_mid_chunk(char *p, size_t *len)
{
    (void)p;
    *len -= 100;
}

static void append_byte(char *p, size_t *len)
{
    p[(*len)++] = 0;
}

static void test_encrypted_backup_holds_no_plaintext(void **state)
{
    static dgt_run r;
    char plain[400], notes[8001];
    const char *enc[] = {"backup", "--data", srv.data, "--to", sealed, "--encrypt", NULL};
    const char *pl[] = {"backup", "--data", srv.data, "--to", plain, NULL};
    dg_client *admin = dgt_login(&srv, "admin", srv.admin_password);
    struct stat sb;

    (void)state;
    dgt_create_customers_with(admin, 1, NAME, fill, NULL);
    /* several MiB, so the backup spans several chunks */
    memset(notes, 'n', sizeof notes - 1);
    notes[sizeof notes - 1] = '\0';
    for (int i = 0; i < 4; i++) {
        char prefix[32];

        snprintf(prefix, sizeof prefix, "填充%d-", i);
        dgt_create_customers(admin, 100, prefix, NULL, notes);
    }
    dg_client_close(admin);

    snprintf(sealed, sizeof sealed, "%s/backup.dgbk", srv.root);
    dangand_with_input(&r, PASSPHRASE, enc);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Encrypted backup written and verified"));
    assert_int_equal(stat(sealed, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_true(sb.st_size > 64 + 2 * CHUNK_RECORD);
    /* the same data, unencrypted, has all three: the search is not vacuous */
    snprintf(plain, sizeof plain, "%s/plain.db", srv.root);
    dgt_dangand(&r, pl);
    assert_int_equal(r.status, 0);
    assert_true(file_has(plain, NAME) && file_has(plain, ACCOUNT));
    assert_true(file_has(plain, "SQLite format 3"));
    assert_false(file_has(sealed, NAME));
    assert_false(file_has(sealed, ACCOUNT));
    assert_false(file_has(sealed, "SQLite format 3"));
    assert_false(file_has(sealed, "customers"));
    /* the plain copy made on the way is gone */
    assert_int_equal(count_in_data_dir("dangan.db.backup-"), 0);
}

static void test_new_passphrase_must_be_long_enough(void **state)
{
    static dgt_run r;
    char to[400];
    const char *argv[] = {"backup", "--data", srv.data, "--to", to, "--encrypt", NULL};

    (void)state;
    snprintf(to, sizeof to, "%s/short.dgbk", srv.root);
    dangand_with_input(&r, "short\n", argv);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "at least"));
    assert_int_equal(access(to, F_OK), -1);
}

static void test_wrong_passphrase_changes_nothing(void **state)
{
    static dgt_run r;
    char db[400];
    size_t before_len, after_len;
    char *before, *after;

    (void)state;
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    dgt_db_path(&srv, db, sizeof db);
    before = slurp(db, &before_len);
    restore(&r, sealed, "not the passphrase\n");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "wrong passphrase or key file"));
    restore(&r, sealed, NULL); /* none at all */
    assert_int_equal(r.status, 1);
    after = slurp(db, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
    assert_int_equal(count_in_data_dir("before-restore-"), 0);
    assert_int_equal(count_in_data_dir("dangan.db.restoring"), 0);
    dgt_server_restart_same_port(&srv);
}

static void test_changed_encrypted_backup_is_refused(void **state)
{
    static const struct {
        void (*change)(char *p, size_t *len);
        bool keep_checksum;
        const char *says;
    } cases[] = {
        {flip_bit, true, "does not match its checksum"},
        {flip_bit, false, "damaged or was changed"},
        {swap_first_chunks, false, "damaged or was changed"},
        {cut_last_chunk, false, "cut short"},
        {cut_mid_chunk, false, "cut short"},
        {append_byte, false, "damaged or was changed"},
    };
    static dgt_run r;
    char bad[450], sum[500], cmd[1200];

    (void)state;
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    snprintf(bad, sizeof bad, "%s/bad.dgbk", srv.root);
    snprintf(sum, sizeof sum, "%s.sha256", bad);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_sealed(bad, NULL);
        snprintf(cmd, sizeof cmd, "cd %s && sha256sum bad.dgbk > bad.dgbk.sha256", srv.root);
        assert_int_equal(system(cmd), 0);
        copy_sealed(bad, cases[i].change);
        if (!cases[i].keep_checksum)
            assert_int_equal(unlink(sum), 0);
        restore(&r, bad, PASSPHRASE);
        if (r.status != 1 || !strstr(r.err, cases[i].says))
            fail_msg("case %zu: exit %d, %s", i, r.status, r.err);
        (void)unlink(sum);
    }
    assert_int_equal(count_in_data_dir("before-restore-"), 0);
    assert_int_equal(count_in_data_dir("dangan.db.restoring"), 0);
    dgt_server_restart_same_port(&srv);
}

static void test_right_passphrase_restores(void **state)
{
    static dgt_run r;
    const char *verify[] = {"audit-verify", "--data", srv.data, NULL};
    dg_client *admin;

    (void)state;
    admin = dgt_login(&srv, "admin", srv.admin_password);
    dgt_create_customers(admin, 1, "加密备份之后公司", NULL, NULL);
    dg_client_close(admin);
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    restore(&r, sealed, PASSPHRASE);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "new feed epoch"));
    assert_int_equal(count_in_data_dir("dangan.db.restoring"), 0);
    dgt_dangand(&r, verify);
    assert_int_equal(r.status, 0);
    dgt_server_restart_same_port(&srv);
    admin = dgt_login(&srv, "admin", srv.admin_password);
    assert_int_equal(dgt_count_named(admin, NAME "00000"), 1);
    assert_int_equal(dgt_count_named(admin, "加密备份之后公司00000"), 0);
    dg_client_close(admin);
}

static void test_key_file_in_place_of_a_passphrase(void **state)
{
    static dgt_run r;
    char key[400], to[400], cmd[1000];
    const char *backup[] = {"backup", "--data", srv.data, "--to", to, "--key-file", key, NULL};
    const char *rest[] = {"restore", "--data", srv.data, "--from", to, "--key-file", key, NULL};

    (void)state;
    snprintf(key, sizeof key, "%s/backup.key", srv.root);
    snprintf(to, sizeof to, "%s/keyed.dgbk", srv.root);
    snprintf(cmd, sizeof cmd, "head -c 32 /dev/urandom | base64 > %s && chmod 644 %s", key, key);
    assert_int_equal(system(cmd), 0);
    dgt_dangand(&r, backup);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "chmod 600"));
    assert_int_equal(chmod(key, 0600), 0);
    dgt_dangand(&r, backup);
    assert_int_equal(r.status, 0);
    assert_false(file_has(to, "SQLite format 3"));
    assert_int_equal(dgt_server_stop_keep(&srv), 0);
    restore(&r, to, PASSPHRASE); /* a passphrase is not the key */
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "wrong passphrase or key file"));
    dgt_dangand(&r, rest);
    assert_int_equal(r.status, 0);
    dgt_server_restart_same_port(&srv);
}

static int setup(void **state)
{
    (void)state;
    dgt_server_start(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dgt_server_stop(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypted_backup_holds_no_plaintext),
        cmocka_unit_test(test_new_passphrase_must_be_long_enough),
        cmocka_unit_test(test_wrong_passphrase_changes_nothing),
        cmocka_unit_test(test_changed_encrypted_backup_is_refused),
        cmocka_unit_test(test_right_passphrase_restores),
        cmocka_unit_test(test_key_file_in_place_of_a_passphrase),
    };

    return cmocka_run_group_tests_name("backup_encrypted", tests, setup, teardown);
}
