/// Values handed from one task to another that waits for the next with a time limit: answers from the CA,
/// the publisher's connection events, renewal requests. Waiting ends early when the waiting task is cancelled.
actor Mailbox<Element: Sendable> {
    private var buffered: [Element] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<Element?, Never>)?
    private var lastWaiter = 0

    func put(_ element: Element) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: element)
        } else {
            buffered.append(element)
        }
    }

    /// Forgets what arrived before a new exchange starts (stale answers, old events).
    func drain() {
        buffered.removeAll()
    }

    /// The next element, or nil once `timeout` has passed (or the calling task is cancelled). One waiter at a time.
    func next(timeout: Duration) async -> Element? {
        if !buffered.isEmpty { return buffered.removeFirst() }
        if Task.isCancelled { return nil }
        lastWaiter += 1
        let id = lastWaiter
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiter = (id, continuation)
            }
        } onCancel: {
            Task { await self.expire(id) }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}
