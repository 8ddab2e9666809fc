# SPDX-License-Identifier: GPL-2.0-only
# One build for everything. `make help` lists the targets.

BUILD   ?= build
PREFIX  ?= /usr/local
# Where the systemd units go: the Debian package puts them in /lib/systemd/system (debian/rules).
UNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
SAN     ?=
PROTO   ?= sip
N       ?= 20
TOPO    ?= sbc
MECH    ?=

CC      ?= gcc
CLANG   ?= clang
# libnl-xfrm-3 (lib/ipsec/xfrm.c) and libnl-route-3 (lib/runtime/linkwatch.c) keep their
# headers under /usr/include/libnl3.
NL_CFLAGS := $(shell pkg-config --cflags libnl-xfrm-3.0 libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
NL_LIBS   := $(shell pkg-config --libs libnl-xfrm-3.0 libnl-route-3.0 2>/dev/null || echo -lnl-xfrm-3 -lnl-route-3 -lnl-3)
CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -I$(BUILD)/gen \
	   $(NL_CFLAGS) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS := $(EXTRA_LDFLAGS)
# -lsystemd: sd_notify for Type=notify units (lib/runtime/notify.c, contrib/systemd/).
LDLIBS  := -luring -lsqlite3 -lssl -lcrypto -lbpf -lelf -lz -lm -lsystemd $(NL_LIBS)
# -lmicrohttpd: each daemon's Prometheus /metrics (lib/runtime/metrics.c), on the daemon's loop.
LDLIBS  += -lmicrohttpd
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# The XDP program: CO-RE against this kernel's BTF, embedded into libgatekey as a skeleton.
BPFTOOL    ?= bpftool
BPF_CLANG  ?= clang
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
GEN        := $(BUILD)/gen
BPF_OBJ    := $(BUILD)/bpf/gatekey.bpf.o
SKEL       := $(GEN)/gatekey.skel.h
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Wextra -Werror \
	      -Wno-unused-function -Iinclude -I$(GEN)

# make check also builds the object with each of these and holds each to the verifier budget
# (tests/unit/test_verifier.c): a program that verifies with one compiler only is one compiler
# update away from not loading.
BPF_CHECK_CLANGS := clang-14 clang-19
BPF_CHECK_OBJS   := $(BPF_CHECK_CLANGS:%=$(BUILD)/bpf/verify/gatekey.%.bpf.o)

# lib/ has one folder per subsystem (docs/ARCHITECTURE.md); the library is all of them.
LIB_SRCS   := $(sort $(wildcard lib/*/*.c))
LIB_HDRS   := $(sort $(wildcard include/gatekey/*/*.h lib/*/*.h))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBGK      := $(BUILD)/libgatekey.a

# Each program is the objects of its own directory linked against libgatekey.
PROG_DIRS  := aucd softswitchd sbcd tools/gkterm tools/gkctl tools/gkbench tools/gkxdpbench tools/gkflood \
	      tools/gkimpair tests/gkmitm
PROGS      := $(foreach d,$(PROG_DIRS),$(BUILD)/bin/$(notdir $(d)))

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(sort $(wildcard tests/unit/helper_*.c))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)
KSFT_DIR   := $(BUILD)/kselftest
KSFT_HDRS  := $(KSFT_DIR)/kselftest.h $(KSFT_DIR)/kselftest_harness.h
# The kernel's harness macros have unused parameters and compare mixed signedness.
TEST_CFLAGS := -I$(KSFT_DIR) -Itests/unit -Wno-unused-parameter -Wno-sign-compare

FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -Iinclude -I$(GEN) $(NL_CFLAGS) \
	       -fsanitize=fuzzer,address,undefined
FUZZ_TIME  ?= 10

# The manuals (docs/man/*.scd, scdoc). gatekey.conf(5)'s key lists are not written by hand: each
# is a program's own table as it prints it (--config-keys=scdoc, scripts/man-conf.sh), so the page
# and --help cannot differ. Dated by the last commit, so a rebuild makes the same page.
MAN_SRCS   := $(sort $(wildcard docs/man/*.[1-8].scd))
MANS       := $(MAN_SRCS:docs/man/%.scd=$(BUILD)/man/%) $(BUILD)/man/gatekey.conf.5
MAN_CONF_PROGS := $(BUILD)/bin/aucd $(BUILD)/bin/softswitchd $(BUILD)/bin/sbcd $(BUILD)/bin/gkctl
MAN_DATE   := $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

.SECONDARY:
.PHONY: all deps check check-unit check-vm check-e2e check-san check-fuzz demo bench impaired soak install clean help \
	fuzz format deb

all: $(PROGS) $(MANS)

help:
	@echo "make deps     install the Debian packages gatekey needs (as root)"
	@echo "make all      build libgatekey, the daemons and the tools into $(BUILD)/"
	@echo "make check    run every test: unit, end-to-end (netns), the ESP tests in a guest,"
	@echo "              sanitizer build, fuzz corpora"
	@echo "make check-vm the ESP tests (test_xfrm, test_ipsec_daemons) in a guest with Debian's kernel (tests/vm/run.sh)"
	@echo "make demo     start a rig and register N terminals (PROTO=$(PROTO) N=$(N) TOPO=$(TOPO);"
	@echo "              PROTO is sip, mgcp, h248, h323 or mix, TOPO sbc or direct;"
	@echo "              MECH=ipsec-3gpp: three terminals per protocol with ESP, in a guest)"
	@echo "make bench    print benchmark figures ('bench <name> <value> <unit>')"
	@echo "make impaired registrations over lossy, duplicating, reordering links (prints, never asserts)"
	@echo "make soak     churn at half capacity over 1 % loss for SOAK_S seconds (default 600): fails"
	@echo "              if RSS grows past its tables' steps, fds or a table grows, or a registration"
	@echo "              fails; tables and plot in $(BUILD)/soak/"
	@echo "make install  install binaries, the RADIUS dictionary, the Wireshark dissector, the"
	@echo "              systemd units and the manuals under DESTDIR/PREFIX"
	@echo "make deb      the Debian package, $(BUILD)/deb/gatekey_<version>_amd64.deb (dpkg-buildpackage)"

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(GEN)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

# What the XDP program compiles of ours: the shared decision and the headers it includes.
BPF_HDRS := $(wildcard include/gatekey/fastpath/fastpath.h include/gatekey/fastpath/trailer.h \
	    include/gatekey/crypto/siphash.h include/gatekey/runtime/reason.h)

$(BPF_OBJ): bpf/gatekey.bpf.c $(BPF_HDRS) $(GEN)/vmlinux.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/verify/gatekey.%.bpf.o: bpf/gatekey.bpf.c $(BPF_HDRS) $(GEN)/vmlinux.h
	@mkdir -p $(dir $@)
	$* $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name gatekey_bpf > $@.tmp && mv $@.tmp $@

# Only lib/fastpath/xdp.c includes the skeleton; the first build has no .d file to say so.
$(BUILD)/lib/fastpath/xdp.o: $(SKEL)

$(LIBGK): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define prog_rule
$(BUILD)/bin/$(notdir $(1)): $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard $(1)/*.c))) $(LIBGK)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(PROG_DIRS),$(eval $(call prog_rule,$(d))))

$(BUILD)/man/%: docs/man/%.scd scripts/scdoc-tidy.awk
	@mkdir -p $(dir $@)
	SOURCE_DATE_EPOCH=$(MAN_DATE) scdoc < $< > $@.roff
	awk -f scripts/scdoc-tidy.awk $@.roff > $@.tmp && mv $@.tmp $@ && rm $@.roff

$(BUILD)/man/gatekey.conf.5.scd: docs/man/gatekey.conf.5.scd.in scripts/man-conf.sh $(MAN_CONF_PROGS)
	@mkdir -p $(dir $@)
	scripts/man-conf.sh $(BUILD)/bin < $< > $@.tmp && mv $@.tmp $@

$(BUILD)/man/gatekey.conf.5: $(BUILD)/man/gatekey.conf.5.scd scripts/scdoc-tidy.awk
	SOURCE_DATE_EPOCH=$(MAN_DATE) scdoc < $< > $@.roff
	awk -f scripts/scdoc-tidy.awk $@.roff > $@.tmp && mv $@.tmp $@ && rm $@.roff

$(KSFT_HDRS):
	scripts/fetch-kselftest.sh $(KSFT_DIR)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(LIBGK) | $(KSFT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIBGK) \
		$(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/unit/helper_%.o: tests/unit/helper_%.c | $(KSFT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -c $< -o $@

# The fuzzers link the library sources directly, built with clang and the fuzzer runtime.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(LIB_HDRS) $(LIB_SRCS) $(SKEL)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

fuzz: $(FUZZ_BINS)

check: deps
	$(MAKE) check-unit check-e2e
	$(MAKE) check-vm
	$(MAKE) check-san
	$(MAKE) check-fuzz

check-unit: all $(UNIT_BINS) $(BPF_CHECK_OBJS)
	GK_BUILD=$(abspath $(BUILD)) prove -f $(UNIT_BINS) tests/unit/t_manuals.sh

# test_xfrm and test_ipsec_daemons once more, as root in a QEMU guest booted with Debian 12's
# kernel, which has ESP and rfc4106(gcm(aes)): where the host's kernel lacks them check-unit skips
# those cases, and this is where they run. The second starts aucd, softswitchd, sbcd, gkctl and
# gkterm in the guest, which get them beside it (GK_VM_WITH). The kernel package and the base
# initramfs are cached in build/vm/cache; they do not depend on the build: both builds share it.
# (and iproute2's ip, for the `ip xfrm state count` lines the test prints). The captures of the
# terminals' link it prints come out in $(BUILD)/vm-out, where the host's tshark reads them.
VM_PROGS := $(BUILD)/bin/aucd $(BUILD)/bin/softswitchd $(BUILD)/bin/sbcd $(BUILD)/bin/gkctl \
            $(BUILD)/bin/gkterm $(shell command -v ip 2>/dev/null)
check-vm: $(BUILD)/tests/test_xfrm $(BUILD)/tests/test_ipsec_daemons all
	GK_VM_DIR=$(abspath build)/vm tests/vm/run.sh $(BUILD)/tests/test_xfrm
	rm -rf $(BUILD)/vm-out
	GK_VM_DIR=$(abspath build)/vm GK_VM_TIMEOUT=900 GK_VM_WITH="$(VM_PROGS)" \
		GK_VM_OUT=$(abspath $(BUILD))/vm-out tests/vm/run.sh $(BUILD)/tests/test_ipsec_daemons
	GK_VM_OUT=$(abspath $(BUILD))/vm-out prove -v tests/vm/t_esp_captures.sh

check-e2e: all
	GK_BUILD=$(abspath $(BUILD)) prove -f $(sort $(wildcard tests/e2e/t_*.sh))

# The same suite against binaries built with ASan+UBSan.
check-san:
	$(MAKE) BUILD=build/san SAN=1 check-unit check-e2e check-vm

check-fuzz: $(FUZZ_BINS)
	GK_BUILD=$(abspath $(BUILD)) FUZZ_TIME=$(FUZZ_TIME) prove -f tests/fuzz/run-fuzzers.sh

# MECH=ipsec-3gpp: in the guest of check-vm, whose kernel has ESP (tools/demo-ipsec.sh).
demo: deps all
ifeq ($(MECH),ipsec-3gpp)
	$(MAKE) $(BUILD)/tests/test_ipsec_daemons
	GK_BUILD=$(abspath $(BUILD)) tools/demo-ipsec.sh --proto $(PROTO) --topology $(TOPO)
else ifneq ($(MECH),)
	@echo "make demo: MECH is ipsec-3gpp or unset (gk-mac, with a tenth on digest), not '$(MECH)'" >&2; exit 2
else
	GK_BUILD=$(abspath $(BUILD)) tools/demo.sh --proto $(PROTO) -n $(N) --topology $(TOPO)
endif

bench: deps all
	GK_BUILD=$(abspath $(BUILD)) tools/bench.sh

# Registrations over lossy, duplicating, reordering links (tools/gkimpair): prints, never asserts.
impaired: deps all
	GK_BUILD=$(abspath $(BUILD)) tools/impaired.sh

# The soak: churn at half of measured capacity, 1 % loss, SOAK_S seconds (make check runs 60).
SOAK_S ?= 600
soak: deps all
	GK_BUILD=$(abspath $(BUILD)) SOAK_S=$(SOAK_S) tools/soak.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/bin/aucd $(BUILD)/bin/softswitchd $(BUILD)/bin/sbcd \
		$(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BUILD)/bin/gkterm $(BUILD)/bin/gkctl $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/gatekey
	install -m 0644 docs/dictionary.gatekey $(DESTDIR)$(PREFIX)/share/gatekey/
	install -d $(DESTDIR)$(PREFIX)/share/gatekey/wireshark
	install -m 0644 contrib/wireshark/gatekey.lua $(DESTDIR)$(PREFIX)/share/gatekey/wireshark/
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 contrib/systemd/*.service $(DESTDIR)$(UNITDIR)/
	install -d $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 0644 contrib/systemd/gatekey.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/gatekey.conf
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 $(filter %.1,$(MANS)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(filter %.5,$(MANS)) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(filter %.8,$(MANS)) $(DESTDIR)$(PREFIX)/share/man/man8/

# The Debian package, built by dpkg-buildpackage (debian/) from a copy of the tree's files as they
# are now (committed or not) under $(BUILD)/deb/, so that neither the tree nor its parent fills
# with build products: $(BUILD)/deb/gatekey_<version>_amd64.deb. The package's build is its own:
# none of this make's variables (BUILD, SAN) reach it.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make deb: needs dpkg-dev and debhelper (make deps)" >&2; exit 1; }
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/gatekey-$(DEB_VERSION)
	git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t $(BUILD)/deb/gatekey-$(DEB_VERSION)
	cd $(BUILD)/deb/gatekey-$(DEB_VERSION) && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u SAN dpkg-buildpackage -b -us -uc -j$$(nproc) \
		>../build.log 2>&1 || \
		{ tail -40 ../build.log >&2; exit 1; }
	@ls $(BUILD)/deb/gatekey_$(DEB_VERSION)_amd64.deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
