import Foundation
import TinyTensor

// The benchmark executable: `swift run -c release Benchmarks [section] [--threads N]`.
//
// Each section is one file (MatmulBenchmark.swift, ...) with a `run(options)` function;
// add a new one to `sections` below. `all` (the default) runs every section in order.

/// Command-line settings shared by every section.
struct BenchmarkOptions {
    /// Threads for TinyTensor's kernels (and for the reference libraries, where they allow it).
    var threads = Parallel.threadCount
    /// Only the cases whose name contains this text (sections with named cases), if set.
    var only: String? = nil
    /// Skip the reference libraries (numpy, PyTorch): ours only, for profiling.
    var noReference = false

    func includes(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }
}

let sections: [(name: String, summary: String, run: (BenchmarkOptions) -> Void)] = [
    ("matmul", "GFLOP/s of gemm at square and MLP shapes beside numpy's matmul", MatmulBenchmark.run),
    ("conv", "the U-Net's conv2d, GroupNorm and softmax at batch 128 beside PyTorch CPU", ConvBenchmark.run),
    ("mlp", "Chapter 4 training step and sampling beside PyTorch CPU", MLPBenchmark.run),
    ("unet", "one U-Net training step (batch 128, Fashion config) beside PyTorch, and where the time goes", UNetBenchmark.run),
    ("unets", "one training step of each of the three U-Nets (Annotated, MindSpore port, TwoResUNet) beside PyTorch", UNetsBenchmark.run),
    ("threads", "what starting a parallel loop costs: the worker pool beside DispatchQueue.concurrentPerform", ThreadsBenchmark.run),
    ("sample", "Chapter 6's sampling: a U-Net forward at batch 64 under no-grad and a whole 300-step reverse process, beside PyTorch", SamplingBenchmark.run),
]

func usage() -> String {
    let names = sections.map { "  \($0.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.summary)" }
    return """
    usage: swift run -c release Benchmarks [all | \(sections.map(\.name).joined(separator: " | "))] [--threads N] [--only TEXT] [--no-reference]
    \(names.joined(separator: "\n"))
    """
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n\(usage())\n".utf8))
    exit(2)
}

var options = BenchmarkOptions()
var chosen: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--threads":
        guard let value = arguments.popFirst(), let n = Int(value), n >= 1 else {
            fail("--threads needs a whole number of at least 1, for example --threads 2.")
        }
        options.threads = n
    case "--only":
        guard let value = arguments.popFirst() else { fail("--only needs part of a case name, for example --only 112.") }
        options.only = value
    case "--no-reference":
        options.noReference = true
    case "-h", "--help":
        print(usage())
        exit(0)
    default:
        guard argument == "all" || sections.contains(where: { $0.name == argument }) else {
            fail("unknown section '\(argument)'; pick one of the sections below.")
        }
        chosen.append(argument)
    }
}
if chosen.isEmpty || chosen.contains("all") { chosen = sections.map(\.name) }

Parallel.threadCount = options.threads
setvbuf(stdout, nil, _IOLBF, 0)   // each line as it is printed, also into a file or a pipe
print("Benchmarks: \(chosen.joined(separator: ", ")); threads \(options.threads); load average \(Timing.loadAverage() ?? "unknown")")
print("CPU: \(cpuModel()); GEMM micro-kernel: \(GEMMMicroKernel.name)")
for section in sections where chosen.contains(section.name) {
    print("")
    section.run(options)
}

/// The processor's name (Linux: /proc/cpuinfo's "model name"; elsewhere the architecture).
func cpuModel() -> String {
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
       let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
       let colon = line.firstIndex(of: ":") {
        let lines = info.split(separator: "\n")
        let flags = lines.first { $0.hasPrefix("flags") }?.split(separator: " ") ?? []
        let simd = flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "no AVX2"
        // A VM often names only "AMD EPYC": the family and model say which generation it is.
        func field(_ name: String) -> Int? {
            lines.first { $0.hasPrefix(name) && $0.dropFirst(name.count).first.map { $0 == " " || $0 == "\t" } == true }
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        var generation = ""
        if let family = field("cpu family"), let model = field("model") {
            generation = ", family \(family) model \(model)"
            if line.contains("AMD") {
                let zen = family == 26 ? "Zen 5" : family == 23 ? "Zen / Zen 2"
                    : family == 25 ? ((0x10...0x1f).contains(model) || (0x60...0xaf).contains(model) ? "Zen 4" : "Zen 3") : nil
                if let zen { generation += " (\(zen))" }
            }
        }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) + generation + ", has \(simd)"
    }
    #if arch(arm64)
    return "arm64"
    #else
    return "unknown"
    #endif
}
