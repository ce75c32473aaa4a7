import ClusterZones
import DNSWire
import Foundation
import ServiceRegistry

/// The cluster every spec row is asked against: `spec-cluster/spec-cluster.yaml`, loaded as the
/// binary loads it, so in-process tests and the end-to-end tests serve the same registry.
public enum SpecFixture {
    /// The manifest directory, for `clusterdns serve --registry`.
    public static let manifestDirectory: String = Bundle.module.url(forResource: "spec-cluster", withExtension: nil)!.path

    public static let snapshot: RegistrySnapshot = {
        let loaded = ManifestLoader.load(paths: [manifestDirectory])
        precondition(loaded.isValid, "the spec fixture must load cleanly: \(loaded.report)")
        return loaded.snapshot
    }()

    /// The zone configuration the rows expect: `cluster.local`, TTL 5, our address 127.0.0.1 (as
    /// the binary uses its listen address).
    public static func configuration(podMode: PodMode) -> ZoneConfiguration {
        ZoneConfiguration(domain: try! DNSName("cluster.local"), ttl: 5, podMode: podMode, nameServerAddresses: [IPAddress("127.0.0.1")!])
    }

    public static func catalog(podMode: PodMode = .disabled) -> Catalog {
        Catalog(snapshot: snapshot, configuration: configuration(podMode: podMode))
    }

    /// Every name the catalog says its zones hold (what the answer table compiles).
    public static func heldNames(_ catalog: Catalog) -> Set<DNSName> {
        var names = Set<DNSName>()
        catalog.forEachClusterZoneName { name, _ in names.insert(name.lowercased()) }
        for zone in catalog.reverseZones { catalog.forEachName(in: zone) { name, _ in names.insert(name.lowercased()) } }
        return names
    }

    /// `name` with the case of every other letter flipped: a second spelling to ask each row in.
    public static func otherSpelling(of name: String) -> String {
        var flip = false
        return String(name.map { character -> Character in
            guard character.isLetter else { return character }
            flip.toggle()
            guard flip else { return character }
            return Character(character.isUppercase ? character.lowercased() : character.uppercased())
        })
    }
}

/// A response as a user reads it, from a decoded message or from dig's output: what the spec
/// rows are checked against.
public struct SpecResponse: Sendable {
    public var rcode: String
    public var authoritative: Bool
    /// The question name as the response spells it (with the trailing dot); nil when not seen.
    public var question: String?
    public var answers: [String]
    public var authority: [String]
    public var additional: [String]

    public init(rcode: String, authoritative: Bool, question: String?, answers: [String], authority: [String], additional: [String]) {
        self.rcode = rcode
        self.authoritative = authoritative
        self.question = question
        self.answers = answers
        self.authority = authority
        self.additional = additional
    }

    public init(_ message: DNSMessage) {
        self.init(
            rcode: message.responseCode.description, authoritative: message.header.isAuthoritative,
            question: message.questions.first.map(\.name.description), answers: message.answers.map(\.description),
            authority: message.authority.map(\.description), additional: message.additional.map(\.description))
    }

    /// The answer a zone gave, before any encoding.
    public init(_ answer: Answer, question: DNSName) {
        self.init(
            rcode: answer.responseCode.description, authoritative: answer.authoritative, question: question.description,
            answers: answer.answers.map(\.description), authority: answer.authority.map(\.description),
            additional: answer.additional.map(\.description))
    }
}

extension SpecCase {
    /// What `response`, to this row asked as `spelling`, gets wrong; empty when it is all right.
    /// Record text is compared exactly (after folding white space and the SOA serial), so letter
    /// case is checked too: the question and owners equal to it in `spelling`, the rest lower case.
    public func mismatches(in response: SpecResponse, askedAs spelling: String) -> [String] {
        var problems: [String] = []
        func compare(_ section: String, _ actual: [String], _ expected: [String]) {
            let actual = actual.map(Self.normalized).sorted()
            let expected = expected.map { respelled($0, as: spelling) }.map(Self.normalized).sorted()
            if actual != expected { problems.append("\(section): \(actual) instead of \(expected)") }
        }
        if response.rcode != rcode.description { problems.append("rcode \(response.rcode) instead of \(rcode)") }
        if response.authoritative != expectsAuthoritative { problems.append("AA \(response.authoritative) instead of \(expectsAuthoritative)") }
        if let question = response.question, question != spelling + "." {
            problems.append("question \(question) instead of the client's \(spelling).")
        }
        compare("answer", response.answers, answers)
        if let additional { compare("additional", response.additional, additional) }
        let soa = "\(zoneApex) 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5"
        compare("authority", response.authority, expectsSOAInAuthority ? [soa] : [])
        return problems
    }

    /// `record` with an owner equal to the row's name spelled as the client spelled it.
    private func respelled(_ record: String, as spelling: String) -> String {
        let fields = record.split(separator: " ", maxSplits: 1)
        guard let owner = fields.first, owner.lowercased() == name.lowercased() + "." else { return record }
        return spelling + "." + (fields.count > 1 ? " " + fields[1] : "")
    }

    /// White space folded to single spaces, and an SOA's serial (it changes with every load) replaced by `SERIAL`.
    static func normalized(_ record: String) -> String {
        var fields = record.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if fields.count > 6, fields[3] == "SOA" { fields[6] = "SERIAL" }
        return fields.joined(separator: " ")
    }
}
