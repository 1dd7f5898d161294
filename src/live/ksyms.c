// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kallsyms: names of importer ops tables and callbacks (exact
 * addresses, data or text), functions of stack frames (nearest text symbol
 * below), and "is this function present, in which module" for kprobes and
 * scope hooks.  With kptr_restrict every address reads as zero: names are
 * then unknown (pointers are still reported), and presence still works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

/* no kernel function is this large: a bigger offset means the address is not in it */
#define DA_KSYM_MAX_FUNC_SIZE (256u << 10)

struct ksym {
	uint64_t addr;
	char *name;
	const char *module; /* interned in the module list; "" = vmlinux */
	bool text;
};

struct da_ksyms {
	struct ksym *syms; /* sorted by address */
	size_t n;
	char **modules;
	size_t n_modules;
	bool restricted;
};

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* prefer text symbols, then global names, for equal addresses */
	return (int)y->text - (int)x->text;
}

static const char *intern_module(struct da_ksyms *ks, const char *name)
{
	char **grown;

	for (size_t i = 0; i < ks->n_modules; i++)
		if (!strcmp(ks->modules[i], name))
			return ks->modules[i];
	grown = realloc(ks->modules, (ks->n_modules + 1) * sizeof(*grown));
	if (!grown)
		return "";
	ks->modules = grown;
	ks->modules[ks->n_modules] = strdup(name);
	return ks->modules[ks->n_modules] ? ks->modules[ks->n_modules++] : "";
}

struct da_ksyms *da_ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	struct da_ksyms *ks;
	size_t cap = 0;
	char line[512];
	bool any_nonzero = false;

	if (!f)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		fclose(f);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256], module[128] = "";
		struct ksym *s;

		if (sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, module) < 3)
			continue;
		/*
		 * arm64's mapping symbols ($x, $d and their $d.N forms) only mark
		 * where code or data starts; a module keeps them in kallsyms, at
		 * the very address of its first ops table.  They name nothing
		 * (the kernel's is_mapping_symbol() skips them, and .L labels).
		 */
		if (name[0] == '$' || (name[0] == '.' && name[1] == 'L'))
			continue;
		if (ks->n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct ksym *grown = realloc(ks->syms, ncap * sizeof(*grown));

			if (!grown)
				break;
			ks->syms = grown;
			cap = ncap;
		}
		s = &ks->syms[ks->n];
		s->name = strdup(name);
		if (!s->name)
			break;
		s->addr = addr;
		s->text = type == 't' || type == 'T';
		s->module = module[0] ? intern_module(ks, module) : "";
		if (addr)
			any_nonzero = true;
		ks->n++;
	}
	fclose(f);
	ks->restricted = !any_nonzero;
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_addr);
	return ks;
}

void da_ksyms_free(struct da_ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->syms[i].name);
	for (size_t i = 0; i < ks->n_modules; i++)
		free(ks->modules[i]);
	free(ks->modules);
	free(ks->syms);
	free(ks);
}

bool da_ksyms_restricted(const struct da_ksyms *ks)
{
	return !ks || ks->restricted;
}

/* index of the last symbol with address <= addr, or -1 */
static long floor_index(const struct da_ksyms *ks, uint64_t addr)
{
	long lo = 0, hi = (long)ks->n - 1, best = -1;

	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}

const char *da_ksyms_exact(const struct da_ksyms *ks, uint64_t addr)
{
	long i;

	if (!ks || ks->restricted || !addr)
		return NULL;
	i = floor_index(ks, addr);
	if (i < 0 || ks->syms[i].addr != addr)
		return NULL;
	/* first of the symbols at this address: sorted text-first */
	while (i > 0 && ks->syms[i - 1].addr == addr)
		i--;
	return ks->syms[i].name;
}

const char *da_ksyms_nearest(const struct da_ksyms *ks, uint64_t addr, uint64_t *offset)
{
	long i;

	if (!ks || ks->restricted || !addr)
		return NULL;
	i = floor_index(ks, addr);
	/* past the last symbol (BPF trampolines, unlisted code): unknown, not a huge offset */
	if (i < 0 || i == (long)ks->n - 1)
		return NULL;
	for (; i >= 0; i--) {
		if (ks->syms[i].text) {
			*offset = addr - ks->syms[i].addr;
			return *offset < DA_KSYM_MAX_FUNC_SIZE ? ks->syms[i].name : NULL;
		}
	}
	return NULL;
}

bool da_ksyms_has_func(const struct da_ksyms *ks, const char *name, char *module, size_t len)
{
	if (!ks)
		return false;
	for (size_t i = 0; i < ks->n; i++) {
		if (ks->syms[i].text && !strcmp(ks->syms[i].name, name)) {
			if (module)
				snprintf(module, len, "%s", ks->syms[i].module);
			return true;
		}
	}
	return false;
}
