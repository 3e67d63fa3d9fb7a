import CIBridgeTop
import Testing

@Suite("Prometheus text")
struct PrometheusTextTests {
    @Test("Samples with and without labels, escapes, special values; comments skipped")
    func parses() throws {
        let samples = try PrometheusText.parse(
            """
            # HELP cibridge_outbox_bytes Bytes.
            # TYPE cibridge_outbox_bytes gauge
            cibridge_outbox_bytes 16.0
            cibridge_callbacks_total{result="accepted",status="200"} 3
            cibridge_sink_endpoint_info{sink="redis", endpoint="a \\"b\\" \\\\c\\nd"} 1 1700000000000
            cibridge_http_request_duration_seconds_bucket{le="+Inf"} 7

            x NaN
            """)
        #expect(samples.count == 5)
        #expect(samples[0] == MetricSample(name: "cibridge_outbox_bytes", value: 16))
        #expect(samples[1] == MetricSample(name: "cibridge_callbacks_total", labels: ["result": "accepted", "status": "200"], value: 3))
        #expect(samples[2].labels["endpoint"] == "a \"b\" \\c\nd")
        #expect(samples[2].value == 1)
        #expect(samples[3].labels["le"] == "+Inf")
        #expect(samples[4].value.isNaN)
    }

    @Test("A line that is not a sample is refused with its line number", arguments: [
        "cibridge_x{sink=\"redis\" 1", "cibridge_x{sink=redis} 1", "cibridge_x twelve", "{a=\"b\"} 1", "<html>",
    ])
    func refuses(line: String) {
        #expect {
            try PrometheusText.parse("# ok\ncibridge_y 1\n\(line)\n")
        } throws: { error in
            let error = error as! TopError
            return error.kind == .malformed && error.message.hasPrefix("line 3 ")
        }
    }
}
