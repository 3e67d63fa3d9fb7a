import CIBridgeKafka
import Testing

@Suite("librdkafka linkage")
struct KafkaLibraryTests {
    @Test("The linked librdkafka reports a 2.x version")
    func version() {
        let parts = KafkaLibrary.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3)
        #expect(parts.first == 2)
    }

    @Test("The linked librdkafka was built with the codecs and idempotence support the sink will need")
    func features() {
        let features = Set(KafkaLibrary.builtinFeatures)
        #expect(features.isSuperset(of: ["lz4", "zstd", "ssl", "sasl_scram"]))
    }
}
