extension Spool {
    /// The publisher's half of a reading's trip through the spool, for the microbenchmarks in
    /// board/bench/micro (SPI, so it is not part of the agent's API): hands out up to `limit`
    /// records as the publisher loop does, acknowledges each as its PUBACK would, and returns how many.
    @_spi(Benchmarks) public func takeAndAcknowledge(limit: Int) -> Int {
        let taken = takeUnsent(limit: limit)
        for record in taken {
            acknowledge(record.seq)
        }
        return taken.count
    }
}
