/// A registry read from scratch, file by file: each file's objects go to a fresh store as they are
/// decoded, so a large registry is never held twice; the first definition of an object wins and
/// later ones are errors naming it; every problem is collected. `ManifestLoader` (check, export,
/// env) and `ManifestSource` (serve) both load this way.
struct RegistryLoad {
    private var store: RegistryStore
    private var errors: [RegistryError]
    private var skipped: [SkippedObject] = []
    private var reserved = Set<IPAddress>()
    private var firstSeen = FirstDefinitions()

    /// - Parameters:
    ///   - serial: the serial the store starts from; the loaded snapshot gets a greater one.
    ///   - pathErrors: problems found before reading (missing paths, empty directories).
    init(options: RegistryOptions, serial: UInt32, pathErrors: [RegistryError]) {
        store = RegistryStore(options: options, serial: serial)
        store.loadsFromScratch = true
        errors = pathErrors
    }

    /// Hands one file's objects to the store.
    mutating func add(_ file: DecodedFile) {
        errors += file.errors
        skipped += file.skipped
        reserved.formUnion(file.reservedAddresses)
        stage(file.allObjects)
    }

    /// Hands objects of a file to the store (a chunk of a streamed file: `StreamedJSONFile`, whose
    /// decoder leaves finding an object defined twice in the file to this).
    mutating func stage(_ objects: [RegistryObject]) {
        var duplicates = Set<Int>()
        objects.withUnsafeBufferPointer { objects in
            for index in objects.indices {
                guard let first = firstSeen.earlierLocation(of: objects[index].key, recording: objects[index].location) else { continue }
                errors.append(RegistryError(
                    code: .duplicateObject, reason: "defined twice: here and at \(first) (each kind/namespace/name may appear once)",
                    location: objects[index].location, object: objects[index].reference))
                duplicates.insert(index)
            }
        }
        store.stage(upserting: objects, except: duplicates)
    }

    /// Derives the registry and publishes it as `serial`.
    /// - Returns: the store, to keep applying changes to, and the result of the load.
    ///
    /// The store is moved out, the load left with an empty one. A load is held by the closures that
    /// feed it, and consuming it there copied it: the copy's tables were shared with the load's,
    /// so deriving each of 50k Services copied the paths it changed, and the load, let go after,
    /// freed the originals.
    mutating func finish(serial: UInt32, files: [String]) -> (store: RegistryStore, result: RegistryLoadResult) {
        var store = RegistryStore(options: self.store.options)
        swap(&store, &self.store)
        store.reservedAddresses = reserved
        store.stage([.synced])
        // Every Service derived, and published under `serial`: the change lists nothing, here.
        store.commitWhole(serial: serial)
        store.loadsFromScratch = false
        let result = RegistryLoadResult(snapshot: store.snapshot, errors: errors + store.errors, skipped: skipped, files: files)
        return (store, result)
    }
}
