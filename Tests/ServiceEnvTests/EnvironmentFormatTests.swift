import Foundation
import ServiceEnv
import Testing

/// Each output format, written so its own reader gets the values back unchanged.
@Suite struct EnvironmentFormatTests {
    let sample = variables(["WEB_SERVICE_HOST": "10.96.0.80", "WEB_PORT": "tcp://[fd00::80]:80"])

    @Test func shellWritesExportLinesWithSingleQuotes() throws {
        #expect(try EnvironmentFormat.shell.render(sample) == """
            export WEB_SERVICE_HOST='10.96.0.80'
            export WEB_PORT='tcp://[fd00::80]:80'

            """)
    }

    @Test(arguments: [
        ("it's", #"'it'\''s'"#),
        ("$HOME `id` \"x\" \\n", #"'$HOME `id` "x" \n'"#),
        ("", "''"),
        ("a\nb", "'a\nb'"),
    ])
    func shellQuotingKeepsEveryCharacterLiteral(value: String, quoted: String) throws {
        #expect(try EnvironmentFormat.shell.render(variables(["X": value])) == "export X=\(quoted)\n")
    }

    @Test(arguments: ["1ABC", "A-B", "A B", "", "É"])
    func shellRejectsNamesAShellCannotAssign(name: String) {
        #expect(throws: ServiceEnvError.self) { try EnvironmentFormat.shell.render([EnvironmentVariable(name: name, value: "v")]) }
    }

    @Test func envFileWritesRawNameEqualsValueLines() throws {
        #expect(try EnvironmentFormat.envFile.render(sample) == """
            WEB_SERVICE_HOST=10.96.0.80
            WEB_PORT=tcp://[fd00::80]:80

            """)
    }

    @Test(arguments: [
        EnvironmentVariable(name: "A B", value: "v"),
        EnvironmentVariable(name: "#A", value: "v"),
        EnvironmentVariable(name: "A=B", value: "v"),
        EnvironmentVariable(name: "", value: "v"),
        EnvironmentVariable(name: "A", value: "line\nbreak"),
        EnvironmentVariable(name: "A", value: "carriage\rreturn"),
    ])
    func envFileRejectsWhatDockersReaderWouldMisread(variable: EnvironmentVariable) {
        #expect(throws: ServiceEnvError.self) { try EnvironmentFormat.envFile.render([variable]) }
    }

    @Test func jsonIsAnArrayOfNameValueObjectsInOrder() throws {
        let text = try EnvironmentFormat.json.render(sample)
        #expect(text.contains(#""value" : "tcp://[fd00::80]:80""#), "slashes are not escaped")
        let decoded = try JSONDecoder().decode([EnvironmentVariable].self, from: Data(text.utf8))
        #expect(decoded == sample)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: String]])
        #expect(objects == [["name": "WEB_SERVICE_HOST", "value": "10.96.0.80"], ["name": "WEB_PORT", "value": "tcp://[fd00::80]:80"]])
    }

    @Test func jsonOfNothingIsAnEmptyArray() throws {
        let text = try EnvironmentFormat.json.render([])
        let decoded = try JSONDecoder().decode([EnvironmentVariable].self, from: Data(text.utf8))
        #expect(decoded.isEmpty)
    }

    @Test(arguments: [EnvironmentFormat.shell, .envFile])
    func lineFormatsOfNothingAreEmpty(format: EnvironmentFormat) throws {
        #expect(try format.render([]) == "")
    }

    @Test func formatsAreNamedAsOnTheCommandLine() {
        #expect(EnvironmentFormat.allCases.map(\.rawValue) == ["shell", "env-file", "json"])
    }
}
