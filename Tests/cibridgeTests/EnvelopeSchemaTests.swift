import CIBridgeTestSupport
import Foundation
import Testing

/// Every envelope cibridge prints validates against docs/envelope.schema.json,
/// checked by Python's `jsonschema` (Draft 2020-12), a validator we did not write.
@Suite("Envelope JSON Schema")
struct EnvelopeSchemaTests {
    static let validator = """
        import json, sys
        from jsonschema import Draft202012Validator
        schema = json.load(open(sys.argv[1]))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        count = 0
        for line in sys.stdin:
            errors = sorted(validator.iter_errors(json.loads(line)), key=str)
            for error in errors:
                print(f"envelope {count}: {error.json_path}: {error.message}")
            if errors:
                sys.exit(1)
            count += 1
        print(f"{count} valid")
        """

    @Test("All seed, shape and documented-callback fixtures give schema-valid envelopes")
    func fixturesValidate() throws {
        var paths: [String] = []
        for folder in ["seed", "shapes", "callbacks"] {
            let directory = CLIRunner.fixtures.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() {
                paths.append(directory.appendingPathComponent(name).path)
            }
        }
        let decoded = try CLIRunner.run(["decode"] + paths)
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let lines = decoded.stdoutLines.count
        #expect(lines >= paths.count - 8)  // test requests print nothing

        let schema = CLIRunner.repositoryRoot.appendingPathComponent("docs/envelope.schema.json").path
        let checked = try ChildProcess.run("/usr/bin/env", ["python3", "-c", Self.validator, schema], stdin: Data(decoded.stdout.utf8))
        #expect(checked.status == 0, "jsonschema: \(checked.stdout) \(checked.stderr) (scripts/test installs python3-jsonschema)")
        #expect(checked.stdout == "\(lines) valid\n")
    }

    @Test("The schema rejects what it should: a missing id, a numeric scalar, an empty object, misplaced moderation attributes")
    func schemaHasTeeth() throws {
        let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        var envelope = try #require(try JSONSerialization.jsonObject(with: Data(golden.utf8)) as? [String: Any])
        var broken: [[String: Any]] = []
        var noID = envelope
        noID["id"] = nil
        broken.append(noID)
        var verdictOnAJob = envelope
        verdictOnAJob["verdict"] = "block"
        broken.append(verdictOnAJob)
        var moderationWithoutVersion = envelope
        moderationWithoutVersion["type"] = "com.tencentcloud.ci.moderation.image"
        moderationWithoutVersion["interim"] = "false"
        broken.append(moderationWithoutVersion)
        var unknownVerdict = moderationWithoutVersion
        unknownVerdict["contentversion"] = "Detail"
        unknownVerdict["verdict"] = "maybe"
        broken.append(unknownVerdict)
        var data = envelope["data"] as! [String: Any]
        data["JobId"] = 5
        envelope["data"] = data
        broken.append(envelope)
        data["JobId"] = [String: Any]()
        envelope["data"] = data
        broken.append(envelope)

        let schema = CLIRunner.repositoryRoot.appendingPathComponent("docs/envelope.schema.json").path
        for document in broken {
            let line = try JSONSerialization.data(withJSONObject: document) + Data("\n".utf8)
            let checked = try ChildProcess.run("/usr/bin/env", ["python3", "-c", Self.validator, schema], stdin: line)
            #expect(checked.status == 1, "\(checked.stdout)")
        }
    }
}
