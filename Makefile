# omnicat — build, dependencies, demo, tests, benchmarks, install.
#
#   make            build ./omnicat (optimised, -Wall -Wextra -Werror)
#   make deps       install the Debian build dependencies (apt-get, as root)
#   make demo       deps + build + a cross-endpoint pipeline on loopback
#   make test       deps + test peers + sanitizer build (ASan+UBSan) + every test
#   make bench      benchmarks against the tools users would pick instead
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

# Debian 12 packages: build dependencies and test peers. `make deps` / `make peers` install them.
BUILD_DEPS := build-essential pkg-config libuv1-dev libjansson-dev libcurl4-openssl-dev \
	libssl-dev libcsv-dev libhttp-parser-dev libnghttp2-dev libwebsockets-dev libwebsockets-evlib-uv \
	libpaho-mqtt-dev libmosquitto-dev libcoap3-dev libedit-dev media-types ca-certificates
TEST_PEERS := socat ncat iperf3 mandoc python3 python3-websockets procps psmisc coreutils nginx \
	openssl curl wrk nghttp2-server mosquitto mosquitto-clients python3-paho-mqtt \
	libcoap3-bin tmux
BENCH_PEERS := socat iperf3 nginx wrk curl python3 python3-websockets mosquitto mosquitto-clients \
	libcoap3-bin
# npm packages (tests/node/package-lock.json) for peers Debian lacks: node's ws.
NODE_PEERS := tests/node/node_modules/.package-lock.json

PKGS    := libmosquitto libuv jansson libcurl libcrypto libssl libnghttp2 libwebsockets libcoap-3-openssl \
	libedit
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla
CPPFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -DOC_VERSION='"$(VERSION)"' -Icore -Iproto-adapters \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_ALL   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lhttp_parser -lpaho-mqtt3as

# Quiet by default; `make V=1` shows the commands.
V ?= 0
ifeq ($(V),0)
Q = @
else
Q =
endif

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CORE_SRC  := $(wildcard core/*.c)
PROTO_SRC := $(wildcard proto-adapters/*.c proto-adapters/*/*.c)
CMD_SRC   := $(wildcard cmd/*.c)
LIB_SRC   := $(CORE_SRC) $(PROTO_SRC) $(filter-out cmd/main.c,$(CMD_SRC))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

# Two variants share the sources: build/rel (./omnicat) and build/san (sanitizers).
REL_OBJ := $(patsubst %.c,build/rel/%.o,$(LIB_SRC))
SAN_OBJ := $(patsubst %.c,build/san/%.o,$(LIB_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/san/tests/%,$(UNIT_SRC))

.PHONY: all deps peers node-peers demo test check unit e2e bench install clean san

all: omnicat

omnicat: build/rel/cmd/main.o $(REL_OBJ)
	@[ "$(V)" = 0 ] && echo "  LD      $@" || true
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)

san: build/san/omnicat

build/san/omnicat: build/san/cmd/main.o $(SAN_OBJ)
	@[ "$(V)" = 0 ] && echo "  LD san  $@" || true
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_ALL)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 0 ] && echo "  CC      $<" || true
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 0 ] && echo "  CC san  $<" || true
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS) $(SAN_FLAGS) $(WARN) -MMD -MP -c -o $@ $<

build/san/tests/%: tests/unit/%.c tests/unit/unit.h $(SAN_OBJ)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 0 ] && echo "  LD test $@" || true
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS) $(SAN_FLAGS) $(WARN) -o $@ $< $(SAN_OBJ) $(LDLIBS_ALL)

-include $(shell find build -name '*.d' 2>/dev/null)

# --- dependencies -------------------------------------------------------------------------
# As root: apt-get update once per make invocation, then install. Otherwise print the command.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "omnicat: missing packages; run as root:" >&2; \
		echo "  apt-get update && apt-get install -y $$missing" >&2; exit 1; \
	fi; \
	echo "installing: $$missing"; \
	if [ ! -f build/.apt-updated ]; then apt-get update -qq && mkdir -p build && touch build/.apt-updated; fi; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

peers: deps node-peers
	$(call apt_install,$(TEST_PEERS))

# Node.js from Debian when the machine has none, then the locked npm packages.
node-peers:
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory node-apt
	@[ -f $(NODE_PEERS) ] || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)

node-apt:
	$(call apt_install,nodejs npm)

# --- demo, tests, benchmarks ------------------------------------------------------------------
demo: deps
	$(MAKE) omnicat
	./tests/demo.sh ./omnicat

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $$t || exit 1; done

# check: everything, assuming dependencies are installed.
check: omnicat build/san/omnicat $(UNIT_BIN)
	OMNICAT=$(CURDIR)/build/san/omnicat OMNICAT_REL=$(CURDIR)/omnicat OMNICAT_REQUIRE_PEERS=1 \
		UNIT_BINS="$(UNIT_BIN)" ./tests/run

test: peers
	$(MAKE) check

bench: deps node-peers
	$(call apt_install,$(BENCH_PEERS))
	$(MAKE) omnicat
	./bench/run

# --- install --------------------------------------------------------------------------------
install: omnicat
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 omnicat $(DESTDIR)$(PREFIX)/bin/omnicat
	install -m 644 man/omnicat.1 $(DESTDIR)$(PREFIX)/share/man/man1/omnicat.1
	install -m 644 completions/omnicat.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/omnicat
	install -m 644 completions/_omnicat $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_omnicat
	install -m 644 completions/omnicat.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/omnicat.fish

clean:
	rm -rf build omnicat
