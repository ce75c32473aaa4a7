@testable import ServiceRegistry
import Testing

/// Objects are keyed by their names lower-cased, as DNS compares them: a name already lower case
/// is kept as it is, any other is lowered, whatever string type it comes in.
@Suite struct ObjectKeyTests {
    @Test(arguments: [
        ("web", "web"), ("Web", "web"), ("team-009", "team-009"), ("feed-INVOICE-0123456789-long-name", "feed-invoice-0123456789-long-name"),
        ("ÄPFEL", "äpfel"), ("", ""),
    ])
    func aKeyHoldsItsNamesLowerCased(name: String, folded: String) {
        let key = ObjectKey(namespace: name, name: name)
        #expect(key.namespace == folded)
        #expect(key.name == folded)
        // A slice of a longer text, as decoders hand names over.
        let text = "<" + name + ">"
        let inner = text.dropFirst().dropLast()
        #expect(ObjectKey.folded(inner) == folded)
        #expect(ObjectKey(namespace: inner, name: "x") == ObjectKey(namespace: folded, name: "X"))
    }
}
