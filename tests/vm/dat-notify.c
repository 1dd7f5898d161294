// SPDX-License-Identifier: GPL-2.0
/*
 * dat-notify SOCKET OUT
 *
 * What systemd does with a Type=notify service's messages, reduced to what a
 * test needs: bind a datagram socket at SOCKET (the service's NOTIFY_SOCKET),
 * and append each message received to OUT as one line (its newlines written
 * as '|'), flushed at once so that the guest runner can wait for READY=1.
 * Ends after a message with STOPPING=1, or when killed.  Written from
 * sd_notify(3), not from dmabuf-audit's sender.  Built static for the
 * initramfs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char msg[4097];
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: dat-notify SOCKET OUT\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "dat-notify: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	out = fopen(argv[2], "a");
	if (!out) {
		fprintf(stderr, "dat-notify: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "dat-notify: recv: %s\n", strerror(errno));
			return 1;
		}
		msg[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (msg[i] == '\n')
				msg[i] = '|';
		fprintf(out, "%s\n", msg);
		fflush(out);
		if (strstr(msg, "STOPPING=1"))
			return 0;
	}
}
