import Foundation
import Testing

/// `cibridge decode`, run as a process.
@Suite("cibridge decode")
struct DecodeCommandTests {
    @Test("Prints one canonical envelope per line, equal to the golden file")
    func seed() throws {
        let result = try CLIRunner.run(["decode", CLIRunner.fixture("seed/case3-workflow.json")])
        #expect(result.status == 0)
        let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        #expect(result.stdout == golden)
        #expect(result.stderr.isEmpty)
    }

    @Test("Reads standard input when no file is given")
    func standardInput() throws {
        let body = try Data(contentsOf: URL(fileURLWithPath: CLIRunner.fixture("seed/case2-workflow.xml")))
        let result = try CLIRunner.run(["decode"], stdin: body)
        #expect(result.status == 0)
        let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        #expect(result.stdout == golden)
    }

    @Test("A test ping prints nothing and says so on stderr, exit 0")
    func ping() throws {
        let result = try CLIRunner.run(["decode", CLIRunner.fixture("shapes/test-ping.json")])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderrLines.count == 1)
        #expect(result.stderr.contains("test ping"))
    }

    @Test("Bad input: exit 65 and one line FILE:LINE:COLUMN: reason")
    func badInput() throws {
        let path = CLIRunner.fixture("bad/mismatched-tag.xml")
        let result = try CLIRunner.run(["decode", path])
        #expect(result.status == 65)
        #expect(result.stdout.isEmpty)
        #expect(result.stderrLines == ["\(path):5:1: closing tag </Jobsdetail> does not match <JobsDetail>"])
    }

    @Test("Bad standard input is named <stdin>")
    func badStandardInput() throws {
        let result = try CLIRunner.run(["decode"], stdin: Data("{\"a\":".utf8))
        #expect(result.status == 65)
        #expect(result.stderrLines == ["<stdin>:1:6: unexpected end of input, expected a value"])
    }

    @Test("Every bad fixture exits 65 with exactly one stderr line, never a crash")
    func everyBadFixture() throws {
        let directory = CLIRunner.fixtures.appendingPathComponent("bad")
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() {
            let path = directory.appendingPathComponent(name).path
            let result = try CLIRunner.run(["decode", path])
            #expect(result.status == 65, "\(name)")
            #expect(result.stderrLines.count == 1, "\(name): \(result.stderr)")
            #expect(result.stderr.hasPrefix(path + ":"), "\(name)")
        }
    }

    @Test("Good and bad files together: good envelopes printed, exit 65")
    func mixed() throws {
        let result = try CLIRunner.run([
            "decode", CLIRunner.fixture("seed/case1-task-api.xml"), CLIRunner.fixture("bad/empty.txt"),
            CLIRunner.fixture("shapes/multi-jobs.json"),
        ])
        #expect(result.status == 65)
        #expect(result.stdoutLines.count == 3)
        #expect(result.stderrLines == ["\(CLIRunner.fixture("bad/empty.txt")): empty body"])
    }

    @Test("A missing file exits 66")
    func missingFile() throws {
        let result = try CLIRunner.run(["decode", "/nonexistent/callback.xml"])
        #expect(result.status == 66)
        #expect(result.stderrLines == ["/nonexistent/callback.xml: cannot read: No such file or directory"])
    }

    @Test("An input over --max-bytes is refused without reading it all")
    func maxBytes() throws {
        let result = try CLIRunner.run(["decode", "--max-bytes", "100", CLIRunner.fixture("seed/case1-task-api.xml")])
        #expect(result.status == 65)
        #expect(result.stderr.contains("larger than 100 bytes"))
    }

    @Test("--pretty prints the same envelope, indented")
    func pretty() throws {
        let path = CLIRunner.fixture("shapes/workflow-finish.xml")
        let compact = try CLIRunner.run(["decode", path])
        let pretty = try CLIRunner.run(["decode", "--pretty", path])
        #expect(pretty.status == 0)
        #expect(pretty.stdoutLines.count > 10)
        let a = try JSONSerialization.jsonObject(with: Data(compact.stdout.utf8)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: Data(pretty.stdout.utf8)) as? NSDictionary
        #expect(a != nil && a == b)
    }

    @Test("cibridge version names the linked C libraries")
    func version() throws {
        let result = try CLIRunner.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 3)
        #expect(result.stdout.contains("librdkafka 2."))
        #expect(result.stdout.contains("hiredis 0.14.1 (reader ok)") || result.stdout.contains("hiredis 1."))
    }
}
