// SPDX-License-Identifier: GPL-2.0
/*
 * Repeats held back per suppression window (include/dmabuf_audit/service.h):
 * a fixed open-addressing table of keys (rule, exporter, importer ops,
 * device), sized at creation, so holding a finding back allocates nothing.
 * Keys are never removed: a fleet host sees a handful of distinct keys, and
 * a full table reports rather than forgets.
 */
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/service.h"

/* probe no further than this; past 3/4 full the table counts as full */
#define MAX_USED (DA_SUPPRESS_SLOTS / 4 * 3)

struct suppress_slot {
	bool used;
	uint32_t rule;
	uint64_t importer_ops;
	char exporter[DA_NAME_LEN];
	char device[DA_NAME_LEN];
	uint64_t window_start_ns; /* time of the last report */
	uint64_t held; /* held back since then */
};

struct da_suppress {
	struct suppress_slot slots[DA_SUPPRESS_SLOTS];
	unsigned int used;
	uint64_t overflow;
};

struct da_suppress *da_suppress_new(void)
{
	return calloc(1, sizeof(struct da_suppress));
}

void da_suppress_free(struct da_suppress *s)
{
	free(s);
}

uint64_t da_suppress_overflow(const struct da_suppress *s)
{
	return s->overflow;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* "" stands for unknown: an unknown exporter or device is a key of its own */
static void key_str(char *dst, const char *src)
{
	snprintf(dst, DA_NAME_LEN, "%s", src ? src : "");
}

static bool slot_matches(const struct suppress_slot *slot, uint32_t rule, uint64_t ops,
			 const char *exporter, const char *device)
{
	return slot->rule == rule && slot->importer_ops == ops &&
	       !strcmp(slot->exporter, exporter) && !strcmp(slot->device, device);
}

bool da_suppress_check(struct da_suppress *s, const struct da_finding *f, uint64_t now_ns,
		       uint64_t window_ns, uint64_t *repeats)
{
	char exporter[DA_NAME_LEN], device[DA_NAME_LEN];
	uint64_t ops = f->has_attachment ? f->attachment.importer_ops : 0, h;
	uint32_t rule = (uint32_t)f->rule;
	struct suppress_slot *slot;
	unsigned int i;

	*repeats = 0;
	key_str(exporter, f->buffer.exporter);
	key_str(device, f->has_attachment ? f->attachment.dev : NULL);
	h = hash_str(hash_str((0xcbf29ce484222325ull ^ rule) * 0x100000001b3ull ^ ops, exporter),
		     device);
	for (i = (unsigned int)(h % DA_SUPPRESS_SLOTS); s->slots[i].used;
	     i = (i + 1) % DA_SUPPRESS_SLOTS) {
		slot = &s->slots[i];
		if (!slot_matches(slot, rule, ops, exporter, device))
			continue;
		/*
		 * A clock that went back (a replayed trace out of order) stays in
		 * the window.  Window 0 (a policy reloaded without one) reports,
		 * with what an earlier window held back.
		 */
		if (!window_ns || (now_ns >= slot->window_start_ns &&
				   now_ns - slot->window_start_ns >= window_ns)) {
			*repeats = slot->held;
			slot->held = 0;
			slot->window_start_ns = now_ns;
			return false;
		}
		slot->held++;
		return true;
	}
	if (!window_ns)
		return false; /* nothing held back for it: no slot needed */
	if (s->used >= MAX_USED) {
		s->overflow++;
		return false;
	}
	slot = &s->slots[i];
	slot->used = true;
	slot->rule = rule;
	slot->importer_ops = ops;
	memcpy(slot->exporter, exporter, sizeof(exporter));
	memcpy(slot->device, device, sizeof(device));
	slot->window_start_ns = now_ns;
	slot->held = 0;
	s->used++;
	return false;
}
