/* prompt.c - asking the user: secrets without echo, lines, yes/no. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

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
    if (!fgets(buf, (int)len, tty))
        rc = DG_EIO;
    else
        buf[strcspn(buf, "\r\n")] = '\0';
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
    if (!fgets(buf, (int)len, stdin))
        return DG_ENOTFOUND;
    buf[strcspn(buf, "\r\n")] = '\0';
    return DG_OK;
}

bool cli_confirm(const char *prompt)
{
    char answer[16];

    if (read_tty(prompt, answer, sizeof answer, true) != DG_OK)
        return false;
    return answer[0] == 'y' || answer[0] == 'Y';
}
