/* walbuf.h - an SQLite VFS ("dangan") that writes a WAL commit to the file
 * in one system call instead of two per page. See walbuf.c. */
#ifndef DG_WALBUF_H
#define DG_WALBUF_H

#define DG_WALBUF_VFS "dangan"

/* Registers the VFS (not as the default) over SQLite's default one. Once,
 * before opening connections that name it. An SQLite result code. */
int dg_walbuf_register(void);

#endif
