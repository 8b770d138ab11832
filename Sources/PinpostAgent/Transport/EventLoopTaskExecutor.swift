internal import NIOCore

/// Runs a task's jobs on one NIO event loop.
///
/// The publisher and its broker channel share this loop: bytes read from the socket reach the publisher, and its
/// writes reach the socket, without a thread switch or an eventfd wake-up on either side (per read and per burst,
/// those were most of the agent's CPU at QoS 1; see board/bench/BENCHMARKS.md). The price is that the publisher's
/// spool I/O runs on that loop; nothing else that is latency-sensitive is placed on it.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
