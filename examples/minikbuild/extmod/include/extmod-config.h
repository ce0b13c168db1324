/* SPDX-License-Identifier: GPL-2.0 */
/* Forced into every C file by the Kbuild's -include. */
#ifndef __EXTMOD_CONFIG_H
#define __EXTMOD_CONFIG_H
#define EXTMOD_CONFIG_OFFSET 11u
#endif
