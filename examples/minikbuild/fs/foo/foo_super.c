// SPDX-License-Identifier: GPL-2.0
/* The C side of fs/foo: needs the directory's -I$(src)/include. */
#include "foo.h"

u32 foo_super_magic(u32 x)
{
	return x ^ FOO_MAGIC;
}
