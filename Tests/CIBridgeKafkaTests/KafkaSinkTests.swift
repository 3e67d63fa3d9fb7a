import CIBridgeCore
import CIBridgeKafka
import CIBridgeOutbox
import Foundation
import Testing

@Suite("Kafka sink against the mock cluster", .serialized)
struct KafkaSinkTests {
    @Test("Every envelope arrives intact; each workflow's events are in one partition, in order")
    func deliveryAndOrder() async throws {
        let bed = try KafkaTestbed(partitions: ["ci.task-finish": 6])
        defer { bed.remove() }
        let envelopes = try workflowEnvelopes(workflows: 12, jobsEach: 5)
        try await bed.append(envelopes)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()

        #expect(try bed.highWater("ci.task-finish") == 60)
        let records = try bed.readAll("ci.task-finish", expect: 60)
        #expect(records.count == 60)
        let sent = Set(envelopes.map { $0.jsonBytes() })
        #expect(Set(records.map(\.value)) == sent)
        #expect(records.allSatisfy { $0.header("content-type") == Array("application/cloudevents+json".utf8) })
        var partitionOf: [String: Int32] = [:]
        var lastJob: [String: Int] = [:]
        for record in records.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let key = String(decoding: record.key, as: UTF8.self)
            #expect(partitionOf[key, default: record.partition] == record.partition, "\(key) spread over partitions")
            partitionOf[key] = record.partition
            let job = Int(EnvelopeFields(json: record.value)!["jobid"]!.split(separator: "-").last!)!
            #expect(job > lastJob[key, default: -1], "\(key) out of order")
            lastJob[key] = job
        }
        #expect(Set(partitionOf.values).count > 1)
    }
}
