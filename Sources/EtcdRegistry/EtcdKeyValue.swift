/// One key as etcd holds it: its value's bytes and the revisions that let a writer compare and swap.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    /// The revision that created the key (0: the key does not exist).
    public var createRevision: Int64
    /// The revision of the last write: what a compare-and-swap compares.
    public var modRevision: Int64
    public var version: Int64

    public init(key: String, value: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
    }

    public var text: String { String(decoding: value, as: UTF8.self) }
}

/// A range's answer: the keys and the store revision they were read at.
public struct EtcdRange: Sendable {
    public var keyValues: [EtcdKeyValue]
    /// The store's revision at the read (not the greatest mod_revision): watch from here + 1.
    public var revision: Int64
    /// More keys match than the limit let through.
    public var more: Bool
    /// How many keys the whole range holds at `revision`, this page's and the rest; 0 when the
    /// answer did not say (the gateway's reader leaves it out).
    public var count: Int = 0
}

/// A compare of a transaction: the key's mod_revision (or create_revision, 0 for "absent") must equal a value.
public struct EtcdCompare: Sendable {
    public enum Target: String, Sendable {
        case modRevision = "MOD"
        case createRevision = "CREATE"
    }

    public var key: String
    public var target: Target
    public var revision: Int64

    /// The key's last write is still `revision` (0: the key does not exist).
    public static func modRevision(_ key: String, equals revision: Int64) -> EtcdCompare {
        EtcdCompare(key: key, target: .modRevision, revision: revision)
    }

    /// The key does not exist.
    public static func absent(_ key: String) -> EtcdCompare {
        EtcdCompare(key: key, target: .createRevision, revision: 0)
    }
}

/// A write of a transaction.
public enum EtcdOperation: Sendable {
    case put(key: String, value: [UInt8])
    case delete(key: String)
    /// A read, for the failure branch: what the key holds now.
    case get(key: String)
}

/// A transaction's answer: whether the compares held, and the keys read by `get`s of the branch that ran.
public struct EtcdTxnResult: Sendable {
    public var succeeded: Bool
    public var revision: Int64
    public var read: [EtcdKeyValue]
}

/// One message of a watch.
public enum EtcdWatchMessage: Sendable, Equatable {
    /// The watch is established.
    case created(revision: Int64)
    /// Changes, in order; all of one message share the cursor `revision` (a txn arrives whole).
    case events([EtcdWatchEvent], revision: Int64)
    /// Nothing changed up to `revision` (a progress notification).
    case progress(revision: Int64)
}

public enum EtcdWatchEvent: Sendable, Equatable {
    case put(EtcdKeyValue)
    /// A delete carries only the key and its mod_revision.
    case delete(key: String, modRevision: Int64)
}
