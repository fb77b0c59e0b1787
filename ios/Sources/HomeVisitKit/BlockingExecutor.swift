import Foundation

/// Runs the core's blocking calls (SQLite, automerge) one at a time on a background queue and
/// resumes the awaiting caller when each finishes, so the main actor never waits on disk.
///
/// One serial queue per store: the core serialises writes anyway, and keeping calls in order
/// means an edit followed by a read sees the edit.
public final class BlockingExecutor: @unchecked Sendable {
    private let queue: DispatchQueue

    /// An executor on its own serial queue named `label`.
    public init(label: String = "app.homevisit.store") {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Runs `body` on the executor's queue and returns its result (or rethrows its error).
    public func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.async {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Queues `body` without waiting for it (observer registration).
    public func submit(_ body: @escaping () -> Void) {
        queue.async(execute: body)
    }
}
