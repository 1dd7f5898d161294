// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/dma_buf/bufinfo parser: the format is described in
 * include/dmabuf_audit/bufinfo.h.  Line by line; anything it does not know
 * is an error naming the line, never skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/bufinfo.h"
#include "errorf.h"

struct parse {
	struct da_bufinfo *out;
	size_t cap;
	unsigned int line;
	bool in_objects; /* after "Dma-buf Objects:" and its header */
	bool in_buf; /* a buffer line seen, its "Total N devices" not yet */
	bool in_devs; /* after its "Attached Devices:" */
	bool done; /* "Total N objects" seen */
};

static bool parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !errno && !*end && *s != '-';
}

/* "%08zu\t%08x\t%08x\t%08ld\t%s\t%08lu\t%s": name (the last) may hold anything but a newline */
static int buffer_line(struct parse *ps, char *line, char *err, size_t len)
{
	char *field[7], *p = line;
	struct da_bufinfo_buf *b;
	uint64_t flags, mode;

	for (int i = 0; i < 7; i++) {
		field[i] = p;
		if (i == 6)
			break;
		p = strchr(p, '\t');
		if (!p)
			return da_errorf(err, len, "line %u: a buffer line has %d fields, not 7",
					 ps->line, i + 1);
		*p++ = '\0';
	}
	if (ps->out->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 64;
		void *g = realloc(ps->out->bufs, cap * sizeof(*b));

		if (!g)
			return da_errorf(err, len, "out of memory");
		ps->out->bufs = g;
		ps->cap = cap;
	}
	b = &ps->out->bufs[ps->out->n];
	memset(b, 0, sizeof(*b));
	if (!parse_u64(field[0], 10, &b->size) || !parse_u64(field[1], 16, &flags) ||
	    !parse_u64(field[2], 16, &mode) || !parse_u64(field[3], 10, &b->count) ||
	    !parse_u64(field[5], 10, &b->ino) || flags > UINT32_MAX || mode > UINT32_MAX)
		return da_errorf(
			err, len,
			"line %u: a buffer line's size, flags, mode, count or ino is not a number",
			ps->line);
	b->flags = (uint32_t)flags;
	b->mode = (uint32_t)mode;
	snprintf(b->exp_name, sizeof(b->exp_name), "%s", field[4]);
	ps->out->n++;
	ps->in_buf = true;
	ps->in_devs = false;
	return 0;
}

/* a tab-indented line of the current buffer: a fence, the device list's title, a device */
static int indented_line(struct parse *ps, const char *line, char *err, size_t len)
{
	struct da_bufinfo_buf *b = &ps->out->bufs[ps->out->n - 1];

	if (!strcmp(line, "\tAttached Devices:")) {
		ps->in_devs = true;
	} else if (ps->in_devs) {
		if (b->n_devs < DA_BUFINFO_DEVS)
			snprintf(b->devs[b->n_devs], sizeof(b->devs[0]), "%s", line + 1);
		b->n_devs++;
	} else if (strstr(line, " fence:")) {
		b->n_fences++;
	} else {
		return da_errorf(err, len, "line %u: unexpected line in buffer ino %" PRIu64,
				 ps->line, b->ino);
	}
	return 0;
}

static int one_line(struct parse *ps, char *line, char *err, size_t len)
{
	unsigned long long n, bytes;
	char c;

	if (!*line || ps->done)
		return *line ? da_errorf(err, len, "line %u: text after the total", ps->line) : 0;
	if (!ps->in_objects) {
		if (!strcmp(line, "Dma-buf Objects:"))
			return 0;
		if (!strncmp(line, "size", 4)) {
			ps->in_objects = true;
			return 0;
		}
		return da_errorf(err, len, "line %u: not the \"Dma-buf Objects:\" header",
				 ps->line);
	}
	if (ps->in_buf && line[0] == '\t')
		return indented_line(ps, line, err, len);
	if (ps->in_buf && sscanf(line, "Total %llu devices attache%c", &n, &c) == 2) {
		if (n != ps->out->bufs[ps->out->n - 1].n_devs)
			return da_errorf(err, len, "line %u: %llu devices said, %u listed",
					 ps->line, n, ps->out->bufs[ps->out->n - 1].n_devs);
		ps->in_buf = false;
		return 0;
	}
	if (!ps->in_buf && sscanf(line, "Total %llu objects, %llu byte%c", &n, &bytes, &c) == 3) {
		if (n != ps->out->n)
			return da_errorf(err, len, "line %u: %llu objects said, %zu listed",
					 ps->line, n, ps->out->n);
		ps->out->total_objects = n;
		ps->done = true;
		return 0;
	}
	if (!ps->in_buf && line[0] >= '0' && line[0] <= '9')
		return buffer_line(ps, line, err, len);
	return da_errorf(err, len, "line %u: not a line of bufinfo", ps->line);
}

int da_bufinfo_parse(const char *text, struct da_bufinfo *out, char *err, size_t errlen)
{
	struct parse ps = { .out = out };
	char *copy = strdup(text), *line, *next;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return da_errorf(err, errlen, "out of memory");
	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ps.line++;
		ret = one_line(&ps, line, err, errlen);
	}
	free(copy);
	if (!ret && !ps.done)
		ret = da_errorf(err, errlen, "line %u: cut short: no \"Total N objects\" line",
				ps.line);
	if (ret)
		da_bufinfo_free(out);
	return ret;
}

void da_bufinfo_free(struct da_bufinfo *info)
{
	free(info->bufs);
	memset(info, 0, sizeof(*info));
}

const struct da_bufinfo_buf *da_bufinfo_find(const struct da_bufinfo *info, uint64_t ino)
{
	for (size_t i = 0; i < info->n; i++)
		if (info->bufs[i].ino == ino)
			return &info->bufs[i];
	return NULL;
}
