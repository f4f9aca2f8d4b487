/// Every check type of the expectations language, in the order EXPECTATIONS.md lists them.
enum CheckTypes {
    static let all: [any CheckType.Type] = [
        NotNullCheck.self, UniqueCheck.self, AcceptedValuesCheck.self, RangeCheck.self, ExpressionCheck.self,
        RelationshipsCheck.self, RowCountCheck.self, BalanceCheck.self, ReconcileCheck.self, CrossPeriodCheck.self,
        ContinuityCheck.self, FreshnessCheck.self, SQLCheck.self,
    ]

    /// The type named `name`, if the language has it.
    static func named(_ name: String) -> (any CheckType.Type)? { all.first { $0.name == name } }
}
