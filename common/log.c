/* log.c - line-oriented logging to stderr with control-character escaping. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dg.h"

#define LINE_MAX_LEN 2048

static enum dg_log_level min_level = DG_LOG_INFO; /* set once at startup, read-only after */

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void dg_log_set_level(enum dg_log_level level)
{
    min_level = level;
}

bool dg_log_enabled(enum dg_log_level level)
{
    return level >= min_level;
}

int dg_log_level_parse(const char *name, enum dg_log_level *out)
{
    for (size_t i = 0; i < DG_ARRAY_LEN(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum dg_log_level)i;
            return DG_OK;
        }
    }
    return DG_EINVAL;
}

/* Copies `src` to `dst`, escaping control bytes; returns bytes written. */
static size_t escape_into(char *dst, size_t cap, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (; *src && n + 4 < cap; src++) {
        unsigned char c = (unsigned char)*src;

        if (c < 0x20 || c == 0x7f) {
            dst[n++] = '\\';
            dst[n++] = 'x';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 15];
        } else {
            dst[n++] = (char)c;
        }
    }
    return n;
}

void dg_log(enum dg_log_level level, const char *module, const char *fmt, ...)
{
    char fields[LINE_MAX_LEN];
    char line[LINE_MAX_LEN * 2];
    char when[32];
    va_list ap;
    int head;
    size_t n;

    if (!dg_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    head = snprintf(line, sizeof line, "%s %s %s ", dg_iso8601_utc(dg_now_ms(), when, sizeof when),
                    level_names[level], module);
    n = (size_t)head + escape_into(line + head, sizeof line - (size_t)head - 1, fields);
    line[n++] = '\n';
    /* One write per line; a short write to stderr is not worth a retry loop. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
