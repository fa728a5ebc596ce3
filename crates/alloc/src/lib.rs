//! railyard's global allocator: small blocks from mimalloc, large ones from the system's.
//!
//! A render allocates and frees many small values (tree nodes, strings, map entries); with
//! glibc's malloc that was a fifth of a fleet render's time, and mimalloc serves it faster. But
//! mimalloc grows a large block by copying it into a new one, so a buffer that doubles while a
//! hostile input is parsed holds both copies at once, where glibc moves the pages (`mremap`)
//! without a copy: on the largest hostile input that took the peak from 129 MB to 230 MB. So
//! each block goes by its size: below [`LARGE`] to mimalloc, from it on to the system.
//!
//! Sound because Rust hands `dealloc` and `realloc` the layout the block was allocated with:
//! its size alone says which allocator owns it, with no lookup.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of at least this many bytes come from the system allocator.
pub const LARGE: usize = 1 << 20;

/// The allocator; `#[global_allocator] static A: Split = Split;` in the binary.
pub struct Split;

/// Whether a block of `size` bytes is the system allocator's.
fn large(size: usize) -> bool {
    size >= LARGE
}

#[allow(unsafe_code)]
// SAFETY: every block is allocated, resized and freed by the allocator its size names
// (`large`), and both allocators uphold `GlobalAlloc`'s contract for the layouts they receive.
unsafe impl GlobalAlloc for Split {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout has a non-zero size, as `GlobalAlloc::alloc` requires.
        unsafe {
            if large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `layout` is the one `ptr` was allocated with, so its size names the same
        // allocator that allocated it.
        unsafe {
            if large(layout.size()) {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` belongs to the allocator `layout.size()` names; when the new size names
        // the other one, the block moves: a new block there, the bytes both hold copied, the
        // old block freed by its owner.
        unsafe {
            match (large(layout.size()), large(new_size)) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        let kept = layout.size().min(new_size);
                        std::ptr::copy_nonoverlapping(ptr, new, kept);
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks that cross the threshold in both directions keep their bytes and are freed by
    /// their owner (a wrong owner aborts the test process).
    #[test]
    fn blocks_cross_the_threshold_both_ways() {
        let mut v: Vec<u8> = (0..=255u8).cycle().take(LARGE - 1).collect();
        v.reserve_exact(2);
        v.push(1);
        v.push(2);
        assert!(v.capacity() >= LARGE);
        assert_eq!(v[..256], (0..=255u8).collect::<Vec<_>>()[..]);
        v.truncate(10);
        v.shrink_to_fit();
        assert_eq!(v, (0..10u8).collect::<Vec<_>>());
        let zeroed = vec![0u64; LARGE];
        assert!(zeroed.iter().all(|x| *x == 0));
    }

    #[global_allocator]
    static A: Split = Split;
}
