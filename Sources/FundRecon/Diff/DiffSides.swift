import Foundation

/// Where one side of a diff finds its pipeline folder and expectations file.
public struct DiffSide: Sendable {
    public var pipeline: String
    public var expectations: String
    /// How reports name the side (`working tree`, `main (1a2b3c4)`, a folder).
    public var label: String

    public init(pipeline: String, expectations: String, label: String) {
        self.pipeline = pipeline
        self.expectations = expectations
        self.label = label
    }
}

/// The sides of a diff from the command line: a git revision of the repository the pipeline is
/// in (its `pipeline/` and expectations file at that revision, written to a temporary folder), a
/// second checkout, or the working tree.
public enum DiffSides {
    /// Where a side comes from.
    public enum Origin: Sendable {
        case workingTree
        case revision(String)
        case directory(String)
    }

    /// The side `origin` names, with the working tree's `pipeline` and `expectations` paths
    /// taken at the same place relative to the repository (or, outside one, the current folder).
    /// Revisions are extracted under `scratch`.
    public static func resolve(_ origin: Origin, pipeline: String, expectations: String, scratch: String) throws -> DiffSide {
        switch origin {
        case .workingTree:
            return DiffSide(pipeline: pipeline, expectations: expectations, label: "working tree")
        case .directory(let directory):
            guard FileManager.default.fileExists(atPath: directory) else {
                throw BadValue("--base-dir \(directory): no such folder")
            }
            let root = try repositoryRoot(of: pipeline) ?? FileManager.default.currentDirectoryPath
            return DiffSide(pipeline: directory + "/" + (try relative(pipeline, to: root)),
                            expectations: directory + "/" + (try relative(expectations, to: root)), label: directory)
        case .revision(let revision):
            guard let root = try repositoryRoot(of: pipeline) else {
                throw BadValue("the pipeline folder \(pipeline) is not in a git repository: give --base-dir DIR instead of a revision")
            }
            let commit = try git(["-C", root, "rev-parse", "--verify", "--quiet", revision + "^{commit}"])
            guard commit.status == 0 else { throw BadValue("no revision '\(revision)' in the repository \(root)") }
            let paths = [try relative(pipeline, to: root), try relative(expectations, to: root)]
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let archive = scratch + "/tree.tar"
            for path in paths {
                let present = try git(["-C", root, "cat-file", "-e", "\(revision):\(path)"])
                guard present.status == 0 else { throw BadValue("revision '\(revision)' has no \(path)") }
            }
            let written = try git(["-C", root, "archive", "--format=tar", "-o", archive, revision, "--"] + paths)
            guard written.status == 0 else { throw RuntimeFailure(cause: "git archive failed: \(written.output)", fix: "check the repository") }
            let unpacked = try ProcessRunner.run("/bin/tar", ["-x", "-f", archive, "-C", scratch])
            guard unpacked.status == 0 else { throw RuntimeFailure(cause: "tar failed: \(unpacked.output)", fix: "install tar") }
            try? FileManager.default.removeItem(atPath: archive)
            let short = try git(["-C", root, "rev-parse", "--short", revision]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            return DiffSide(pipeline: scratch + "/" + paths[0], expectations: scratch + "/" + paths[1], label: "\(revision) (\(short))")
        }
    }

    /// The top folder of the git repository holding `path`, or nil outside one.
    static func repositoryRoot(of path: String) throws -> String? {
        let directory = URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: directory) else { throw BadValue("--pipeline \(path): no such folder") }
        let outcome = try git(["-C", directory, "rev-parse", "--show-toplevel"])
        return outcome.status == 0 ? outcome.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// `path` relative to `root` (both resolved through symbolic links).
    static func relative(_ path: String, to root: String) throws -> String {
        let full = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let base = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        guard full == base || full.hasPrefix(base + "/") else { throw BadValue("\(path) is outside \(root)") }
        return full == base ? "." : String(full.dropFirst(base.count + 1))
    }

    private static func git(_ arguments: [String]) throws -> ProcessRunner.Outcome {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else {
            throw RuntimeFailure(cause: "git is not installed", fix: "apt-get install git, or give --base-dir DIR")
        }
        return try ProcessRunner.run("/usr/bin/git", arguments)
    }
}
