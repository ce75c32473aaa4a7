extension Duration {
    /// `2s 213ms` or `8ms`, for log lines. Written out here rather than with Foundation's unit
    /// formatting, whose first use maps and touches ICU's data: about 6 MiB of a server's resident
    /// memory (50k-service registry: 6.4 MiB of ICU and FoundationInternationalization pages).
    public var briefly: String {
        let (seconds, attoseconds) = components
        let totalMilliseconds = max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let (wholeSeconds, milliseconds) = totalMilliseconds.quotientAndRemainder(dividingBy: 1000)
        return wholeSeconds > 0 ? "\(wholeSeconds)s \(milliseconds)ms" : "\(milliseconds)ms"
    }
}
