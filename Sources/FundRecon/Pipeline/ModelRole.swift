/// What FundRecon itself reads a model as. The reports, the checks' default as-of and the golden
/// snapshots find the tables they read by these roles, declared in the models' `config(role=...)`,
/// not by names written into the tool: a renamed model keeps its role, and a pipeline without one
/// the reports need gets an error naming the role and the model that usually plays it.
public enum ModelRole: String, Sendable, CaseIterable, Codable {
    /// Orders, one row each, with `created_at` (the data's latest activity).
    case orders
    /// Merchants, one row each, with `merchant_name`.
    case merchants
    /// Every break of every kind (`ads_recon_breaks` of DATA_CONTRACT.md).
    case breaks
    /// Gateway alignment per gateway, currency and day.
    case gatewayDaily = "gateway_daily"
    /// Merchant measures per hour.
    case merchantHourly = "merchant_hourly"
    /// Merchant measures per day.
    case merchantDaily = "merchant_daily"
    /// Merchant balances per day (opening, closing).
    case merchantBalance = "merchant_balance"
    /// Merchant statements per month.
    case monthlyStatement = "monthly_statement"
    /// Per gateway, currency and month: captured to paid out, with its timing items (optional:
    /// the monthly pack shows it when the pipeline has it).
    case gatewayBridge = "gateway_bridge"

    /// The model of DATA_CONTRACT.md section 2 that plays the role in the shipped pipeline.
    public var contractModel: String {
        switch self {
        case .orders: return "dwd_orders"
        case .merchants: return "dwd_merchants"
        case .breaks: return "ads_recon_breaks"
        case .gatewayDaily: return "dws_gateway_daily"
        case .merchantHourly: return "dws_merchant_hourly"
        case .merchantDaily: return "dws_merchant_daily"
        case .merchantBalance: return "ads_merchant_balance_daily"
        case .monthlyStatement: return "ads_monthly_statement"
        case .gatewayBridge: return "ads_gateway_bridge"
        }
    }
}
