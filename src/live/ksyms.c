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
	const char *name; /* in da_ksyms.text */
	const char *module; /* in da_ksyms.text; "" = vmlinux */
	bool text;
};

struct da_ksyms {
	char *text; /* /proc/kallsyms as read, its names cut out in place */
	struct ksym *syms; /* sorted by address */
	size_t n;
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

/* the whole file; /proc files have no size, so it grows as it is read */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 8 << 20, n;
	char *buf = NULL, *grown;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		grown = realloc(buf, cap + 1);
		if (!grown) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (*len < cap)
			break;
		cap *= 2;
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

/*
 * One line "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]": the name and the
 * module are cut out in place (NUL-terminated).  Returns the next line,
 * and false in *ok for a line that is not one.
 */
static char *parse_line(char *line, struct ksym *s, bool *ok)
{
	char *end = strchr(line, '\n'), *p = line, *name, *module;

	if (end)
		*end++ = '\0';
	else
		end = line + strlen(line);
	*ok = false;
	s->addr = strtoull(p, &p, 16);
	if (p == line || *p++ != ' ' || !*p || p[1] != ' ')
		return end;
	s->text = *p == 't' || *p == 'T';
	name = p + 2;
	p = name + strcspn(name, " \t");
	module = "";
	if (*p) {
		*p++ = '\0';
		p += strspn(p, " \t");
		if (*p == '[' && strchr(p, ']')) {
			module = p + 1;
			*strchr(module, ']') = '\0';
		}
	}
	if (!*name)
		return end;
	/*
	 * arm64's mapping symbols ($x, $d and their $d.N forms) only mark
	 * where code or data starts; a module keeps them in kallsyms, at
	 * the very address of its first ops table.  They name nothing
	 * (the kernel's is_mapping_symbol() skips them, and .L labels).
	 */
	if (name[0] == '$' || (name[0] == '.' && name[1] == 'L'))
		return end;
	s->name = name;
	s->module = module;
	*ok = true;
	return end;
}

/*
 * kallsyms' text (taken over: freed with the table) cut in place: no
 * sscanf and no strdup per symbol (a kernel lists 100 000 and more, and
 * the start-up paid for each, docs/performance.md "Start-up").
 */
static struct da_ksyms *ksyms_parse(char *text, size_t len)
{
	struct da_ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap, lines = 0;
	bool any_nonzero = false, sorted = true;
	char *p;

	if (!ks) {
		free(text);
		return NULL;
	}
	ks->text = text;
	for (p = text; (p = memchr(p, '\n', len - (size_t)(p - text))); p++)
		lines++;
	cap = lines + 1;
	ks->syms = malloc(cap * sizeof(*ks->syms));
	if (!ks->syms) {
		da_ksyms_free(ks);
		return NULL;
	}
	for (p = text; *p && ks->n < cap;) {
		struct ksym *s = &ks->syms[ks->n];
		bool ok;

		p = parse_line(p, s, &ok);
		if (!ok)
			continue;
		any_nonzero |= s->addr != 0;
		sorted &= !ks->n || cmp_addr(s - 1, s) <= 0;
		ks->n++;
	}
	ks->restricted = !any_nonzero;
	if (!sorted)
		qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_addr);
	return ks;
}

struct da_ksyms *da_ksyms_load(void)
{
	size_t len;
	char *text = read_all("/proc/kallsyms", &len);

	return text ? ksyms_parse(text, len) : NULL;
}

void da_ksyms_free(struct da_ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->text);
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
