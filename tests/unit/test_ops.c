// SPDX-License-Identifier: GPL-2.0
/*
 * The tables sized by an enum count get a silent zero entry when a row is
 * forgotten: every op must have a name, a JSON field-table entry and an
 * engine handler; every kernel function id a name; and the names that the
 * record format fixes (enum da_invalidate_fn) must stay where they are.
 */
#include <string.h>

/* the event field table */
#include "event_schema.h"

#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
#include "tap.h"

static bool every_op_named_and_parsed(void)
{
	for (unsigned int op = DA_OP_NONE + 1; op < DA_OP__COUNT; op++) {
		const char *name = da_op_name(op);

		CHECK(name && strcmp(name, "?"));
		CHECK(da_op_parse(name) == (int)op);
	}
	CHECK(!strcmp(da_op_name(DA_OP__COUNT), "?"));
	CHECK(da_op_parse("none") == -1);
	return true;
}

static bool every_op_has_json_fields(void)
{
	for (unsigned int op = DA_OP_NONE + 1; op < DA_OP__COUNT; op++) {
		const struct da_op_spec *spec = &da_op_specs[op];

		CHECK(spec->n > 0 && spec->n <= DA_EVF_MAX_PER_OP);
		for (unsigned int i = 0; i < spec->n; i++)
			CHECK(spec->f[i].field < DA_EVF__COUNT &&
			      da_evfield_names[spec->f[i].field]);
	}
	return true;
}

static bool every_op_has_a_handler(void)
{
	for (unsigned int op = DA_OP_NONE + 1; op < DA_OP__COUNT; op++)
		CHECK(da_engine_handles_op(op));
	CHECK(!da_engine_handles_op(DA_OP_NONE));
	CHECK(!da_engine_handles_op(DA_OP__COUNT));
	return true;
}

static bool every_kfunc_named(void)
{
	for (unsigned int f = DA_KF_NONE + 1; f < DA_KF__COUNT; f++) {
		CHECK(da_kfunc_n_names(f) >= 1);
		CHECK(!strncmp(da_kfunc_name(f, 0), "dma_", 4) ||
		      !strncmp(da_kfunc_name(f, 0), "ww_", 3) ||
		      !strncmp(da_kfunc_name(f, 0), "vfio_", 5) ||
		      !strncmp(da_kfunc_name(f, 0), "iommufd_test_", 13));
	}
	CHECK(da_kfunc_n_names(DA_KF_NONE) == 0);
	CHECK(!da_kfunc_name(DA_KF__COUNT, 0));
	return true;
}

/* recorded traces hold these values: the table must keep them */
static bool invalidate_names_by_record_value(void)
{
	CHECK(!strcmp(da_invalidate_fn_name(DA_FN_MOVE_NOTIFY), "dma_buf_move_notify"));
	CHECK(!strcmp(da_invalidate_fn_name(DA_FN_INVALIDATE_MAPPINGS),
		      "dma_buf_invalidate_mappings"));
	CHECK(da_invalidate_fn_parse("dma_buf_invalidate_mappings") == DA_FN_INVALIDATE_MAPPINGS);
	CHECK(da_invalidate_fn_parse("dma_buf_move_notify") == DA_FN_MOVE_NOTIFY);
	CHECK(da_invalidate_fn_parse("dma_buf_map") == -1);
	CHECK(!strcmp(da_invalidate_fn_name(77), "?"));
	return true;
}

static const char *call_of(uint8_t op, uint8_t flags, uint8_t fn, int *version)
{
	struct da_event ev = { .op = op, .flags = flags, .fn = fn };
	enum da_kfunc f = da_op_call(&ev, version);

	return f == DA_KF_NONE ? NULL : da_kfunc_name(f, *version < 0 ? 0 : *version);
}

static bool op_calls(void)
{
	int v;

	CHECK(!strcmp(call_of(DA_OP_MAP, DA_F_LOCKED, 0, &v), "dma_buf_map_attachment") && v < 0);
	CHECK(!strcmp(call_of(DA_OP_MAP, 0, 0, &v), "dma_buf_map_attachment_unlocked"));
	CHECK(!strcmp(call_of(DA_OP_VUNMAP, 0, 0, &v), "dma_buf_vunmap_unlocked"));
	CHECK(!strcmp(call_of(DA_OP_ATTACH, DA_F_DYNAMIC, 0, &v), "dma_buf_dynamic_attach"));
	CHECK(!strcmp(call_of(DA_OP_ATTACH, 0, 0, &v), "dma_buf_attach"));
	CHECK(!strcmp(call_of(DA_OP_INVALIDATE, 0, DA_FN_INVALIDATE_MAPPINGS, &v),
		      "dma_buf_invalidate_mappings") &&
	      v == DA_FN_INVALIDATE_MAPPINGS);
	CHECK(!call_of(DA_OP_SCOPE_ENTER, 0, 3, &v));
	CHECK(!call_of(200, 0, 0, &v));
	return true;
}

static bool scope_modules(void)
{
	CHECK(!strcmp(da_kfunc_module("vfio_pci_dma_buf_move"), "vfio_pci_core"));
	CHECK(!strcmp(da_kfunc_module("vfio_pci_dma_buf_cleanup"), "vfio_pci_core"));
	CHECK(!da_kfunc_module("dma_buf_pin"));
	CHECK(!da_kfunc_module("my_scope"));
	return true;
}

TAP_MAIN(TAP_TEST(every_op_named_and_parsed), TAP_TEST(every_op_has_json_fields),
	 TAP_TEST(every_op_has_a_handler), TAP_TEST(every_kfunc_named),
	 TAP_TEST(invalidate_names_by_record_value), TAP_TEST(op_calls), TAP_TEST(scope_modules))
