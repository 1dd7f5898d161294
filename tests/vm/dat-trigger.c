// SPDX-License-Identifier: GPL-2.0
/*
 * dat-trigger [--status FILE] SCENARIO
 *
 * Run one scenario of the test module (tests/kmod) by writing its name to
 * /sys/kernel/debug/dmabuf_audit_test/run.  The module runs the scenario in
 * this process's write() and fails it when the scenario could not do what it
 * is meant to (see the module's log).  Exit 0 when the scenario ran, 1 when
 * it failed, 2 on a usage error.  With --status, "ok" or "error ERRNO TEXT"
 * is also written to FILE: the guest runner keeps the scenario's own status
 * apart from dmabuf-audit's exit status.  Built static for the initramfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RUN_FILE "/sys/kernel/debug/dmabuf_audit_test/run"

static void write_status(const char *path, int err)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "dat-trigger: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	if (err)
		fprintf(f, "error %d %s\n", err, strerror(err));
	else
		fprintf(f, "ok\n");
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *status = NULL, *name;
	ssize_t n;
	int fd, err = 0;

	if (argc == 4 && !strcmp(argv[1], "--status")) {
		status = argv[2];
		name = argv[3];
	} else if (argc == 2) {
		name = argv[1];
	} else {
		fprintf(stderr, "usage: dat-trigger [--status FILE] SCENARIO\n");
		return 2;
	}
	fd = open(RUN_FILE, O_WRONLY);
	if (fd < 0) {
		err = errno;
		fprintf(stderr, "dat-trigger: %s: %s (is dmabuf_audit_test.ko loaded?)\n", RUN_FILE,
			strerror(err));
	} else {
		n = write(fd, name, strlen(name));
		if (n < 0) {
			err = errno;
			fprintf(stderr, "dat-trigger: scenario %s failed: %s%s\n", name,
				strerror(err),
				err == ENOENT ? " (no such scenario)" : " (see the kernel log)");
		}
		close(fd);
	}
	write_status(status, err);
	if (!err)
		printf("dat-trigger: scenario %s ran\n", name);
	return err ? 1 : 0;
}
