/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The files this program writes (-o, --record, --timeline, --metrics),
 * usually as root and sometimes into a directory another user or package
 * can write: created without following a planted link, never replacing
 * something that is not a regular file, and never two of them the same
 * file.  The rules are the man page's FILES section.
 */
#ifndef DMABUF_AUDIT_OUTFILE_H
#define DMABUF_AUDIT_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * A file written in place (-o, --record, --timeline): created if absent
 * (exclusively, so a link planted after the check is not followed), else
 * opened without following a symbolic link and truncated (append: not
 * truncated, for reopening after log rotation).  A regular file or a
 * character device (/dev/null, a terminal) is accepted; a symbolic link, a
 * directory, a FIFO, a socket or a block device is refused.  `what` names
 * the option in the message; `mode` is that of a file created here.  The
 * file descriptor, or -1 with err set.
 */
int da_outfile_open(const char *path, const char *what, bool append, mode_t mode, char *err,
		    size_t errlen);
/* the same as a stdio stream ("we"/"ae") */
FILE *da_outfile_fopen(const char *path, const char *what, bool append, char *err,
		       size_t errlen);

/*
 * A file replaced whole by rename (--metrics): it may be absent or a
 * regular file, nothing else (rename would replace a device node or a
 * link).  0, or -1 with err set.
 */
int da_outfile_check_replaceable(const char *path, const char *what, char *err, size_t errlen);

/*
 * Start a replacement of path: a new file with a unique name in path's
 * directory (".NAME.XXXXXX", mode 0644), written through the stream
 * returned; tmp (its name) must hold PATH_MAX bytes.  NULL with err set.
 */
FILE *da_outfile_replace_begin(const char *path, char *tmp, size_t tmplen, char *err,
			       size_t errlen);
/*
 * Close the stream and rename tmp over path, when path is still absent or a
 * regular file; on any failure tmp is removed.  0, or -1 with err set.
 */
int da_outfile_replace_commit(FILE *f, const char *tmp, const char *path, char *err,
			      size_t errlen);

/*
 * Outputs that are the same file (the same name, or the same inode when
 * both exist; character devices such as /dev/null excepted): -1 with err
 * naming both options, else 0.  NULL and "-" entries are skipped.
 */
int da_outfiles_distinct(const char *const paths[], const char *const whats[], unsigned int n,
			 char *err, size_t errlen);

#endif /* DMABUF_AUDIT_OUTFILE_H */
