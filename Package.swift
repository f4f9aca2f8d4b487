// swift-tools-version:6.0
import PackageDescription

/// Ingest writes every field of every row through class-held buffers (the CSV reader's, COPY's):
/// the runtime exclusivity check on each access cost 15% of `recon load`'s CPU (perf, 1,000,000
/// orders). Release builds leave it to the compiler's static checks; debug builds, and so every
/// test run, keep the runtime check.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "FundRecon",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "recon", targets: ["recon"]),
        .library(name: "FundRecon", targets: ["FundRecon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C libraries, seen through system-library targets (a modulemap and a shim header each).
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(
            name: "CXlsxWriter", pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"])]),

        // Thin Swift wrappers: the only importers of the C modules.
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: hotPath),
        .target(name: "XMLReader", dependencies: ["CLibXML2"]),
        .target(name: "XLSX", dependencies: ["CXlsxWriter"]),

        // The stages, pure Swift over the wrappers.
        .target(
            name: "FundRecon",
            dependencies: [
                "Postgres", "XMLReader", "XLSX",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                // SHA-256 of every file loaded: BoringSSL's assembly (SHA extensions where the CPU has them).
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: hotPath),

        // The command-line tool, thin.
        .executableTarget(
            name: "recon",
            dependencies: [
                "FundRecon", "Postgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "FundRecon"]),
        .testTarget(name: "XMLReaderTests", dependencies: ["XMLReader"], resources: [.copy("Fixtures")]),
        .testTarget(name: "XLSXTests", dependencies: ["XLSX"]),
        .testTarget(name: "FundReconTests", dependencies: ["FundRecon", "Postgres"], exclude: ["Fixtures"]),
        .testTarget(name: "ReconCLITests", dependencies: ["FundRecon", "Postgres", "recon", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
