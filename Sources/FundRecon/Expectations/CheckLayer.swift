/// Where a check's table lives, as reports group checks: a layer of the warehouse, or the schema of
/// a qualified table outside it (`analytics.orders` is in `analytics`). Written as its name.
public enum CheckLayer: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    case layer(Layer)
    case schema(String)

    /// A layer's name is the layer; any other name is a schema.
    public init(name: String) {
        self = Layer(rawValue: name).map(CheckLayer.layer) ?? .schema(name)
    }

    /// `dwd`, or the schema's name.
    public var name: String {
        switch self {
        case .layer(let layer): return layer.rawValue
        case .schema(let schema): return schema
        }
    }

    public var description: String { name }

    public static func < (lhs: CheckLayer, rhs: CheckLayer) -> Bool { lhs.name < rhs.name }

    public init(from decoder: any Decoder) throws {
        self.init(name: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
