/* prompt.c - asking the user: secrets without echo, lines, yes/no. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* Reads one line of `f` into buf without its newline. A line that does not
 * fit is read to its end and refused with DG_ETOOBIG (buf then empty), never
 * cut short: a password cut at the buffer would be a different password, and
 * its rest would be read as the next line. */
static int read_line(FILE *f, char *buf, size_t len)
{
    size_t n;
    int ch;

    if (!fgets(buf, (int)len, f))
        return DG_ENOTFOUND;
    n = strcspn(buf, "\r\n");
    if (buf[n] || n + 1 < len || feof(f)) {
        buf[n] = '\0';
        return DG_OK;
    }
    while ((ch = fgetc(f)) != EOF && ch != '\n')
        ;
    buf[0] = '\0';
    return DG_ETOOBIG;
}

static int read_tty(const char *prompt, char *buf, size_t len, bool echo)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios old, quiet;
    bool changed = false;
    int rc = DG_OK;

    if (!tty)
        return DG_EIO;
    fputs(prompt, tty);
    fflush(tty);
    if (!echo && tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        changed = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
    }
    rc = read_line(tty, buf, len);
    if (rc == DG_ENOTFOUND)
        rc = DG_EIO;
    if (changed) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
    }
    fclose(tty);
    return rc;
}

int cli_read_secret(const char *prompt, char *buf, size_t len)
{
    return read_tty(prompt, buf, len, false);
}

int cli_read_text(const char *prompt, char *buf, size_t len)
{
    return read_tty(prompt, buf, len, true);
}

int cli_read_line(char *buf, size_t len)
{
    return read_line(stdin, buf, len);
}

bool cli_confirm(const char *prompt)
{
    char answer[16];

    if (read_tty(prompt, answer, sizeof answer, true) != DG_OK)
        return false;
    return answer[0] == 'y' || answer[0] == 'Y';
}
