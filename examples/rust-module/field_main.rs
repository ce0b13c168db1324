// SPDX-License-Identifier: GPL-2.0

//! A small out-of-tree Rust module, built by kbuild-shim's CI with `make M=`
//! and with DKMS against a Linux 7.3 tree with `CONFIG_RUST_INLINE_HELPERS`.

use kernel::prelude::*;

module! {
    type: KshimField,
    name: "kshim_field",
    authors: ["kbuild-shim"],
    description: "kbuild-shim CI: an out-of-tree Rust module with subdir-ccflags-y",
    license: "GPL",
}

struct KshimField {
    numbers: KVec<i32>,
}

impl kernel::Module for KshimField {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // KVec and pr_info! go through C helpers (rust_helper_*), which
        // CONFIG_RUST_INLINE_HELPERS inlines into this object.
        let mut numbers = KVec::new();
        numbers.push(72, GFP_KERNEL)?;
        pr_info!("kshim_field: {} numbers\n", numbers.len());
        Ok(KshimField { numbers })
    }
}

impl Drop for KshimField {
    fn drop(&mut self) {
        pr_info!("kshim_field: exit with {:?}\n", self.numbers);
    }
}
