// swift-tools-version:6.0
// Diffusion from Scratch in Swift — see README.md ("How the code is organised").
import Foundation
import PackageDescription

// Swift's default x86-64 target is SSE2 only: no AVX, no FMA. The fast kernels ask the
// compiler for the build machine's own instructions (`-march=native`), or for the target
// named by the environment variable TINYTENSOR_MARCH (e.g. `x86-64-v3` = AVX2 + FMA, to
// build and test the AVX2 path on an AVX-512 machine; `make bench-avx2`, `make test-avx2`).
// Swift has no `#if` for CPU features, so when the target has AVX-512 this file defines
// TINYTENSOR_AVX512, which selects the GEMM's 32-register tile (GEMMMicroKernel.swift); for
// `native` it looks for the `avx512f` flag in /proc/cpuinfo (Linux; elsewhere: no AVX-512).
// On other architectures (Apple silicon, aarch64 Linux) NEON is the baseline and no flag
// is needed.
// `-fno-math-errno`: on Linux, `Float.squareRoot()` goes through C's `__builtin_sqrtf`,
// which must set errno for negative inputs; that turns every square root into a branch and
// a possible library call, and stops loops with a square root (Adam, norms) from being
// vectorised. We never read errno, so the flag makes them one instruction (10x on Adam).
let march = ProcessInfo.processInfo.environment["TINYTENSOR_MARCH"] ?? "native"

/// Whether `-march=<march>` includes AVX-512 (F).
func hasAVX512(_ march: String) -> Bool {
    if march == "native" {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").contains("avx512f") ?? false
    }
    let avx512Targets = ["x86-64-v4", "knl", "knm", "skylake-avx512", "cascadelake", "cooperlake", "cannonlake",
                         "icelake-client", "icelake-server", "tigerlake", "sapphirerapids", "graniterapids",
                         "emeraldrapids", "rocketlake", "znver4", "znver5"]
    return avx512Targets.contains(march)
}

#if arch(x86_64)
let fastFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=\(march)", "-Xcc", "-fno-math-errno"])]
    + (hasAVX512(march) ? [.define("TINYTENSOR_AVX512")] : [])
#else
let fastFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-fno-math-errno"])]
#endif

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

/// Files in a chapter folder that are data, not sources (read at run time by path).
let chapterAssets: [String: [String]] = [
    "Chapter03-Forward": ["ASSETS.md", "chelsea.png"],
]

/// One executable target per chapter: `Chapters/ChapterNN-Name/main.swift`.
func chapter(_ name: String, _ deps: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["TinyTensor", "Diffusion", "Figures", "ChapterSupport", argumentParser] + deps,
        path: "Chapters/\(name)",
        exclude: ["README.md"] + (chapterAssets[name] ?? []),
        swiftSettings: fastFlags)
}

let chapters = [
    "Chapter01-Clusters",
    "Chapter02-Schedules",
    "Chapter03-Forward",
    "Chapter04-MLPDenoiser",
    "Chapter05-UNet",
    "Chapter06-FashionMNIST",
    "Chapter07-FastSampling",
    "Chapter08-Guidance",
    "Chapter09-ScoreMatching",
]

let package = Package(
    name: "DiffusionFromScratch",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "TinyTensor", targets: ["TinyTensor"]),
        .library(name: "Diffusion", targets: ["Diffusion"]),
        .library(name: "Figures", targets: ["Figures"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian: libpng-dev, libgif-dev, zlib1g-dev).
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CGIF", path: "Sources/CGIF",
                       providers: [.apt(["libgif-dev"]), .brew(["giflib"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // Atomic writes: a temporary file, renamed when complete, removed on Ctrl-C (Foundation only).
        .target(name: "AtomicFiles"),
        // The tensor library: Foundation and Dispatch only (and AtomicFiles for its checkpoints).
        .target(name: "TinyTensor", dependencies: ["AtomicFiles"], swiftSettings: fastFlags),
        // The DDPM pieces, named after the paper.
        .target(name: "Diffusion", dependencies: ["TinyTensor", "CZlib"], swiftSettings: fastFlags),
        // Pictures without Python: PNG/GIF through libpng/giflib, canvas, plots, image grids.
        .target(name: "Figures", dependencies: ["AtomicFiles", "TinyTensor", "CPNG", "CGIF"], swiftSettings: fastFlags),
        // What the chapters' command lines share: options, output folder, errors, training sessions.
        .target(name: "ChapterSupport", dependencies: ["AtomicFiles", "TinyTensor", "Diffusion", "Figures", argumentParser],
                swiftSettings: fastFlags),

        .executableTarget(name: "Benchmarks", dependencies: ["TinyTensor", "Diffusion"],
                          path: "Benchmarks/Sources", swiftSettings: fastFlags),

        .testTarget(name: "TinyTensorTests", dependencies: ["TinyTensor"],
                    resources: [.copy("Fixtures")], swiftSettings: fastFlags),
        .testTarget(name: "DiffusionTests", dependencies: ["AtomicFiles", "Diffusion", "TinyTensor"],
                    resources: [.copy("Fixtures")], swiftSettings: fastFlags),
        .testTarget(name: "FiguresTests", dependencies: ["Figures", "TinyTensor"], swiftSettings: fastFlags),
        .testTarget(name: "ChapterTests", dependencies: chapters.map { .target(name: $0) } + ["TinyTensor"],
                    swiftSettings: fastFlags),
    ] + chapters.map { chapter($0) },
    swiftLanguageModes: [.v5]
)

// The fuzz harness of the readers (IDX over gzip, PNG, safetensors): only with DIFFUSION_FUZZ=1,
// built by `make fuzz` into .build-fuzz with -sanitize=fuzzer (libFuzzer supplies main), so
// `swift build` and `make test` never see it. See Fuzz/README.md.
if ProcessInfo.processInfo.environment["DIFFUSION_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "FuzzReaders", dependencies: ["TinyTensor", "Diffusion", "Figures"], path: "Fuzz/Sources",
        swiftSettings: fastFlags + [.unsafeFlags(["-parse-as-library"])]))
}
