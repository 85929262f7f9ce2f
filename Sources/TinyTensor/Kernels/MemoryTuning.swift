#if os(Linux)
/// glibc's `mallopt(param, value)` (declared in malloc.h, which Swift's Glibc module omits).
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let M_TRIM_THRESHOLD: Int32 = -1, M_TOP_PAD: Int32 = -2, M_MMAP_THRESHOLD: Int32 = -3, M_MMAP_MAX: Int32 = -4
#endif

/// Keeps freed tensor memory in the process instead of handing it back to the kernel.
///
/// A training step allocates and frees hundreds of arrays of 1–100 MB (activations,
/// gradients, im2col columns). By default glibc serves every block above 128 KB–32 MB with
/// a fresh `mmap` and returns it with `munmap` on free, so the next step pays a page fault
/// (and a page of zeroing by the kernel) for every 4 KB it touches again: about a sixth of
/// the U-Net step went to that. Serving every block from the heap (no mmap) and never
/// trimming it lets freed blocks be reused directly; the process keeps its peak memory.
enum MemoryTuning {
    /// Applied once, the first time a tensor is made (`Tensor.init` touches it).
    static let applied: Void = {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)     // blocks up to 32 MB come from the heap,
        _ = mallopt(M_MMAP_MAX, 0)                  // and larger ones too (attention's 50–150 MB)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)    // never give the heap's top back
        _ = mallopt(M_TOP_PAD, 256 << 20)           // grow the heap in 256 MB steps
        #endif
    }()
}

/// An array of `count` floats left uninitialised, for kernels that overwrite every element:
/// filling it with zeros first would cost one more pass over memory (for a convolution's
/// output and gradients, several megabytes each).
@inline(__always) func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
