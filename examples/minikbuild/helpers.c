// SPDX-License-Identifier: GPL-2.0
/* Mini rust/helpers/helpers.c. compiler-stub.h comes in via -include. */

__rust_helper u32 rust_helper_add(u32 a, u32 b)
{
	return a + b;
}

__rust_helper u32 rust_helper_rotl(u32 x, u32 n)
{
	return (x << (n & 31)) | (x >> (-n & 31));
}

__rust_helper u64 rust_helper_mul_wide(u32 a, u32 b)
{
	return (u64)a * b;
}

/*
 * Negative control: a plain helper, as every helper was before v2 patch 2/3.
 * No __rust_helper, so nothing asks LLVM to inline it; it must remain a call.
 */
u32 rust_helper_noinline_mix(u32 x)
{
	x ^= x >> 16;
	x *= 0x45d9f3bu;
	return x ^ (x >> 16);
}

#ifdef MODULE
/*
 * Only in helpers_module.bc (-DMODULE): a module's Rust code calls it, so an
 * object linked against helpers.bc instead keeps an undefined reference.
 */
__rust_helper u32 rust_helper_module_only(u32 x)
{
	return x ^ 0x5a5a5a5au;
}
#endif
