/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KSHIM_FIELD_H
#define KSHIM_FIELD_H
#define KSHIM_FIELD_ANSWER 42
int kshim_field_answer(void);
#endif
