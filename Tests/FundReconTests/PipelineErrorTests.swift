import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A throwaway pipeline folder with the given model files.
struct FixturePipeline {
    let directory = NSTemporaryDirectory() + "recon-pipeline-\(UUID().uuidString)"

    init(vars: String = "  business_timezone: UTC\n", models: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: directory + "/seeds", withIntermediateDirectories: true)
        try Data("name: test\nvars:\n\(vars)".utf8).write(to: URL(fileURLWithPath: directory + "/project.yml"))
        for (path, text) in models {
            let full = directory + "/models/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("The model runner: dbt syntax, DAG order and clear errors")
struct PipelineErrorTests {
    func error(_ models: [String: String]) throws -> PipelineError {
        let pipeline = try FixturePipeline(models: models)
        defer { pipeline.remove() }
        return try #require(throws: PipelineError.self) {
            let project = try PipelineProject.load(directory: pipeline.directory)
            let runner = try PipelineRunner(project: project, schemas: RunSchemas(runID: .generate()))
            for model in try project.orderedModels() { _ = try runner.compile(model) }
        }
    }

    @Test func compilesRefSourceVarAndConfigLikeDbt() throws {
        let pipeline = try FixturePipeline(models: [
            "dwd/dwd_a.sql": "{{ config(materialized='view', indexes=[{'columns': ['id'], 'unique': True}]) }}\n"
                + "{# a comment #}\nselect id from {{ source('ods', 'ods_x') }} where tz = '{{ var(\"business_timezone\") }}'",
            "dws/dws_b.sql": "select * from {{ ref('dwd_a') }} -- {not a template}",
        ])
        defer { pipeline.remove() }
        let project = try PipelineProject.load(directory: pipeline.directory)
        let runID = RunID.generate()
        let runner = try PipelineRunner(project: project, schemas: RunSchemas(runID: runID), overrides: ["business_timezone": "Asia/Tokyo"])
        let ordered = try project.orderedModels()
        #expect(ordered.map(\.name) == ["dwd_a", "dws_b"])
        #expect(ordered[0].config == ModelConfig(materialized: "view", indexes: [.init(columns: ["id"], unique: true)]))
        #expect(try runner.compile(ordered[0]) == "\n\nselect id from \"rc_\(runID)_ods\".\"ods_x\" where tz = 'Asia/Tokyo'")
        #expect(try runner.compile(ordered[1]) == "select * from \"rc_\(runID)_dwd\".\"dwd_a\" -- {not a template}")
    }

    @Test func unknownRefNamesTheModel() throws {
        let found = try error(["dwd/dwd_a.sql": "select 1 from {{ ref('dwd_nope') }}"])
        #expect(found.file == "models/dwd/dwd_a.sql")
        #expect(found.message == "ref('dwd_nope') names no model or seed")
    }

    @Test func cycleIsRefusedAndNamed() throws {
        let found = try error([
            "dwd/dwd_a.sql": "select * from {{ ref('dws_b') }}",
            "dws/dws_b.sql": "select * from {{ ref('dwd_a') }}",
        ])
        #expect(found.message == "models form a cycle: dwd_a -> dws_b -> dwd_a")
    }

    @Test func unknownVarAndJinjaStatementsNameFileAndLine() throws {
        let unknown = try error(["dwd/dwd_a.sql": "select\n'{{ var('no_such_var') }}'"])
        #expect(unknown.message == "var('no_such_var') is not defined in project.yml and has no default")
        let statement = try error(["dwd/dwd_a.sql": "select 1\n\n{% if true %} x {% endif %}"])
        #expect(statement.line == 3)
        #expect(statement.message.contains("the only statement a model or macro may use"))
        let function = try error(["dwd/dwd_a.sql": "select\n  {{ run_query('drop table x') }}"])
        #expect(function.line == 2)
        #expect(function.message.contains("unknown function run_query()"))
        let late = try error(["dwd/dwd_a.sql": "select 1 {{ config(materialized='table') }}"])
        #expect(late.message == "config() must come before the model's SQL")
        let badName = try error(["dws/orders.sql": "select 1"])
        #expect(badName.message == "a model in models/dws must be named dws_*")
    }

    @Test func sqlErrorPointsAtTheModelLine() throws {
        let pipeline = try FixturePipeline(models: [
            "dwd/dwd_a.sql": "{{ config(materialized='table') }}\nselect 1 as a,\n       2 as b\nfrom nowhere_at_all",
        ])
        defer { pipeline.remove() }
        let project = try PipelineProject.load(directory: pipeline.directory)
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? run.close() }
        let failure = try #require(throws: ModelFailure.self) {
            _ = try PipelineRunner(project: project, schemas: run.schemas).build(on: run.connection, logger: quietLogger)
        }
        #expect(failure.model == "dwd_a")
        #expect(failure.file == "models/dwd/dwd_a.sql")
        #expect(failure.line == 4)
        #expect(failure.sqlState == "42P01")
        #expect(failure.message.contains("nowhere_at_all"))
    }

    @Test func unknownVarOverrideIsRefused() throws {
        let pipeline = try FixturePipeline(models: ["dwd/dwd_a.sql": "select 1"])
        defer { pipeline.remove() }
        let project = try PipelineProject.load(directory: pipeline.directory)
        #expect(throws: PipelineError.self) {
            _ = try PipelineRunner(project: project, schemas: RunSchemas(runID: .generate()), overrides: ["typo": "x"])
        }
    }
}

@Suite("Errors carry their class: bad input exits 2, a runtime failure 3")
struct FailureClassTests {
    @Test func everyErrorTypeSaysWhetherTheInputOrTheRunIsAtFault() throws {
        let badInput: [any ReconError] = [
            ExpectationsError(file: "e.yml", line: 3, checkID: "c", message: "m"), PipelineError(file: "models/x.sql", message: "m"),
            InputError(file: "oltp/orders.csv", line: 2, message: "m"), BadValue("m"), GeneratorError(field: .days, message: "m"),
            AnomalySpecError(message: "m"),
        ]
        let runtime: [any ReconError] = [
            RuntimeFailure(cause: "c", fix: "f"), ModelFailure(model: "m", file: "f", line: nil, sqlState: nil, message: "m"),
            PostgresError(kind: .statement, sqlState: .undefinedTable, message: "m"), TaskGraphError(message: "m"),
        ]
        #expect(badInput.allSatisfy { $0.failureClass == .badInput && $0.failureClass.exitCode == 2 })
        #expect(runtime.allSatisfy { $0.failureClass == .runtime && $0.failureClass.exitCode == 3 })
        // Library errors never name a command-line flag: the tool adds it.
        #expect(GeneratorError(field: .ordersPerDay, message: "must be between 1 and 5000000").description
            == "orders_per_day must be between 1 and 5000000")
        let period = try #require(throws: BadValue.self) { try Period(parsing: "2026-13", grain: .month) }
        #expect(period.description == "'2026-13' is not a month period (YYYY-MM)")
        #expect(PipelineError(file: "models/a.sql", line: 2, message: "m", directory: "/p").description == "/p/models/a.sql:2: m")
    }
}
