// SPDX-License-Identifier: GPL-2.0
/* Names of ops and enum values, as docs/output.md spells them. */
#include <string.h>

#include "dmabuf_audit/event.h"
#include "dmabuf_audit/trace.h"

static const char *const op_names[DA_OP__COUNT] = {
	[DA_OP_NONE] = "none",
	[DA_OP_EXPORT] = "export",
	[DA_OP_RELEASE] = "release",
	[DA_OP_ATTACH] = "attach",
	[DA_OP_DETACH] = "detach",
	[DA_OP_PIN] = "pin",
	[DA_OP_UNPIN] = "unpin",
	[DA_OP_MAP] = "map",
	[DA_OP_UNMAP] = "unmap",
	[DA_OP_VMAP] = "vmap",
	[DA_OP_VUNMAP] = "vunmap",
	[DA_OP_MMAP] = "mmap",
	[DA_OP_INVALIDATE] = "invalidate",
	[DA_OP_FENCE_WAIT] = "fence_wait",
	[DA_OP_REVOCABLE_CHECK] = "revocable_check",
	[DA_OP_SCOPE_ENTER] = "scope_enter",
	[DA_OP_SCOPE_EXIT] = "scope_exit",
	[DA_OP_RESV_UNLOCK] = "resv_unlock",
};

static const char *const usage_names[] = {
	[DA_USAGE_KERNEL] = "kernel",
	[DA_USAGE_WRITE] = "write",
	[DA_USAGE_READ] = "read",
	[DA_USAGE_BOOKKEEP] = "bookkeep",
};

static const char *const fn_names[] = {
	[DA_FN_MOVE_NOTIFY] = "dma_buf_move_notify",
	[DA_FN_INVALIDATE_MAPPINGS] = "dma_buf_invalidate_mappings",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int parse(const char *const *names, unsigned int n, const char *name, unsigned int first)
{
	for (unsigned int i = first; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}

const char *da_op_name(unsigned int op)
{
	return op < DA_OP__COUNT ? op_names[op] : "?";
}

int da_op_parse(const char *name)
{
	return parse(op_names, DA_OP__COUNT, name, 1);
}

const char *da_usage_name(unsigned int usage)
{
	return usage < ARRAY_SIZE(usage_names) ? usage_names[usage] : "?";
}

int da_usage_parse(const char *name)
{
	return parse(usage_names, ARRAY_SIZE(usage_names), name, 0);
}

const char *da_invalidate_fn_name(unsigned int fn)
{
	return fn < ARRAY_SIZE(fn_names) ? fn_names[fn] : "?";
}

int da_invalidate_fn_parse(const char *name)
{
	return parse(fn_names, ARRAY_SIZE(fn_names), name, 0);
}

int da_trace_scope_slot(struct da_trace_info *info, const char *name)
{
	for (unsigned int i = 0; i < info->n_scopes; i++)
		if (!strcmp(info->scope_names[i], name))
			return (int)i;
	if (info->n_scopes >= DA_MAX_SCOPES || strlen(name) >= DA_FUNC_LEN)
		return -1;
	strcpy(info->scope_names[info->n_scopes], name);
	return (int)info->n_scopes++;
}
