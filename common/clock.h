/* clock.h - wall and monotonic time in milliseconds, ISO-8601 formatting. Any thread. */
#ifndef DG_CLOCK_H
#define DG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Unix time in ms (UTC): timestamps that are stored or sent. */
int64_t dg_now_ms(void);
/* Unix time in µs: instants compared across processes (commit-to-receipt). */
int64_t dg_now_us(void);
/* Monotonic ms: deadlines and durations. */
int64_t dg_mono_ms(void);
/* Monotonic µs, for latency measurements. */
int64_t dg_mono_us(void);
/* "2026-11-22T10:15:03.412Z" into buf (needs 25 bytes). Returns buf. */
char *dg_iso8601_utc(int64_t unix_ms, char *buf, size_t len);

#endif
