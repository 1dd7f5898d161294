/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What is known about the traced kernel and the session: the JSON header
 * line, the binary record header, and the kernel quirks the engine needs.
 * Filled by the live loader, or read back from a recorded trace.
 */
#ifndef DMABUF_AUDIT_TRACE_H
#define DMABUF_AUDIT_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#define DA_MAX_HOOKS 64
#define DA_MAX_SCOPES 16
#define DA_FUNC_LEN 64

/*
 * Kernel quirks the engine must know to judge correctly.  Decided once by
 * the loader from BTF (src/live/hook_table.c), stored in recorded traces.
 */
/*
 * 6.1: struct dma_buf still has its own `lock` mutex.  vmap/vunmap are
 * serialised by it, not by the resv, and the locked map/unmap variants only
 * require the resv lock for dynamic importers or exporters.
 */
#define DA_QUIRK_LEGACY_LOCKING (1u << 0)
/* resv_held cannot be read on this kernel (PREEMPT_RT): never judged */
#define DA_QUIRK_NO_RESV_OWNER (1u << 1)

struct da_hook_status {
	char function[DA_FUNC_LEN];	/* kernel function hooked (after retargeting) */
	char mode[16];			/* "fentry", "fexit", "kprobe", "kretprobe", "absent" */
	bool attached;
	char reason[128];		/* why absent / not attached, else "" */
};

struct da_trace_info {
	char kernel[65];		/* uname -r of the traced kernel, "" if unknown */
	char source[256];		/* "live" or the replayed file name */
	uint32_t quirks;		/* DA_QUIRK_* */
	unsigned int n_hooks;
	struct da_hook_status hooks[DA_MAX_HOOKS];
	/* scope slots: da_event.fn of scope_enter/scope_exit indexes this */
	unsigned int n_scopes;
	char scope_names[DA_MAX_SCOPES][DA_FUNC_LEN];
	/*
	 * Where and when, for merging hosts' logs (docs/output.md "Wall-clock
	 * time"): the host name and boot ID ("" when unknown), and
	 * CLOCK_REALTIME minus CLOCK_MONOTONIC (the clock of ts_ns) at the
	 * start, so that ts_ns + realtime_offset_ns is the wall-clock time.
	 */
	char host[65];
	char boot_id[37];
	bool has_realtime;
	int64_t realtime_offset_ns;
};

/* fill host, boot_id and the realtime offset of this host, now (live runs) */
void da_trace_info_this_host(struct da_trace_info *info);
/*
 * ts_ns as RFC 3339 UTC with nanoseconds ("2026-12-07T13:11:20.123456789Z")
 * into buf (at least 32 bytes); false when the trace has no realtime offset
 */
bool da_trace_wallclock(const struct da_trace_info *info, uint64_t ts_ns, char *buf, size_t len);

/* Index of scope `name` in info->scope_names, adding it if new; -1 if full. */
int da_trace_scope_slot(struct da_trace_info *info, const char *name);

#endif /* DMABUF_AUDIT_TRACE_H */
