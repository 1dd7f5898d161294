/* SPDX-License-Identifier: GPL-2.0 */
/*
 * systemd's two small protocols, spoken without libsystemd (the static
 * binary runs where there is no systemd): sd_notify (READY=1, STATUS=,
 * WATCHDOG=1, STOPPING=1) and the journal's native protocol.  Both are
 * documented and stable: https://systemd.io/JOURNAL_NATIVE_PROTOCOL/ and
 * sd_notify(3).  docs/output.md "Service" says what `watch` sends.
 */
#ifndef DMABUF_AUDIT_SYSTEMD_H
#define DMABUF_AUDIT_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/pipeline.h"

/* ---- sd_notify ---- */

/*
 * Send `state` ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET (a path, or
 * "@name" for an abstract socket).  0 when sent, 1 when there is no
 * $NOTIFY_SOCKET (not started by systemd), -errno when it failed.
 */
int da_sd_notify(const char *state);
/*
 * The watchdog interval from $WATCHDOG_USEC (when $WATCHDOG_PID, if set,
 * is this process), in microseconds; 0 when there is none.
 */
uint64_t da_sd_watchdog_usec(void);

/* ---- the journal ---- */

#define DA_JOURNAL_SOCKET "/run/systemd/journal/socket"
/* the socket path the journal is reached at; this variable overrides it (tests) */
#define DA_JOURNAL_SOCKET_ENV "DMABUF_AUDIT_JOURNAL_SOCKET"

struct da_journal_field {
	const char *key; /* upper case letters, digits, '_' */
	const char *value;
	size_t len;
};

struct da_journal;

/* NULL with a message in err when the socket is not there or cannot be made */
struct da_journal *da_journal_open(char *err, size_t errlen);
void da_journal_close(struct da_journal *j);
/*
 * One entry: a datagram; an entry too big for one (EMSGSIZE) goes in a
 * sealed memfd passed with SCM_RIGHTS.  0, or -errno.
 */
int da_journal_send(struct da_journal *j, const struct da_journal_field *fields, unsigned int n);

/* ---- --log for the commands ---- */

/* does --log (auto: started by systemd, no -o, a journal socket) mean the journal */
bool da_log_to_journal(const struct da_opts *opts);
/*
 * Open the journal when --log says so, for the service configuration
 * below.  0, or -1 with a message on stderr (--log journal and no journal).
 */
int da_service_start(const struct da_opts *opts);
/* the same for watch and run: the events' pids are this host's (OBJECT_PID) */
int da_service_start_live(const struct da_opts *opts);
void da_service_stop(void);
/*
 * The service part of a pipeline configuration: the journal as its log
 * (then no report unless -o is given), and for `watch` (service true)
 * repeats held back for DA_SUPPRESS_WINDOW_DEFAULT_S when the policy does
 * not say.
 */
void da_service_config(struct da_pipeline_config *cfg, const struct da_opts *opts, bool service);

#endif /* DMABUF_AUDIT_SYSTEMD_H */
