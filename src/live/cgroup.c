// SPDX-License-Identifier: GPL-2.0
/*
 * Naming a cgroup id (include/dmabuf_audit/cgroup.h) on this host.
 *
 * A cgroup v2 id is the kernfs node id of its directory, and kernfs
 * exports it as a file handle (FILEID_KERNFS, the 64-bit id): one
 * open_by_handle_at() on the cgroup2 mount opens the directory whatever its
 * depth, and /proc/self/fd names it.  No walk of the hierarchy, no cache to
 * keep in step with it; a cgroup removed meanwhile fails with ESTALE and
 * stays unnamed (its id is still shown).  open_by_handle_at() needs
 * CAP_DAC_READ_SEARCH: without it (a unit that does not grant it) the
 * hierarchy is walked for the directory whose inode number is the id (on
 * 64-bit hosts kernfs gives a directory its id as inode number), once per
 * cgroup, never per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "dmabuf_audit/cgroup.h"
#include "live.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
/* include/linux/exportfs.h: the handle type of kernfs (cgroup) files */
#define DA_FILEID_KERNFS 0xfe

struct cgroup_mount {
	int fd;
	char path[64];
};

static struct cgroup_mount mnt = { .fd = -1 };

/* the cgroup2 mount: /sys/fs/cgroup (unified), or its "unified" part (hybrid) */
static int open_mount(void)
{
	static const char *const where[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sfs;

	if (mnt.fd >= 0)
		return 0;
	for (unsigned int i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		if (statfs(where[i], &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		mnt.fd = open(where[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mnt.fd < 0)
			continue;
		snprintf(mnt.path, sizeof(mnt.path), "%s", where[i]);
		return 0;
	}
	return -1;
}

/* cgroup trees are shallow; a deeper one is not searched further */
#define WALK_MAX_DEPTH 24

/* the directory under dir[len] (a path below the mount) whose inode is id: 0, or -1 */
static int walk(char *dir, size_t dirlen, size_t cap, uint64_t id, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int found = -1;

	if (depth > WALK_MAX_DEPTH)
		return -1;
	d = opendir(dir);
	if (!d)
		return -1;
	while (found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || dirlen + 1 + n >= cap)
			continue;
		dir[dirlen] = '/';
		memcpy(dir + dirlen + 1, de->d_name, n + 1);
		if (!stat(dir, &st) && (uint64_t)st.st_ino == id)
			found = 0;
		else
			found = walk(dir, dirlen + 1 + n, cap, id, depth + 1);
		if (found)
			dir[dirlen] = '\0';
	}
	closedir(d);
	return found;
}

static int resolve_by_walk(uint64_t id, char *target, size_t cap)
{
	struct stat st;

	snprintf(target, cap, "%s", mnt.path);
	if (!stat(target, &st) && (uint64_t)st.st_ino == id)
		return 0;
	return walk(target, strlen(target), cap, id, 0);
}

int da_live_cgroup_resolve(void *ctx, uint64_t id, char *path, size_t len)
{
	union {
		struct file_handle fh;
		char bytes[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[32], target[DA_CGROUP_PATH_LEN + 64];
	size_t mlen;
	ssize_t n;
	int fd;

	(void)ctx;
	if (open_mount())
		return -1;
	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = DA_FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(mnt.fd, &h.fh, O_RDONLY | O_PATH | O_CLOEXEC);
	if (fd < 0 && errno != EPERM)
		return -1;	/* ESTALE: the cgroup is gone */
	if (fd < 0) {
		if (resolve_by_walk(id, target, sizeof(target)))
			return -1;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		close(fd);
		if (n <= 0 || (size_t)n >= sizeof(target) - 1)
			return -1;
		target[n] = '\0';
	}
	mlen = strlen(mnt.path);
	if (strncmp(target, mnt.path, mlen) || (target[mlen] && target[mlen] != '/'))
		return -1;
	/* the root cgroup is the mount itself */
	snprintf(path, len, "%s", target[mlen] ? target + mlen : "/");
	return strlen(target + mlen) < len ? 0 : -1;
}
