// SPDX-License-Identifier: GPL-2.0
/*
 * Creating the output files safely (outfile.h).  The program runs as root
 * and may be told to write into a directory that someone else can write
 * (the metrics into node_exporter's textfile directory, a report into a
 * shared CI directory): whatever is found at the name must not redirect
 * the write (a symbolic link) or be destroyed by it (a device node, which
 * rename() would replace and O_TRUNC would not stop at).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

static const char *file_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISCHR(mode))
		return "a character device";
	return "not a regular file";
}

/* written in place: a file, or a character device such as /dev/null or a terminal */
static bool writable_in_place(mode_t mode)
{
	return S_ISREG(mode) || S_ISCHR(mode);
}

static int refuse(const char *path, const char *what, mode_t mode, const char *instead,
		  char *err, size_t errlen)
{
	snprintf(err, errlen, "%s %s: it is %s, not a regular file: refusing to %s it", what, path,
		 file_kind(mode), instead);
	return -1;
}

/*
 * An existing file, opened without following a link and without blocking
 * on a FIFO.  O_CREAT stays so that the kernel's fs.protected_regular and
 * protected_fifos still keep root out of another user's file in a sticky
 * directory, as they did for fopen().
 */
static int open_existing(const char *path, const char *what, bool append, mode_t mode,
			 char *err, size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
		    (append ? O_APPEND : 0);
	struct stat st;
	int fd, fl;

	fd = open(path, flags, mode);
	if (fd < 0) {
		int why = errno;

		if (!lstat(path, &st) && !writable_in_place(st.st_mode))
			return refuse(path, what, st.st_mode, "write", err, errlen);
		snprintf(err, errlen, "cannot open %s (%s): %s", path, what, strerror(why));
		return -1;
	}
	/* what was opened, not what a racing rename left at the name */
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "cannot open %s (%s): %s", path, what, strerror(errno));
		close(fd);
		return -1;
	}
	if (!writable_in_place(st.st_mode)) {
		close(fd);
		return refuse(path, what, st.st_mode, "write", err, errlen);
	}
	if (S_ISREG(st.st_mode) && !append && ftruncate(fd, 0)) {
		snprintf(err, errlen, "cannot truncate %s (%s): %s", path, what, strerror(errno));
		close(fd);
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		snprintf(err, errlen, "cannot open %s (%s): %s", path, what, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int da_outfile_open(const char *path, const char *what, bool append, mode_t mode, char *err,
		    size_t errlen)
{
	int fd;

	/* absent: created here, exclusively (a link at the name makes this fail, EEXIST) */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd >= 0)
		return fd;
	if (errno != EEXIST) {
		snprintf(err, errlen, "cannot open %s: %s (cannot create it for %s)", path,
			 strerror(errno), what);
		return -1;
	}
	return open_existing(path, what, append, mode, err, errlen);
}

FILE *da_outfile_fopen(const char *path, const char *what, bool append, char *err,
		       size_t errlen)
{
	int fd = da_outfile_open(path, what, append, 0644, err, errlen);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, append ? "ae" : "we");
	if (!f) {
		snprintf(err, errlen, "cannot open %s (%s): %s", path, what, strerror(errno));
		close(fd);
	}
	return f;
}

int da_outfile_check_replaceable(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return refuse(path, what, st.st_mode, "replace", err, errlen);
	return 0;
}

FILE *da_outfile_replace_begin(const char *path, char *tmp, size_t tmplen, char *err,
			       size_t errlen)
{
	char dir[PATH_MAX], base[PATH_MAX];
	FILE *f;
	int fd;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    snprintf(base, sizeof(base), "%s", path) >= (int)sizeof(base) ||
	    snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dirname(dir), basename(base)) >= (int)tmplen) {
		snprintf(err, errlen, "%s: name too long", path);
		return NULL;
	}
	/* a new name no one else can have planted anything at (O_EXCL inside) */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: no new file in its directory: %s", path,
			 strerror(errno));
		return NULL;
	}
	/* readable by the exporter that collects it (mkostemp makes it 0600) */
	if (fchmod(fd, 0644) || !(f = fdopen(fd, "we"))) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return NULL;
	}
	return f;
}

int da_outfile_replace_commit(FILE *f, const char *tmp, const char *path, char *err,
			      size_t errlen)
{
	int bad = ferror(f);

	errno = 0;
	if (fclose(f) || bad) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	/* checked again: the name may have changed since the start */
	if (da_outfile_check_replaceable(path, "--metrics", err, errlen)) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- outputs that would be the same file ---- */

struct out_key {
	bool exists, chardev;
	dev_t dev;
	ino_t ino;
	char name[PATH_MAX + NAME_MAX + 2]; /* the real directory + "/" + name, when absent */
};

static void out_key(const char *path, struct out_key *k)
{
	char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (!stat(path, &st)) {
		k->exists = true;
		k->chardev = S_ISCHR(st.st_mode);
		k->dev = st.st_dev;
		k->ino = st.st_ino;
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	if (realpath(dirname(dir), real))
		snprintf(k->name, sizeof(k->name), "%s/%s", real, basename(base));
	else
		snprintf(k->name, sizeof(k->name), "%s", path);
}

static bool same_output(const char *a, const char *b)
{
	struct out_key ka, kb;

	out_key(a, &ka);
	out_key(b, &kb);
	if (ka.chardev || kb.chardev)
		return false;
	if (!strcmp(a, b))
		return true;
	if (ka.exists != kb.exists)
		return false;
	if (ka.exists)
		return ka.dev == kb.dev && ka.ino == kb.ino;
	return !strcmp(ka.name, kb.name);
}

static bool named(const char *path)
{
	return path && *path && strcmp(path, "-");
}

int da_outfiles_distinct(const char *const paths[], const char *const whats[], unsigned int n,
			 char *err, size_t errlen)
{
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int j = i + 1; j < n && named(paths[i]); j++) {
			if (!named(paths[j]) || !same_output(paths[i], paths[j]))
				continue;
			snprintf(err, errlen,
				 "%s %s and %s %s are the same file: one would destroy the other",
				 whats[i], paths[i], whats[j], paths[j]);
			return -1;
		}
	}
	return 0;
}
