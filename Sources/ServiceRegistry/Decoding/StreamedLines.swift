import Foundation

/// The lines of a streamed body (a watch: etcd's and the Kubernetes API's send one JSON object a
/// line), cut as the chunks arrive, whatever chunk a line is split across.
public struct StreamedLines: Sendable {
    private var pending: [UInt8] = []
    /// Where the next line starts in `pending`; what is before it was handed out.
    private var start = 0

    public init() {}

    /// Takes the next chunk of the body.
    public mutating func append(_ chunk: some Sequence<UInt8>) {
        if start > 0 {
            pending.removeFirst(start)
            start = 0
        }
        pending.append(contentsOf: chunk)
    }

    /// The next complete line, without its newline; nil until one has arrived whole.
    public mutating func next() -> Data? {
        guard let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        defer { start = newline + 1 }
        return Data(pending[start..<newline])
    }
}
