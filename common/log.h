/* log.h - one event per line on stderr.
 *
 * Line format: `<ISO time> <level> <module> <fields>`, where fields are
 * key=value pairs and msg="..." chosen by the caller, e.g.
 *   2026-11-22T10:15:03.412Z warn conn conn=412 peer=127.0.0.1:53122 msg="frame over limit"
 * len=16777215 Control characters anywhere in the line are escaped as \xNN, so a peer cannot forge
 * log lines. Never log passwords, tokens, keys or personal fields. The level is set once at startup
 * (before threads start) and only read after. Each line is written with one write(2), so lines from
 * threads don't mix.
 */
#ifndef DG_LOG_H
#define DG_LOG_H

#include <stdbool.h>

enum dg_log_level { DG_LOG_DEBUG = 0, DG_LOG_INFO = 1, DG_LOG_WARN = 2, DG_LOG_ERROR = 3 };

/* Call once, before other threads exist. Default: info. */
void dg_log_set_level(enum dg_log_level level);
bool dg_log_enabled(enum dg_log_level level);
/* "debug", "info", "warn", "error" → *out. DG_OK or DG_EINVAL. */
int dg_log_level_parse(const char *name, enum dg_log_level *out);

void dg_log(enum dg_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define dg_log_debug(mod, ...)                                                                     \
    do {                                                                                           \
        if (dg_log_enabled(DG_LOG_DEBUG))                                                          \
            dg_log(DG_LOG_DEBUG, mod, __VA_ARGS__);                                                \
    } while (0)
#define dg_log_info(mod, ...) dg_log(DG_LOG_INFO, mod, __VA_ARGS__)
#define dg_log_warn(mod, ...) dg_log(DG_LOG_WARN, mod, __VA_ARGS__)
#define dg_log_error(mod, ...) dg_log(DG_LOG_ERROR, mod, __VA_ARGS__)

#endif
