import Foundation
import Postgres

/// What decides, per persistent warehouse, whether an incremental model may merge a batch into
/// its table or must be built whole: the identity it was last built with (its SQL, the vars it
/// reads, its upstream models' identities: `PipelineRunner.identities()`) and the sources' epoch,
/// which moves whenever rows leave the warehouse's sources (a changed file's rows replaced, a
/// reference extract's new version). A batch can add and replace rows, never remove them: after
/// rows left, every incremental model is built whole once.
struct IncrementalState: Sendable {
    let prefix: String

    /// The sources' epoch: 0 until rows first left them.
    func epoch(on connection: Connection) throws -> Int {
        try connection.query("SELECT epoch FROM recon_meta.source_epochs WHERE schema_prefix = \(prefix)").first?.decode(at: 0) ?? 0
    }

    /// Moves the epoch on: what incremental models hold may rest on rows that are gone.
    func advanceEpoch(runID: String, on connection: Connection) throws {
        try connection.execute("""
            INSERT INTO recon_meta.source_epochs (schema_prefix, epoch, run_id) VALUES (\(prefix), 1, \(runID))
            ON CONFLICT (schema_prefix) DO UPDATE
              SET epoch = recon_meta.source_epochs.epoch + 1, run_id = excluded.run_id, changed_at = now()
            """)
    }

    /// The incremental models among `models` that may merge: last built with this identity at this
    /// epoch, and their table in the warehouse still there.
    func mergeable(_ models: [Model], identities: [String: String], epoch: Int, warehouse: RunSchemas,
                   on connection: Connection) throws -> Set<String> {
        var stored: [String: String] = [:]
        for row in try connection.query("SELECT model, identity FROM recon_meta.model_builds WHERE schema_prefix = \(prefix)").rows {
            stored[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        var result: Set<String> = []
        for model in models where model.config.isIncremental {
            guard let identity = identities[model.name], stored[model.name] == "\(identity)@\(epoch)" else { continue }
            let relation = quoteIdentifier(warehouse.name(model.layer)) + "." + quoteIdentifier(model.name)
            if try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar(Bool.self) { result.insert(model.name) }
        }
        return result
    }

    /// Records the identity every incremental model of the build was built or merged with.
    func record(_ models: [Model], identities: [String: String], epoch: Int, runID: String, on connection: Connection) throws {
        for model in models where model.config.isIncremental {
            guard let identity = identities[model.name] else { continue }
            try connection.execute("""
                INSERT INTO recon_meta.model_builds (schema_prefix, model, identity, run_id) VALUES (\(prefix), \(model.name), \("\(identity)@\(epoch)"), \(runID))
                ON CONFLICT (schema_prefix, model) DO UPDATE SET identity = excluded.identity, run_id = excluded.run_id, built_at = now()
                """)
        }
    }
}
