/// One line of `recon doctor`: what was checked, what was found, and the fix when it failed.
package struct DoctorFinding: Sendable {
    /// True when all is well.
    package var ok: Bool
    /// What was checked.
    package var subject: String
    /// What was found (a version, a path, the error).
    package var detail: String
    /// What to do when it failed.
    package var fix: String?
}
