import Foundation
import Synchronization

/// Bytes gathered by one thread (a pipe reader) and read by another (the test).
public final class ByteCollector: Sendable {
    private let storage = Mutex(Data())

    public init() {}

    public func append(_ data: Data) { storage.withLock { $0.append(data) } }

    public var data: Data { storage.withLock { $0 } }

    public var text: String { String(decoding: data, as: UTF8.self) }
}
