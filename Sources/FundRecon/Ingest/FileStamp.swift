import Foundation

/// What the file system says about a file's identity and last change: its size, device, inode,
/// change time and modification time (nanoseconds). A persistent warehouse keeps it beside the
/// SHA-256 it took of the file; a later import finding the same stamp knows the content is the one
/// it hashed and does not read the file again (git's and rsync's rule). The change time is set by
/// the kernel on every write and cannot be set back by a user, so a file rewritten in place, even
/// with the same size and its modification time restored, gets a new stamp and is hashed again;
/// a landing folder copied or restored elsewhere is hashed again too (new inodes and times).
public struct FileStamp: Sendable, Hashable {
    var size: Int64
    var device: UInt64
    var inode: UInt64
    var changed: Int64
    var modified: Int64

    /// The stamp of the file at `path` now; nil when it cannot be read (then nothing is trusted).
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }

    /// The stored form: `size device inode changed modified`.
    var text: String { "\(size) \(device) \(inode) \(changed) \(modified)" }

    /// Reads the stored form; nil when it does not read (the file is then hashed).
    init?(text: String) {
        let parts = text.split(separator: " ")
        guard parts.count == 5, let size = Int64(parts[0]), let device = UInt64(parts[1]), let inode = UInt64(parts[2]),
              let changed = Int64(parts[3]), let modified = Int64(parts[4]) else { return nil }
        (self.size, self.device, self.inode, self.changed, self.modified) = (size, device, inode, changed, modified)
    }
}
