import CIBridgeRedis
import Testing

@Suite("hiredis linkage")
struct RedisLibraryTests {
    @Test("The hiredis headers are a 0.14 or later release")
    func version() {
        let parts = RedisLibrary.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3)
        #expect(parts[0] > 0 || parts[1] >= 14)
    }

    @Test("The linked hiredis reader parses a RESP status reply")
    func reader() {
        #expect(RedisLibrary.readerSelfCheck() == "OK")
    }
}
