// SPDX-License-Identifier: GPL-2.0
/*
 * The sd_notify side of src/service/systemd.c, driven by tests/service/run.py
 * (which owns the sockets and checks what arrives):
 *   test_notify STATE...   da_sd_notify(STATE) for each, prints each return
 *   test_notify --watchdog prints da_sd_watchdog_usec()
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "systemd.h"

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--watchdog")) {
		printf("%" PRIu64 "\n", da_sd_watchdog_usec());
		return 0;
	}
	for (int i = 1; i < argc; i++)
		printf("%d\n", da_sd_notify(argv[i]));
	return 0;
}
