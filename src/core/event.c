// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel function table, the op table, and the names of enum values as
 * docs/output.md spells them.
 */
#include <string.h>

#include "dmabuf_audit/event.h"
#include "dmabuf_audit/trace.h"

/*
 * The kernel function table: every kernel function name dmabuf-audit uses.
 * A rename in a new kernel appends the new name to its row (hooks try the
 * newest first); nothing else changes.
 */
const struct da_kfunc_info da_kfuncs[DA_KF__COUNT] = {
	[DA_KF_EXPORT] = { { "dma_buf_export" } },
	[DA_KF_RELEASE] = { { "dma_buf_release" } },
	[DA_KF_ATTACH] = { { "dma_buf_attach" } },
	[DA_KF_DYNAMIC_ATTACH] = { { "dma_buf_dynamic_attach" } },
	[DA_KF_DETACH] = { { "dma_buf_detach" } },
	[DA_KF_PIN] = { { "dma_buf_pin" } },
	[DA_KF_UNPIN] = { { "dma_buf_unpin" } },
	[DA_KF_MAP] = { { "dma_buf_map_attachment" } },
	[DA_KF_MAP_UNLOCKED] = { { "dma_buf_map_attachment_unlocked" } },
	[DA_KF_UNMAP] = { { "dma_buf_unmap_attachment" } },
	[DA_KF_UNMAP_UNLOCKED] = { { "dma_buf_unmap_attachment_unlocked" } },
	[DA_KF_VMAP] = { { "dma_buf_vmap" } },
	[DA_KF_VMAP_UNLOCKED] = { { "dma_buf_vmap_unlocked" } },
	[DA_KF_VUNMAP] = { { "dma_buf_vunmap" } },
	[DA_KF_VUNMAP_UNLOCKED] = { { "dma_buf_vunmap_unlocked" } },
	[DA_KF_MMAP] = { { "dma_buf_mmap" } },
	[DA_KF_MMAP_FD] = { { "dma_buf_mmap_internal" } },
	/* indexed by enum da_invalidate_fn, which events carry: renamed in 7.1 */
	[DA_KF_INVALIDATE] = { { "dma_buf_move_notify", "dma_buf_invalidate_mappings" } },
	[DA_KF_FENCE_WAIT] = { { "dma_resv_wait_timeout" } },
	[DA_KF_REVOCABLE_CHECK] = { { "dma_buf_attach_revocable" } },
	[DA_KF_RESV_UNLOCK] = { { "ww_mutex_unlock" } },
	/* VFIO's revoke path, vfio-pci-core (6.19+) */
	[DA_KF_VFIO_DMA_BUF_MOVE] = { { "vfio_pci_dma_buf_move" }, "vfio_pci_core" },
	[DA_KF_VFIO_DMA_BUF_CLEANUP] = { { "vfio_pci_dma_buf_cleanup" }, "vfio_pci_core" },
	/* iommufd's map (6.19+): VFIO's physical ranges, exported to iommufd only */
	[DA_KF_VFIO_IOMMUFD_MAP] = { { "vfio_pci_dma_buf_iommufd_map" }, "vfio_pci_core" },
	/*
	 * The iommufd selftest's mock exporter (CONFIG_IOMMUFD_TEST, 7.1+), in
	 * iommufd.ko: its revoke and un-revoke, (ucmd, fd, revoked), a static
	 * function gcc inlines unless told not to (tests/vm/build-kernel.sh), and
	 * its map helper.
	 */
	[DA_KF_IOMMUFD_TEST_REVOKE] = { { "iommufd_test_dmabuf_revoke" }, "iommufd" },
	[DA_KF_IOMMUFD_TEST_MAP] = { { "iommufd_test_dma_buf_iommufd_map" }, "iommufd" },
};

const enum da_kfunc da_phys_map_funcs[DA_PHYS_MAP_FUNCS] = {
	DA_KF_VFIO_IOMMUFD_MAP,
	DA_KF_IOMMUFD_TEST_MAP,
};

/*
 * The op table: an op's name (docs/output.md "op") and the kernel function
 * its events come from.  Ops served by two functions at once tell them
 * apart by a flag: `call` when `flag` is set, `call_without` when not.
 * A map with DA_F_PHYS came from iommufd's map path: through the exporter
 * helper da_phys_map_funcs[ev->fn] (`call_phys` when fn is out of range).
 */
struct op_info {
	const char *name;
	enum da_kfunc call;
	enum da_kfunc call_without;
	uint8_t flag;
	enum da_kfunc call_phys;
};

static const struct op_info ops[DA_OP__COUNT] = {
	[DA_OP_NONE] = { "none" },
	[DA_OP_EXPORT] = { "export", DA_KF_EXPORT },
	[DA_OP_RELEASE] = { "release", DA_KF_RELEASE },
	[DA_OP_ATTACH] = { "attach", DA_KF_DYNAMIC_ATTACH, DA_KF_ATTACH, DA_F_DYNAMIC },
	[DA_OP_DETACH] = { "detach", DA_KF_DETACH },
	[DA_OP_PIN] = { "pin", DA_KF_PIN },
	[DA_OP_UNPIN] = { "unpin", DA_KF_UNPIN },
	[DA_OP_MAP] = { "map", DA_KF_MAP, DA_KF_MAP_UNLOCKED, DA_F_LOCKED, DA_KF_VFIO_IOMMUFD_MAP },
	[DA_OP_UNMAP] = { "unmap", DA_KF_UNMAP, DA_KF_UNMAP_UNLOCKED, DA_F_LOCKED },
	[DA_OP_VMAP] = { "vmap", DA_KF_VMAP, DA_KF_VMAP_UNLOCKED, DA_F_LOCKED },
	[DA_OP_VUNMAP] = { "vunmap", DA_KF_VUNMAP, DA_KF_VUNMAP_UNLOCKED, DA_F_LOCKED },
	[DA_OP_MMAP] = { "mmap", DA_KF_MMAP },
	[DA_OP_INVALIDATE] = { "invalidate", DA_KF_INVALIDATE },
	[DA_OP_FENCE_WAIT] = { "fence_wait", DA_KF_FENCE_WAIT },
	[DA_OP_REVOCABLE_CHECK] = { "revocable_check", DA_KF_REVOCABLE_CHECK },
	/* named by their scope function (the trace's scope names) */
	[DA_OP_SCOPE_ENTER] = { "scope_enter" },
	[DA_OP_SCOPE_EXIT] = { "scope_exit" },
	/* ww_mutex_unlock of a resv: the rules name the op, not the lock function */
	[DA_OP_RESV_UNLOCK] = { "resv_unlock" },
	/* read by an iterator at start, no kernel call of their own */
	[DA_OP_SEED_BUFFER] = { "seed_buffer" },
	[DA_OP_SEED_ATTACHMENT] = { "seed_attachment" },
};

static const char *const usage_names[] = {
	[DA_USAGE_KERNEL] = "kernel",
	[DA_USAGE_WRITE] = "write",
	[DA_USAGE_READ] = "read",
	[DA_USAGE_BOOKKEEP] = "bookkeep",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int parse(const char *const *names, unsigned int n, const char *name, unsigned int first)
{
	for (unsigned int i = first; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}

const char *da_kfunc_name(enum da_kfunc f, unsigned int version)
{
	if ((unsigned int)f >= DA_KF__COUNT || version >= DA_KF_MAX_NAMES)
		return NULL;
	return da_kfuncs[f].names[version];
}

unsigned int da_kfunc_n_names(enum da_kfunc f)
{
	unsigned int n = 0;

	while (da_kfunc_name(f, n))
		n++;
	return n;
}

const char *da_kfunc_module(const char *name)
{
	for (unsigned int f = 0; f < DA_KF__COUNT; f++)
		if (parse(da_kfuncs[f].names, DA_KF_MAX_NAMES, name, 0) >= 0)
			return da_kfuncs[f].module;
	return NULL;
}

enum da_kfunc da_op_call(const struct da_event *ev, int *version)
{
	const struct op_info *o;

	*version = -1;
	if (ev->op >= DA_OP__COUNT)
		return DA_KF_NONE;
	o = &ops[ev->op];
	if (o->call == DA_KF_INVALIDATE)
		*version = ev->fn;
	if (o->call_phys && (ev->flags & DA_F_PHYS))
		return ev->fn < DA_PHYS_MAP_FUNCS ? da_phys_map_funcs[ev->fn] : o->call_phys;
	if (o->flag && !(ev->flags & o->flag))
		return o->call_without;
	return o->call;
}

const char *da_op_name(unsigned int op)
{
	return op < DA_OP__COUNT && ops[op].name ? ops[op].name : "?";
}

int da_op_parse(const char *name)
{
	for (unsigned int op = 1; op < DA_OP__COUNT; op++)
		if (ops[op].name && !strcmp(ops[op].name, name))
			return (int)op;
	return -1;
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
	const char *name = da_kfunc_name(DA_KF_INVALIDATE, fn);

	return name ? name : "?";
}

int da_invalidate_fn_parse(const char *name)
{
	return parse(da_kfuncs[DA_KF_INVALIDATE].names, DA_KF_MAX_NAMES, name, 0);
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
