/// Equal values kept as one copy: thousands of objects repeat the same few port lists, selectors
/// and label sets (50k Services name about 6k port lists, 49k EndpointSlices 8), and each decoded
/// object brings its own allocation of them. Uses are counted, so a value no one holds is let go.
struct SharedValues<Value: Hashable & Sendable>: Sendable {
    private var uses: [Value: Int] = [:]

    /// The copy held of `value`, counting one more use of it.
    mutating func share(_ value: Value) -> Value {
        guard let index = uses.index(forKey: value) else {
            uses[value] = 1
            return value
        }
        uses.values[index] += 1
        return uses.keys[index]
    }

    /// Counts one use less of `value`, which was shared.
    mutating func release(_ value: Value) {
        guard let index = uses.index(forKey: value) else { return }
        if uses.values[index] > 1 {
            uses.values[index] -= 1
        } else {
            uses.remove(at: index)
        }
    }
}
