import ServiceRegistry

/// Two Services that produce the same variable name (`foo-service`'s `FOO_SERVICE_PORT` URL and
/// `foo`'s `FOO_SERVICE_PORT` number). The kubelet lets a random one win; we let the later Service
/// in name order win and report both, so the user can rename one.
public struct VariableCollision: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// The Service whose value was overwritten, and that value.
    public var overwritten: ObjectReference
    public var overwrittenValue: String
    /// The Service whose value the output carries, and that value.
    public var winner: ObjectReference
    public var winningValue: String

    public init(name: String, overwritten: ObjectReference, overwrittenValue: String, winner: ObjectReference, winningValue: String) {
        self.name = name
        self.overwritten = overwritten
        self.overwrittenValue = overwrittenValue
        self.winner = winner
        self.winningValue = winningValue
    }

    public var description: String {
        "\(name) is set by both \(overwritten) (\(overwrittenValue)) and \(winner) (\(winningValue)); "
            + "using the value of \(winner)"
    }
}
