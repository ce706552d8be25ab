/* walid.c - the owner records of a database's WAL, and reading a WAL the
 * way SQLite's recovery does (see walid.h). SQLite's WAL format: a 32-byte
 * header (magic 0x377f0682/3, whose low bit says the checksum's byte order;
 * version 3007000; page size; checkpoint count; two salts; a checksum of the
 * first 24 bytes), then frames, each a 24-byte header and a page. A frame is
 * valid when it carries the header's salts and its checksum continues the
 * chain from the header through every earlier frame.
 *
 * Owns nothing between calls. Plain reads and writes of the files; no
 * SQLite.
 */
#include "walid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg.h"

/* A frame: a 24-byte header (page number, database size after a commit or
 * 0, the two salts, the two checksum words), then the page. */
#define FRAME_HEADER_LEN 24

/* DB-walid holds two 64-byte records, at 0 and 512 (different sectors, so
 * a torn write spoils at most the one being written):
 *   0  "DGWALID1"
 *   8  generation, u64 big-endian: the record at (generation % 2) * 512
 *  16  the WAL header's salt-1 and salt-2, as they are in the header
 *  24  the database's application id (header offset 68), u32 big-endian
 *  28  the page size, u32 big-endian
 *  32  FNV-1a 64 of bytes 0..31, big-endian
 * A new generation overwrites the older record and is synced before the
 * WAL header that it names is written: whichever of the two headers a
 * crash leaves in the WAL, a record names it. */
#define WALID_MAGIC "DGWALID1"
#define WALID_SLOT_LEN 64
#define WALID_STRIDE 512

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Reads the records of `path`: n_valid of them land in out[]. */
static int walid_read(const char *path, dg_walid out[2], int *n_valid)
{
    uint8_t buf[WALID_STRIDE + WALID_SLOT_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    *n_valid = 0;
    if (fd < 0)
        return errno == ENOENT ? DG_OK : DG_EIO;
    n = pread(fd, buf, sizeof buf, 0);
    close(fd);
    if (n < 0)
        return DG_EIO;
    for (size_t at = 0; at + WALID_SLOT_LEN <= (size_t)n; at += WALID_STRIDE) {
        const uint8_t *r = buf + at;

        if (memcmp(r, WALID_MAGIC, 8) != 0 || get64(r + 32) != fnv1a64(r, 32))
            continue;
        out[*n_valid] = (dg_walid){.generation = get64(r + 8),
                                   .salt = {get32(r + 16), get32(r + 20)},
                                   .app_id = get32(r + 24),
                                   .page_size = get32(r + 28)};
        (*n_valid)++;
    }
    return DG_OK;
}

static int errno_err(int e)
{
    return e == ENOSPC || e == EDQUOT ? DG_ENOSPC : DG_EIO;
}

/* fsyncs the directory holding `path`, so a new name in it survives a crash. */
static int sync_dir_of(const char *path)
{
    char dir[4096];
    char *slash;
    int fd, rc;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return DG_EIO;
    rc = fsync(fd) == 0 ? DG_OK : errno_err(errno);
    close(fd);
    return rc;
}

int dg_walid_record(const char *wal_path, const uint8_t wal_header[DG_WAL_HEADER_LEN],
                    uint32_t app_id)
{
    char path[4096];
    uint8_t slot[WALID_SLOT_LEN] = {0};
    dg_walid have[2];
    uint64_t gen = 1;
    int n_valid, fd, rc;
    bool is_new;

    if ((size_t)snprintf(path, sizeof path, "%sid", wal_path) >= sizeof path)
        return DG_EIO;
    if ((rc = walid_read(path, have, &n_valid)) != DG_OK)
        return rc;
    for (int i = 0; i < n_valid; i++)
        if (have[i].generation >= gen)
            gen = have[i].generation + 1;
    memcpy(slot, WALID_MAGIC, 8);
    put64(slot + 8, gen);
    memcpy(slot + 16, wal_header + 16, 8);
    put32(slot + 24, app_id);
    memcpy(slot + 28, wal_header + 8, 4);
    put64(slot + 32, fnv1a64(slot, 32));
    is_new = access(path, F_OK) != 0;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return errno_err(errno);
    /* the older of the two records goes; the newer one stays */
    if (pwrite(fd, slot, sizeof slot, (off_t)(gen % 2) * WALID_STRIDE) != (ssize_t)sizeof slot ||
        fdatasync(fd) != 0) {
        int e = errno;

        close(fd);
        return errno_err(e);
    }
    close(fd);
    return is_new ? sync_dir_of(path) : DG_OK;
}

void dg_walid_forget(const char *wal_path)
{
    char path[4096];

    if ((size_t)snprintf(path, sizeof path, "%sid", wal_path) < sizeof path)
        (void)unlink(path); /* usually there; ENOENT is fine */
}

/* SQLite's WAL checksum over n bytes (a multiple of 8), continuing s[]. */
static void wal_checksum(bool is_big_endian, const uint8_t *p, size_t n, uint32_t s[2])
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint32_t x0, x1;

        if (is_big_endian) {
            x0 = get32(p + i);
            x1 = get32(p + i + 4);
        } else {
            x0 = (uint32_t)p[i + 3] << 24 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 1] << 8 |
                 p[i];
            x1 = (uint32_t)p[i + 7] << 24 | (uint32_t)p[i + 6] << 16 | (uint32_t)p[i + 5] << 8 |
                 p[i + 4];
        }
        s[0] += x0 + s[1];
        s[1] += x1 + s[0];
    }
}

/* Walks the frames as SQLite's recovery does: each must carry the header's
 * salts and continue the checksum chain; what recovery applies ends at the
 * last commit frame before the first that does not. */
static int scan_frames(int fd, dg_wal_info *wi, bool is_big_endian, uint32_t s[2])
{
    size_t frame_len = FRAME_HEADER_LEN + wi->page_size;
    uint8_t *frame = malloc(frame_len);
    off_t at = DG_WAL_HEADER_LEN;
    int rc = DG_OK;

    if (!frame)
        return DG_ENOMEM;
    for (;;) {
        ssize_t n = pread(fd, frame, frame_len, at);

        if (n < 0) {
            rc = DG_EIO;
            break;
        }
        if ((size_t)n < frame_len || get32(frame) == 0 || get32(frame + 8) != wi->salt[0] ||
            get32(frame + 12) != wi->salt[1])
            break;
        wal_checksum(is_big_endian, frame, 8, s);
        wal_checksum(is_big_endian, frame + FRAME_HEADER_LEN, wi->page_size, s);
        if (s[0] != get32(frame + 16) || s[1] != get32(frame + 20))
            break;
        wi->n_frames++;
        if (get32(frame + 4) != 0) { /* a commit frame */
            wi->n_committed = wi->n_frames;
            wi->n_commits++;
        }
        at += (off_t)frame_len;
    }
    free(frame);
    return rc;
}

int dg_wal_inspect(const char *db_path, dg_wal_info *wi)
{
    char path[4096];
    uint8_t hdr[DG_WAL_HEADER_LEN];
    uint32_t s[2] = {0, 0}, magic;
    struct stat sb;
    int fd, rc = DG_OK;
    bool is_big_endian;

    memset(wi, 0, sizeof *wi);
    if ((size_t)snprintf(path, sizeof path, "%s-walid", db_path) >= sizeof path)
        return DG_EIO;
    if ((rc = walid_read(path, wi->owners, &wi->n_owners)) != DG_OK)
        return rc;
    snprintf(path, sizeof path, "%s-wal", db_path);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? DG_OK : DG_EIO;
    wi->exists = true;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return DG_EIO;
    }
    wi->size = sb.st_size;
    if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) {
        close(fd);
        return DG_OK; /* no header: SQLite ignores the file */
    }
    magic = get32(hdr);
    is_big_endian = magic == 0x377f0683;
    wi->page_size = get32(hdr + 8);
    wi->salt[0] = get32(hdr + 16);
    wi->salt[1] = get32(hdr + 20);
    wal_checksum(is_big_endian, hdr, 24, s);
    wi->has_header = (magic == 0x377f0682 || magic == 0x377f0683) && get32(hdr + 4) == 3007000 &&
                     wi->page_size >= 512 && wi->page_size <= 65536 &&
                     (wi->page_size & (wi->page_size - 1)) == 0 && s[0] == get32(hdr + 24) &&
                     s[1] == get32(hdr + 28);
    if (wi->has_header)
        rc = scan_frames(fd, wi, is_big_endian, s);
    close(fd);
    return rc;
}
