/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for include/linux/compiler_types.h + kconfig.h (force-included). */
#ifndef __MINIKBUILD_COMPILER_STUB_H
#define __MINIKBUILD_COMPILER_STUB_H
#ifndef __KERNEL__
#error "compiled without -D__KERNEL__"
#endif
#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
/* As in v2 patch 2/3: helpers are always_inline so LLVM inlines them
 * despite the C/Rust attribute differences (target-features etc.). */
#define __rust_helper __attribute__((__always_inline__))
typedef unsigned int u32;
typedef unsigned long long u64;
#endif
