# kbuild-shim: build, install and uninstall.
#
#   make                                   cargo build --release
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   make uninstall PREFIX=/usr DESTDIR=/tmp/pkg
#
# Installs $(PREFIX)/bin/kbuild-shim, the masquerade directory
# $(PREFIX)/lib/kbuild-shim/bin (symlinks named after the tools, relative so
# the tree can be moved or packaged), the man page and the README.
# BIN=path installs an already built binary instead of building one.

PREFIX ?= /usr/local
DESTDIR ?=
LLVM_VER ?= 22
CARGO ?= cargo
INSTALL ?= install
BIN ?= target/release/kbuild-shim

bindir = $(PREFIX)/bin
shimdir = $(PREFIX)/lib/kbuild-shim/bin
man1dir = $(PREFIX)/share/man/man1
docdir = $(PREFIX)/share/doc/kbuild-shim
# The names kbuild calls with LLVM=1 and LLVM=-$(LLVM_VER), and plain ld.
links = clang clang-$(LLVM_VER) ld.lld ld.lld-$(LLVM_VER) ld

all: target/release/kbuild-shim

# Cargo knows when the binary is up to date; make does not.
target/release/kbuild-shim: FORCE
	$(CARGO) build --release --locked

install: $(BIN)
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(shimdir) $(DESTDIR)$(man1dir) $(DESTDIR)$(docdir)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(bindir)/kbuild-shim
	for n in $(links); do ln -sfn ../../../bin/kbuild-shim $(DESTDIR)$(shimdir)/$$n || exit 1; done
	$(INSTALL) -m 644 kbuild-shim.1 $(DESTDIR)$(man1dir)/kbuild-shim.1
	$(INSTALL) -m 644 README.md $(DESTDIR)$(docdir)/README.md

uninstall:
	rm -f $(DESTDIR)$(bindir)/kbuild-shim $(DESTDIR)$(man1dir)/kbuild-shim.1 $(DESTDIR)$(docdir)/README.md
	for n in $(links); do rm -f $(DESTDIR)$(shimdir)/$$n; done
	-rmdir $(DESTDIR)$(shimdir) $(DESTDIR)$(PREFIX)/lib/kbuild-shim $(DESTDIR)$(docdir) 2>/dev/null

.PHONY: all install uninstall FORCE
FORCE:
