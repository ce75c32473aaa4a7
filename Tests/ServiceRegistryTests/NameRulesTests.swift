@testable import ServiceRegistry
import Testing

/// The API server's name formats, checked as bytes in place (every object's name passes here).
@Suite struct NameRulesTests {
    static let label63 = String(repeating: "a", count: 63)

    static let threeLongLabels = [String](repeating: label63, count: 3).joined(separator: ".")
    static let subdomains: [(String, Bool)] = [
        ("web", true), ("1kubernetes", true), ("a-b", true), ("a.b", true), ("web.shop.svc", true),
        ("", false), (".", false), (".a", false), ("a.", false), ("a..b", false),
        ("-a", false), ("a-", false), ("a.-b", false), ("a.b-", false), ("Web", false), ("a_b", false), ("é", false),
        (label63, true), (label63 + "a", false), (label63 + "." + label63, true), (label63 + ".b" + label63, false),
        // 253 bytes, then 254.
        (threeLongLabels + "." + String(repeating: "b", count: 61), true),
        (threeLongLabels + "." + String(repeating: "b", count: 62), false),
    ]

    @Test(arguments: subdomains)
    func subdomainsAreDotSeparatedLabelsOfAtMost253Bytes(name: String, valid: Bool) {
        #expect(NameRules.isRFC1123Subdomain(name) == valid, "\(name)")
    }

    @Test(arguments: [("web", true), ("1kubernetes", true), ("a.b", false), ("", false), ("-a", false), ("a-", false), (label63, true), (label63 + "a", false)])
    func labelsAreLowerCaseLettersDigitsAndInnerHyphens(name: String, valid: Bool) {
        #expect(NameRules.isRFC1123Label(name) == valid, "\(name)")
    }

    @Test(arguments: [
        (#"{"apiVersion":"v1"}"#, true), (#"{"kind":"x","apiVersion":"v1"}"#, true), (#"{"kind":"apiVersion"}"#, true),
        (#"{"kind":"Service"}"#, false), (#"{"apiversion":"v1"}"#, false), (#""apiVersio"#, false), ("", false), (#""""apiVersion""#, true),
    ])
    func aStoredValueMentioningApiVersionIsFoundByBytes(json: String, mentions: Bool) {
        #expect(StoredObjectDecoding.mentionsAPIVersion(Array(json.utf8)) == mentions, "\(json)")
    }

    @Test(arguments: [("http", true), ("web-1", true), ("h2c", true), ("a-b-c", true), ("a--b", false), ("80", false), ("-http", false), ("http-", false), ("abcdefghijklmno", true), ("abcdefghijklmnop", false), ("Http", false), ("", false)])
    func ianaServiceNamesHaveALetterAndNoDoubleHyphen(name: String, valid: Bool) {
        #expect(NameRules.isIANAServiceName(name) == valid, "\(name)")
    }
}
