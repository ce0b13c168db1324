// SPDX-License-Identifier: GPL-2.0
/* The C side of extmod: needs both of its Kbuild's flags. */
#include "extmod.h"

#ifndef EXTMOD_CONFIG_OFFSET
#error "extmod-config.h was not force-included"
#endif

u32 extmod_c_scale(u32 x)
{
	return x * EXTMOD_SCALE + EXTMOD_CONFIG_OFFSET;
}
