// SPDX-License-Identifier: GPL-2.0
/* A plain C object: same c_flags, and cmd_ld_single when LTO=1. */

u32 c_plain_function(u32 a)
{
	return a * 3 + 1;
}
