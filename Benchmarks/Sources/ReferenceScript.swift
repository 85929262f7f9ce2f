import Foundation

/// Runs one of the reference scripts in Benchmarks/reference (numpy or PyTorch, timed in the
/// same run as ours) and decodes the JSON it prints.
enum ReferenceScript {
    /// `python3 Benchmarks/reference/<name> <arguments>` with the BLAS/OpenMP thread count set to
    /// `threads`; nil, after printing why, when python3 or `library` is missing or the script fails.
    static func run<Output: Decodable>(_ name: String, arguments: [String], threads: Int,
                                       library: String, as: Output.Type) -> Output? {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let script = here.deletingLastPathComponent().appendingPathComponent("reference/\(name)")
        do {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path] + arguments
            var environment = ProcessInfo.processInfo.environment
            for key in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"] { environment[key] = "\(threads)" }
            process.environment = environment
            let stdout = Pipe(), stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            let data = stdout.fileHandleForReading.readDataToEndOfFile()
            let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let reason = errors.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
                print("\(library) reference unavailable (\(reason)); install python3 and \(library) to compare. Showing only ours.")
                return nil
            }
            return try JSONDecoder().decode(Output.self, from: data)
        } catch {
            print("\(library) reference unavailable (\(error.localizedDescription)); showing only ours.")
            return nil
        }
    }

    /// Encodes a value as a JSON command-line argument.
    static func json<T: Encodable>(_ value: T) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
