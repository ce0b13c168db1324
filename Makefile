# kbuild-shim: build, install and uninstall.
#
#   make                                   cargo build --release
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   make uninstall PREFIX=/usr DESTDIR=/tmp/pkg
#
# Installs $(PREFIX)/bin/kbuild-shim, the masquerade directory
# $(PREFIX)/lib/kbuild-shim/bin (symlinks named after the tools, relative so
# the tree can be moved or packaged), the man page and the README.
#
# install never rebuilds: it installs BIN (default: cargo's release binary;
# relative paths are relative to this directory) as it is, so
# `sudo make install` works where root has no cargo. Only when BIN is the
# default and missing does it run cargo, if cargo is in PATH.

PREFIX ?= /usr/local
DESTDIR ?=
LLVM_VER ?= 22
CARGO ?= cargo
INSTALL ?= install
release_bin = $(or $(CARGO_TARGET_DIR),target)/release/kbuild-shim
BIN ?= $(release_bin)

bindir = $(PREFIX)/bin
shimdir = $(PREFIX)/lib/kbuild-shim/bin
man1dir = $(PREFIX)/share/man/man1
docdir = $(PREFIX)/share/doc/kbuild-shim
# The names kbuild calls with LLVM=1 and LLVM=-$(LLVM_VER), and plain ld.
links = clang clang-$(LLVM_VER) ld.lld ld.lld-$(LLVM_VER) ld
# What every masquerade link points to (shimdir is three levels below PREFIX).
link_target = ../../../bin/kbuild-shim

all: $(release_bin)

# Cargo knows when the binary is up to date; make does not.
$(release_bin): FORCE
	$(CARGO) build --release --locked

# Expanded only when install runs: a missing BIN is built (default BIN and
# cargo in PATH) or stops make with one line saying what to do.
have_cargo = $(shell command -v $(CARGO) 2>/dev/null)
build_if_missing = $(if $(wildcard $(BIN)),,$(if $(filter $(release_bin),$(BIN)),$(if $(have_cargo),$(CARGO) build --release --locked,$(error $(BIN) is missing and '$(CARGO)' is not in PATH: build it first (cargo build --release) or set BIN=/path/to/kbuild-shim)),$(error BIN=$(BIN) does not exist)))

install:
	$(build_if_missing)
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(shimdir) $(DESTDIR)$(man1dir) $(DESTDIR)$(docdir)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(bindir)/kbuild-shim
	for n in $(links); do ln -sfn $(link_target) $(DESTDIR)$(shimdir)/$$n || exit 1; done
	$(INSTALL) -m 644 kbuild-shim.1 $(DESTDIR)$(man1dir)/kbuild-shim.1
	$(INSTALL) -m 644 README.md $(DESTDIR)$(docdir)/README.md

# Every link to the shim goes, whatever LLVM_VER install was run with; other
# files a user put in the masquerade directory stay (and so does the directory).
uninstall:
	rm -f $(DESTDIR)$(bindir)/kbuild-shim $(DESTDIR)$(man1dir)/kbuild-shim.1 $(DESTDIR)$(docdir)/README.md
	for l in $(DESTDIR)$(shimdir)/*; do \
		if [ -L "$$l" ] && [ "$$(readlink "$$l")" = $(link_target) ]; then rm -f "$$l" || exit 1; fi; \
	done
	-rmdir $(DESTDIR)$(shimdir) $(DESTDIR)$(PREFIX)/lib/kbuild-shim $(DESTDIR)$(docdir) 2>/dev/null

.PHONY: all install uninstall FORCE
FORCE:
