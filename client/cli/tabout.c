/* tabout.c - CSV cells that stay text in a spreadsheet, and the progress
 * bar. See tabout.h. */
#include "tabout.h"

#include <string.h>

#include "clock.h"

bool cli_cell_is_risky(const char *s)
{
    return s[0] && strchr("=+-@\t\r", s[0]) != NULL;
}

void cli_csv_cell(FILE *f, const char *s, bool first)
{
    bool is_risky = cli_cell_is_risky(s);

    if (!first)
        fputc(',', f);
    if (!is_risky && !s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (is_risky)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void cli_csv_end_row(FILE *f)
{
    fputs("\r\n", f);
}

void cli_progress_start(cli_progress *p, bool is_on, uint64_t total, const char *unit)
{
    *p = (cli_progress){.is_on = is_on, .total = total, .unit = unit};
    p->start_ms = dg_mono_ms();
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
    int64_t now = dg_mono_ms();
    double s = (double)(now - p->start_ms) / 1000.0, rate = s > 0 ? (double)done / s : 0;
    char bar[31];
    size_t fill;

    if (!p->is_on || now - p->drawn_ms < 100)
        return;
    p->drawn_ms = now;
    if (p->total) {
        fill = (size_t)(30 * (done > p->total ? p->total : done) / p->total);
        memset(bar, '#', fill);
        memset(bar + fill, '.', 30 - fill);
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %llu/%llu %s  %.0f %s/s  ETA %.0f s   ", bar,
                (unsigned long long)done, (unsigned long long)p->total, p->unit, rate, p->unit,
                rate > 0 && p->total > done ? (double)(p->total - done) / rate : 0.0);
    } else {
        fprintf(stderr, "\r%llu %s  %.0f %s/s   ", (unsigned long long)done, p->unit, rate,
                p->unit);
    }
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->is_on && p->drawn_ms)
        fputs("\r\033[K", stderr);
}
