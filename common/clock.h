/* clock.h - wall and monotonic time in milliseconds, ISO-8601 formatting. Any thread.
 *
 * Every reading of time in the server goes through here, which makes this the
 * one seam through which tests drive time. A build with DG_CLOCK_DRIVEN (the
 * test-only dangand-test, tests/tests.cmake; never installed) adds to every
 * reading an offset in ms that the test controls: the file named by the
 * environment's DANGAN_TEST_CLOCK holds it as one int64 in host byte order,
 * mapped shared, so a test moves the clock with one atomic store into its own
 * mapping (tests/lib/fixture.c: dgt_clock_advance). Without the variable the
 * offset is 0. Production builds read the system clocks only.
 */
#ifndef DG_CLOCK_H
#define DG_CLOCK_H

#include <stdbool.h>
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
/* True only in a build with DG_CLOCK_DRIVEN: a test drives this clock, and
 * the server lets it run its periodic sweep on demand (server.c, SIGUSR1). */
bool dg_clock_is_driven(void);

#endif
