import Atomics

/// The client's reply for one forwarded query, sent by whichever comes first: the upstream's
/// answer, or a stale answer when the upstream is slow (RFC 8767's client response timer).
final class ReplyOnce: Sendable {
    private let sent = ManagedAtomic(false)
    private let reply: @Sendable (ForwardedAnswer) -> Void

    init(_ reply: @escaping @Sendable (ForwardedAnswer) -> Void) {
        self.reply = reply
    }

    var isSent: Bool { sent.load(ordering: .acquiring) }

    /// Sends `answer` unless something was sent already; true when this call sent it.
    @discardableResult
    func send(_ answer: ForwardedAnswer) -> Bool {
        guard sent.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        reply(answer)
        return true
    }
}
