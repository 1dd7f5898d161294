# SPDX-License-Identifier: GPL-2.0
# dmabuf-audit — see README.md.
#
#   make deps     install the build and test dependencies (Debian packages)
#   make          install missing build dependencies, then build
#                 build/dmabuf-audit (static, BPF skeleton embedded)
#   make check    unit, replay, bad-input, command-line, service (journal,
#                 sd_notify, metrics; a private systemd-journald), pictures (Perfetto trace,
#                 HTML in headless Chromium), fuzz smoke and repository
#                 self-check tests: no kernel needed
#   make readme-picture   docs/demo-finding.png, the README's picture of the demo's finding
#   make test     everything CI runs: deps, build, check, hooks --btf on
#                 Debian kernels, guest tests on $(CI_KERNELS), and beside
#                 them the soak test
#   make vmtest KERNELS="6.1 6.12 7.3"   guest scenario suite
#   make soak     watch as a service for 10 minutes in a 6.12 guest
#                 (tools/soak.sh)
#   make demo     boot a guest and watch dmabuf-audit catch a revoke bug
#   make bench    engine/replay throughput and memory
#   make bench-live KERNEL=6.12   cost per hooked call in a guest kernel:
#                 floor, empty fentry/fexit pair, watch (fentry, kprobe,
#                 --stacks); docs/performance.md
#   make fuzz     libFuzzer targets for the record, JSON Lines and policy
#                 readers (build/fuzz/); make fuzz-smoke runs each briefly

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
	debootstrap xz-utils zstd kmod libclang-rt-14-dev chromium \
	systemd python3-prometheus-client

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
	test-hooks-btf test-summary unit replay-tests badinput-tests fuzz fuzz-smoke \
	repo-check cli-tests pictures-tests readme-picture bench-live service-tests

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

badinput-tests: $(BIN)
	@tools/run-suite.sh badinput tests/badinput/run.py $(BIN)

# the command line as users meet it: options, refused values, exit status
cli-tests: $(BIN)
	@tools/run-suite.sh cli tests/cli/run.sh $(BIN)

# the service behaviour of watch through replay (the journal's native
# protocol on a socket of the test's own and in the real systemd-journald,
# repeats, metrics, stats) and sd_notify; Debian's python3, which has
# python3-prometheus-client's strict OpenMetrics parser
SERVICE_PYTHON ?= /usr/bin/python3
NOTIFY_TEST := $(BUILD)/tests/service/test_notify

$(NOTIFY_TEST): tests/service/test_notify.c src/live/systemd.c src/live/systemd.h $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc/live -o $@ $< src/live/systemd.c $(CORE_LIB) $(LDLIBS_CORE)

service-tests: $(BIN) $(NOTIFY_TEST)
	@tools/run-suite.sh service $(SERVICE_PYTHON) tests/service/run.py $(BIN) $(NOTIFY_TEST)

# --format perfetto / --timeline and --format html: the trace's structure on
# every replay trace and guest record, the HTML as headless Chromium renders it
pictures-tests: $(BIN)
	@tools/run-suite.sh pictures $(PYTHON) tests/pictures/run.py $(BIN)

# The README's picture: the demo's bug recorded in a real 7.3 guest, as HTML
readme-picture: $(BIN)
	@tests/pictures/readme-picture.sh $(BIN) tests/replay/fixtures/7.3-missing-fence-wait.rec \
		docs/demo-finding.png

# libFuzzer targets: the core readers built with clang's fuzzer and
# sanitizers; FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION skips record checksums
# so mutations reach the decoding behind them.
FUZZ := $(BUILD)/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -std=gnu11 -D_GNU_SOURCE \
	-DDA_VERSION='"$(VERSION)"' -Iinclude -Itests/fuzz
FUZZ_OBJS := $(patsubst src/core/%.c,$(FUZZ)/obj/%.o,$(CORE_SRCS))
# seconds each target runs in make fuzz-smoke (and so in make check)
FUZZ_SMOKE_SECONDS ?= 15

$(FUZZ)/obj:
	@mkdir -p $@

$(FUZZ)/obj/%.o: src/core/%.c $(wildcard include/dmabuf_audit/*.h src/core/*.h) | $(FUZZ)/obj
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJS) $(LDLIBS_CORE)

fuzz: $(FUZZ_TARGETS)

# kept between builds (make would delete them as intermediates)
.SECONDARY: $(FUZZ_OBJS)

fuzz-smoke: fuzz $(BIN)
	@tools/run-suite.sh fuzz tests/fuzz/run.sh $(FUZZ) $(FUZZ_SMOKE_SECONDS) $(BIN)

# Docs and comments point only at files in the repository; no C function
# outside tests/ over 100 lines.
repo-check:
	@tools/run-suite.sh repo $(PYTHON) tests/repo/check.py

# make check: no kernel needed
check: unit replay-tests badinput-tests cli-tests service-tests pictures-tests repo-check fuzz-smoke

test-hooks-btf: $(BIN)
	@tools/run-suite.sh hooks-btf tests/hooks/run.sh $(BIN)

vmtest: $(BIN)
	@tools/run-suite.sh vmtest tools/vmtest.sh $(BIN) $(KERNELS)

vmtest-full: $(BIN)
	@tools/run-suite.sh vmtest-full tools/vmtest.sh $(BIN) $(FULL_KERNELS)

# the soak test (tools/soak.sh): watch as a service for SOAK_SECONDS (600) in
# a 6.12 guest under churn, injected bugs, SIGHUP reloads and reopens
.PHONY: soak
soak: $(BIN)
	@tools/run-suite.sh soak tools/soak.sh $(BIN)

# What CI runs (.ci/run): every suite runs even when one fails, then one
# summary line "N passed, N failed" and the exit status.
# A step that fails without a suite saying so (a test that does not
# compile) is counted as one failed test of its own.
test:
	@rm -rf $(BUILD)/test-results
	@$(MAKE) --no-print-directory all
	-@$(MAKE) --no-print-directory -k check || $(call step_failed,check)
	-@$(MAKE) --no-print-directory test-hooks-btf || $(call step_failed,test-hooks-btf)
	@tools/soak.sh $(BIN) --build-only
	-@{ tools/run-suite.sh soak tools/soak.sh $(BIN) --boot-only >$(BUILD)/soak.log 2>&1 & \
	   soak=$$!; \
	   $(MAKE) --no-print-directory vmtest KERNELS="$(CI_KERNELS)" || $(call step_failed,vmtest); \
	   wait $$soak || $(call step_failed,soak); cat $(BUILD)/soak.log; }
	@tools/test-summary.sh $(BUILD)/test-results

step_failed = { mkdir -p $(BUILD)/test-results; echo "not ok - make $(1) failed" | \
	tee -a $(BUILD)/test-results/make.tap; }

test-summary:
	@tools/test-summary.sh $(BUILD)/test-results

# The first command on a fresh machine: dependencies, build, then the guest.
demo: all
	@tools/demo.sh $(BIN)

bench: $(BIN) $(CORE_LIB)
	@tools/bench.sh $(BIN)

# the live benchmark (tools/bench-live.sh): a guest boot, one kernel
KERNEL ?= 6.12
BENCH_LIVE := $(BUILD)/bench-live

$(BENCH_LIVE):
	@mkdir -p $@

$(BENCH_LIVE)/empty_pair.bpf.o: tests/bench/empty_pair.bpf.c | $(BENCH_LIVE)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_LIVE)/empty_pair.skel.h: $(BENCH_LIVE)/empty_pair.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BENCH_LIVE)/empty-pair: tests/bench/empty-pair.c $(BENCH_LIVE)/empty_pair.skel.h
	$(CC) $(CFLAGS) -I$(BENCH_LIVE) $(STATIC) -o $@ $< $(LDLIBS_LIVE)

bench-live: $(BIN) $(BENCH_LIVE)/empty-pair
	@tools/bench-live.sh $(BIN) $(BENCH_LIVE)/empty-pair $(KERNEL)

format:
	clang-format -i $(wildcard src/*.c src/*/*.c include/*/*.h bpf/*.c bpf/*.h tests/unit/*.c tests/unit/*.h tests/kmod/*.c tests/vm/*.c)

lint:
	cppcheck --quiet --std=c11 -Iinclude src tests/unit

clean:
	rm -rf $(BUILD)
