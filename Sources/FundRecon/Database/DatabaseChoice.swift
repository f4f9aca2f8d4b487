import Foundation
import Postgres

/// Which database a command works on, decided from its flags and the environment.
public enum DatabaseChoice: Sendable, Equatable {
    /// A private throwaway cluster started for this process.
    case embedded
    /// An explicit server: `--db` or `RECON_DATABASE_URL`, or the libpq `PG*` environment.
    case server(ConnectionTarget)
    /// A private throwaway Citus cluster: a coordinator and this many workers (`--embedded-citus N`).
    case embeddedCitus(workers: Int)

    /// `--db` first, then `RECON_DATABASE_URL`, then `PGHOST`/`PGDATABASE`; otherwise embedded.
    public static func resolve(
        db: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DatabaseChoice {
        if let db, !db.isEmpty { return .server(.url(db)) }
        if let url = environment["RECON_DATABASE_URL"], !url.isEmpty { return .server(.url(url)) }
        if environment["PGHOST"] != nil || environment["PGDATABASE"] != nil { return .server(.environment) }
        return .embedded
    }
}
