/* SPDX-License-Identifier: GPL-2.0 */
/* Found only through subdir-ccflags-y += -I$(src)/include. */
#ifndef __FOO_H
#define __FOO_H
#define FOO_MAGIC 0x466f6fu
#endif
