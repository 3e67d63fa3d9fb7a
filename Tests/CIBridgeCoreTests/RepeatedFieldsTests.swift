import CIBridgeCore
import Testing

/// Which fields are always arrays: names anywhere, `Parent/Child` pairs only under their parent.
@Suite("Repeated fields")
struct RepeatedFieldsTests {
    @Test("Names are arrays under any parent; pairs only under theirs; near misses are not")
    func rules() {
        let fields = RepeatedFields.tencentCI
        for name in ["JobsDetail", "Tasks", "AudioSection", "OcrResults", "LibResults", "ListResults"] {
            #expect(fields.isRepeated(name, under: "Response"), "\(name)")
            #expect(fields.isRepeated(name, under: ""), "\(name)")
        }
        #expect(fields.isRepeated("Audio", under: "Stream"))
        #expect(!fields.isRepeated("Audio", under: "Response"))
        #expect(fields.isRepeated("Keywords", under: "OcrResults"))
        #expect(!fields.isRepeated("Keywords", under: "TextResults"))
        #expect(fields.isRepeated("CosHeaders", under: "Input"))
        #expect(!fields.isRepeated("CosHeaders", under: "JobsDetail"))
        // Same length and first letter as a rule, and other near misses.
        for name in ["Taskz", "JobsDetails", "JobsDetai", "Code", "", "tasks", "OcrResult", String(repeating: "J", count: 80)] {
            #expect(!fields.isRepeated(name, under: "Response"), "\(name)")
        }
    }

    @Test("A rule of any length and the same first byte as others is found")
    func longAndAlike() {
        let long = String(repeating: "Long", count: 20)
        let fields = RepeatedFields(names: [long, "Ab"], paths: ["P/Ac", "Q/\u{E9}t\u{E9}"])
        #expect(fields.isRepeated(long, under: "x"))
        #expect(!fields.isRepeated(long + "s", under: "x"))
        #expect(fields.isRepeated("Ab", under: "x"))
        #expect(fields.isRepeated("Ac", under: "P"))
        #expect(!fields.isRepeated("Ac", under: "Q"))
        #expect(!fields.isRepeated("Ad", under: "P"))
        #expect(fields.isRepeated("\u{E9}t\u{E9}", under: "Q"))
    }
}
