// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel stacks for --stacks: what a resolver returns, without the
 * tracer's own frames.  Shared by the findings (pipeline.c) and the
 * record (sink_record.c).
 */
#include <ctype.h>
#include <string.h>

#include "dmabuf_audit/pipeline.h"

/* n characters of class `digit` (hex or decimal) at s, then the end of the name */
static bool name_tail(const char *s, size_t min, size_t max, bool hex, const char *ends)
{
	size_t n = 0;

	while (hex ? isxdigit((unsigned char)s[n]) : isdigit((unsigned char)s[n]))
		n++;
	return n >= min && n <= max && (!s[n] || strchr(ends, s[n]));
}

/*
 * kallsyms names our programs "bpf_prog_<16 hex tag>_<name>" and their
 * trampolines "bpf_trampoline_<key>": exactly those, not the kernel's own
 * bpf_prog_*() functions.
 */
static bool tracer_frame(const char *frame)
{
	if (!strncmp(frame, "bpf_prog_", 9))
		return name_tail(frame + 9, 16, 16, true, "_+");
	if (!strncmp(frame, "bpf_trampoline_", 15))
		return name_tail(frame + 15, 1, 20, false, "+");
	return false;
}

unsigned int da_stack_drop_tracer_frames(const char **frames, unsigned int n)
{
	unsigned int skip = 0;

	while (skip < n && tracer_frame(frames[skip]))
		skip++;
	memmove(frames, frames + skip, (n - skip) * sizeof(*frames));
	return n - skip;
}

unsigned int da_stack_resolve(da_stack_resolver_fn resolver, void *ctx, int32_t stack_id,
			      const char **frames)
{
	return da_stack_drop_tracer_frames(frames, resolver(ctx, stack_id, frames, DA_STACK_DEPTH));
}
