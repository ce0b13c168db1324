/* SPDX-License-Identifier: GPL-2.0 */
/* Found only through the Kbuild's -I$(src)/include. */
#ifndef __EXTMOD_H
#define __EXTMOD_H
#define EXTMOD_SCALE 5u
#endif
