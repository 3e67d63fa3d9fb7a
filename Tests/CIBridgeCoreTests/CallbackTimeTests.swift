import CIBridgeCore
import Testing

@Suite("Callback timestamps")
struct CallbackTimeTests {
    @Test("Tencent's timestamp forms become RFC 3339 with the offset kept", arguments: [
        ("2022-06-30T15:29:42+0800", "2022-06-30T15:29:42+08:00"),
        ("2022-08-09 14:54:17+0800", "2022-08-09T14:54:17+08:00"),
        ("2022-06-30T15:29:42+08:00", "2022-06-30T15:29:42+08:00"),
        ("2022-06-30T07:29:42Z", "2022-06-30T07:29:42Z"),
        ("2022-06-30T15:29:42.250+0800", "2022-06-30T15:29:42.250+08:00"),
        ("2021-01-01T00:00:00-0530", "2021-01-01T00:00:00-05:30"),
    ])
    func normalises(input: String, expected: String) throws {
        let time = try #require(CallbackTime(input))
        #expect(time.rfc3339 == expected)
    }

    @Test("The same instant in two offsets has the same epoch seconds")
    func instants() throws {
        let beijing = try #require(CallbackTime("2022-06-30T15:29:42+0800"))
        let utc = try #require(CallbackTime("2022-06-30T07:29:42Z"))
        #expect(beijing.epochSeconds == utc.epochSeconds)
        #expect(utc.epochSeconds == 1_656_574_182)
        #expect(try #require(CallbackTime("2022-06-30T15:29:43+0800")) > beijing)
    }

    @Test("Values that are not a full date-time with an offset are not times", arguments: [
        "", "2022-06-30", "2022-06-30T15:29:42", "2022-13-01T00:00:00Z", "2022-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z", "2022-06-30T24:00:00Z", "2022-06-30T15:29:42+8", "2022-06-30T15:29:42+0800 ",
        "yesterday at noon, Beijing", "2022-06-30T15:29:42.+0800",
    ])
    func rejects(input: String) {
        #expect(CallbackTime(input) == nil)
    }
}
