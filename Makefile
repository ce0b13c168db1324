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

# Every path reaches the shell single-quoted (a ' in it as '\''), so PREFIX,
# DESTDIR and BIN may hold spaces and shell metacharacters, as makepkg's and
# rpmbuild's build roots can. Make's own word functions (wildcard, filter)
# split at spaces, so none of them sees a path.
q = '$(subst ','\'',$(1))'
# A newline would end the recipe line inside the quotes: refused up front,
# before anything is written or removed.
define nl


endef
check_paths = $(foreach v,PREFIX DESTDIR BIN,$(if $(findstring $(nl),$($(v))),$(error $(v) contains a newline, which make cannot hand to the shell)))
# Exact string equality (each contains the other).
eq = $(and $(findstring $(1),$(2)),$(findstring $(2),$(1)))

# Expanded only when install runs: a missing BIN is built (default BIN and
# cargo in PATH) or stops make with one line saying what to do.
have_cargo = $(shell command -v $(CARGO) 2>/dev/null)
have_bin = $(shell test -e $(call q,$(BIN)) && echo y)
build_if_missing = $(if $(have_bin),,$(if $(call eq,$(release_bin),$(BIN)),$(if $(have_cargo),$(CARGO) build --release --locked,$(error $(BIN) is missing and '$(CARGO)' is not in PATH: build it first (cargo build --release) or set BIN=/path/to/kbuild-shim)),$(error BIN=$(BIN) does not exist)))

install:
	$(check_paths)$(build_if_missing)
	$(INSTALL) -d $(call q,$(DESTDIR)$(bindir)) $(call q,$(DESTDIR)$(shimdir)) $(call q,$(DESTDIR)$(man1dir)) $(call q,$(DESTDIR)$(docdir))
	$(INSTALL) -m 755 $(call q,$(BIN)) $(call q,$(DESTDIR)$(bindir)/kbuild-shim)
	for n in $(links); do ln -sfn $(link_target) $(call q,$(DESTDIR)$(shimdir))/$$n || exit 1; done
	$(INSTALL) -m 644 kbuild-shim.1 $(call q,$(DESTDIR)$(man1dir)/kbuild-shim.1)
	$(INSTALL) -m 644 README.md $(call q,$(DESTDIR)$(docdir)/README.md)

# Every link to the shim goes, whatever LLVM_VER install was run with; other
# files a user put in the masquerade directory stay (and so does the directory).
uninstall:
	$(check_paths)rm -f $(call q,$(DESTDIR)$(bindir)/kbuild-shim) $(call q,$(DESTDIR)$(man1dir)/kbuild-shim.1) $(call q,$(DESTDIR)$(docdir)/README.md)
	for l in $(call q,$(DESTDIR)$(shimdir))/*; do \
		if [ -L "$$l" ] && [ "$$(readlink "$$l")" = $(link_target) ]; then rm -f "$$l" || exit 1; fi; \
	done
	-rmdir $(call q,$(DESTDIR)$(shimdir)) $(call q,$(DESTDIR)$(PREFIX)/lib/kbuild-shim) $(call q,$(DESTDIR)$(docdir)) 2>/dev/null

.PHONY: all install uninstall FORCE
FORCE:
