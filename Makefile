# SPDX-License-Identifier: GPL-2.0
# dmabuf-audit — see README.md.
#
#   make deps     install the build and test dependencies (Debian packages)
#   make          install missing build dependencies, then build
#                 build/dmabuf-audit (static, BPF skeleton embedded)
#   make check    unit, replay and command-line tests: no kernel needed
#   make test     everything CI runs: deps, build, check, hooks --btf on
#                 Debian kernels, guest tests on $(CI_KERNELS)
#   make vmtest KERNELS="6.1 6.12 7.3"   guest scenario suite
#   make demo     boot a guest and watch dmabuf-audit catch a revoke bug
#   make bench    engine/replay throughput and memory

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PYTHON ?= python3
BUILD ?= build
VERSION := 0.1.0

# Kernels the CI suite boots (make test); vmtest-full adds the rest.
CI_KERNELS ?= 6.1 6.12 7.3
KERNELS ?= $(CI_KERNELS)
FULL_KERNELS ?= 6.1 6.12 7.3

# Debian packages, by name (make deps).
DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjansson-dev \
	gcc make pkg-config python3 qemu-system-x86 busybox-static cpio dwarves \
	debootstrap xz-utils zstd kmod

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -DDA_VERSION='"$(VERSION)"' \
	-Iinclude -I$(BUILD)
LDLIBS_CORE := -ljansson -lz
LDLIBS_LIVE := -lbpf -lelf -lz -ljansson
STATIC ?= -static

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function \
	-Iinclude -Ibpf

CORE_SRCS := $(wildcard src/core/*.c)
LIVE_SRCS := $(wildcard src/live/*.c)
CMD_SRCS := $(wildcard src/cmd/*.c)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
CORE_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
LIVE_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIVE_SRCS))
CMD_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CMD_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TEST_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))

BIN := $(BUILD)/dmabuf-audit
CORE_LIB := $(BUILD)/libdmabuf-audit-core.a

.PHONY: all deps check test vmtest vmtest-full demo bench format lint clean \
	test-hooks-btf test-summary unit replay-tests cli-tests

# A plain `make` on a fresh machine installs what is missing first (or says
# what to install when it cannot); the build itself runs in a sub-make so
# that nothing is compiled before the headers are there.
all: deps
	@$(MAKE) --no-print-directory $(BIN)

deps:
	@tools/install-deps.sh $(DEPS)

$(BUILD)/obj/%.o: src/%.c $(wildcard include/dmabuf_audit/*.h src/*/*.h) | $(BUILD)/obj/core $(BUILD)/obj/live $(BUILD)/obj/cmd
	$(CC) $(CFLAGS) -c $< -o $@

# live code embeds the BPF skeletons
$(LIVE_OBJS) $(CMD_OBJS): $(SKELS)

$(BUILD)/obj/core $(BUILD)/obj/live $(BUILD)/obj/cmd $(BUILD)/bpf $(BUILD)/tests:
	@mkdir -p $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/dmabuf_audit/event.h | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(CORE_LIB): $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(CMD_OBJS) $(LIVE_OBJS) $(CORE_LIB)
	$(CC) $(CFLAGS) $(STATIC) -o $@ $(BUILD)/obj/main.o $(CMD_OBJS) $(LIVE_OBJS) $(CORE_LIB) $(LDLIBS_LIVE)

# Unit tests link the core library only: proof that the engine needs no libbpf.
$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPERS) $(CORE_LIB) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/unit -Isrc/core -o $@ $< $(TEST_HELPERS) $(CORE_LIB) $(LDLIBS_CORE)

unit: $(UNIT_BINS)
	@tools/run-suite.sh unit $(UNIT_BINS)

replay-tests: $(BIN)
	@tools/run-suite.sh replay tests/replay/run.py $(BIN)

# the command line as users meet it: options, refused values, exit status
cli-tests: $(BIN)
	@tools/run-suite.sh cli tests/cli/run.sh $(BIN)

# make check: no kernel needed
check: unit replay-tests cli-tests

test-hooks-btf: $(BIN)
	@tools/run-suite.sh hooks-btf tests/hooks/run.sh $(BIN)

vmtest: $(BIN)
	@tools/run-suite.sh vmtest tools/vmtest.sh $(BIN) $(KERNELS)

vmtest-full: $(BIN)
	@tools/run-suite.sh vmtest-full tools/vmtest.sh $(BIN) $(FULL_KERNELS)

# What CI runs (.ci/run): every suite runs even when one fails, then one
# summary line "N passed, N failed" and the exit status.
test:
	@rm -rf $(BUILD)/test-results
	@$(MAKE) --no-print-directory all
	-@$(MAKE) --no-print-directory -k check
	-@$(MAKE) --no-print-directory test-hooks-btf
	-@$(MAKE) --no-print-directory vmtest KERNELS="$(CI_KERNELS)"
	@tools/test-summary.sh $(BUILD)/test-results

test-summary:
	@tools/test-summary.sh $(BUILD)/test-results

# The first command on a fresh machine: dependencies, build, then the guest.
demo: all
	@tools/demo.sh $(BIN)

bench: $(BIN) $(CORE_LIB)
	@tools/bench.sh $(BIN)

format:
	clang-format -i $(wildcard src/*.c src/*/*.c include/*/*.h bpf/*.c bpf/*.h tests/unit/*.c tests/unit/*.h tests/kmod/*.c tests/vm/*.c)

lint:
	cppcheck --quiet --std=c11 -Iinclude src tests/unit

clean:
	rm -rf $(BUILD)
