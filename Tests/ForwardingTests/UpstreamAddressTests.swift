import DNSWire
import Foundation
import Testing

@testable import Forwarding

struct UpstreamAddressTests {
    @Test(arguments: [
        ("10.0.0.10", "10.0.0.10:53"), ("10.0.0.10:5353", "10.0.0.10:5353"), ("::1", "[::1]:53"), ("[::1]:5353", "[::1]:5353"),
        ("[2001:db8::1]", "[2001:db8::1]:53"),
    ])
    func addressesWithAndWithoutPortsParse(_ text: String, _ expected: String) throws {
        #expect(try UpstreamAddress(parsing: text).description == expected)
    }

    @Test(arguments: ["dns.google", "10.0.0.1:0", "10.0.0.1:70000", "[::1", "[::1]5353", "10.0.0.1:x", ""])
    func namesAndBadPortsAreRejected(_ text: String) {
        #expect(throws: ForwardingError(.badUpstream, "")) { try UpstreamAddress(parsing: text) }
    }

    @Test func aResolvConfGivesItsNameserversInOrderWithoutComments() throws {
        let text = """
            # generated
            search default.svc.cluster.local svc.cluster.local
            nameserver 10.0.0.2 # the first
            nameserver\t2001:db8::53
            ; nameserver 10.9.9.9
            options ndots:5
            """
        let upstreams = try UpstreamAddress.resolvConf(text, path: "/etc/resolv.conf")
        #expect(upstreams.map(\.description) == ["10.0.0.2:53", "[2001:db8::53]:53"])
    }

    @Test func aResolvConfWithoutNameserversIsAnErrorNamingTheFile() {
        #expect {
            try UpstreamAddress.resolvConf("search cluster.local\n", path: "/tmp/resolv.conf")
        } throws: { error in
            (error as? ForwardingError)?.code == .badResolvConf && "\(error)".hasPrefix("/tmp/resolv.conf")
        }
    }

    @Test func aBadNameserverLineIsReportedWithItsLine() {
        #expect {
            try UpstreamAddress.resolvConf("nameserver 10.0.0.1\nnameserver 10.0.0.300\n", path: "/r")
        } throws: { error in
            "\(error)".hasPrefix("/r:2:")
        }
    }

    @Test func forwardValuesMixAddressesAndFilesAndDropRepeats() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UUID().uuidString).conf")
        try "nameserver 10.0.0.3\nnameserver 10.0.0.4\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let upstreams = try UpstreamAddress.list(from: ["10.0.0.3", file.path, "10.0.0.5:5353"])
        #expect(upstreams.map(\.description) == ["10.0.0.3:53", "10.0.0.4:53", "10.0.0.5:5353"])
    }

    @Test func anUnreadableResolvConfIsAnError() {
        #expect(throws: ForwardingError(.badResolvConf, "")) { try UpstreamAddress.list(from: ["/nonexistent/resolv.conf"]) }
    }
}

struct UpstreamPolicyTests {
    @Test func sequentialAlwaysStartsWithTheFirst() {
        #expect(UpstreamPolicy.sequential.order(count: 3, turn: 7) == [0, 1, 2])
    }

    @Test func roundRobinStartsOneFurtherEachTurn() {
        #expect((0..<4).map { UpstreamPolicy.roundRobin.order(count: 3, turn: $0) } == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]])
    }

    @Test func randomTriesEveryUpstreamOnce() {
        for turn in 0..<20 {
            #expect(UpstreamPolicy.random.order(count: 4, turn: turn).sorted() == [0, 1, 2, 3])
        }
    }
}
