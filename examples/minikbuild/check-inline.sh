#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# check-inline.sh OBJ: prove from the final ELF object that the always_inline
# rust_helper_* were inlined into the Rust code, and that the negative control
# (rust_helper_noinline_mix: no always_inline, so LLVM refuses it for
# "nullptr definitions incompatible", as for every plain kernel helper) is
# still called, so the check can tell inlined from not. Exit 0 iff all pass.
set -u
OBJDUMP=${LLVM_OBJDUMP:-llvm-objdump-22}
NM=${LLVM_NM:-llvm-nm-22}
obj=${1:?usage: check-inline.sh OBJ}
[ -f "$obj" ] || { echo "FAIL: $obj: no such file"; exit 2; }
if [ "$(head -c 4 "$obj" | od -An -tx1 | tr -d ' \n')" = 4243c0de ]; then
	echo "FAIL: $obj is LLVM bitcode, not ELF (LTO=1 without ld -r?)"; exit 2
fi
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# Disassembly (with relocations) of one function, minus its header line.
dis() { "$OBJDUMP" -d -r --no-show-raw-insn --disassemble-symbols="$1" "$obj" | sed '1,/<'"$1"'>:$/d'; }
syms=$("$NM" "$obj") || { echo "FAIL: $NM $obj failed"; exit 2; }

for f in rust_uses_helper rust_uses_noinline_helper; do
	echo "$syms" | grep -Eq "^[0-9a-f]+ T $f\$" || fail "$f is not a defined global function"
done
d=$(dis rust_uses_helper) || exit 2
if [ -z "$d" ]; then
	fail "rust_uses_helper: empty disassembly"
elif echo "$d" | grep -q 'rust_helper_'; then
	fail "rust_uses_helper still references a helper: $(echo "$d" | grep 'rust_helper_' | head -n 1 | tr -s ' \t' ' ' | sed 's/^ //')"
else
	pass "rust_uses_helper: no call to rust_helper_* in its disassembly"
fi
bad=$(echo "$syms" | grep -E ' [A-TV-Z] rust_helper_| U rust_helper_' | grep -v rust_helper_noinline_ | tr -s ' ' | sed 's/^ //' | tr '\n' ';')
if [ -n "$bad" ]; then
	fail "global/undefined rust_helper_* symbols: $bad"
else
	pass "no always_inline rust_helper_* symbol is global or undefined"
fi
if dis rust_uses_noinline_helper | grep -q 'rust_helper_noinline_mix'; then
	pass "negative control: rust_uses_noinline_helper still calls rust_helper_noinline_mix"
else
	fail "negative control: rust_helper_noinline_mix was inlined too; the check cannot discriminate"
fi
if [ "$fails" -eq 0 ]; then echo "inline check: OK ($obj)"; else echo "inline check: $fails FAILED ($obj)"; fi
[ "$fails" -eq 0 ]
