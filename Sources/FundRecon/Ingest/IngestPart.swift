/// Which sources a load takes: the OLTP extracts, or the flat files (reseller and gateway). The
/// two run side by side on their own connections in a run's DAG.
public enum IngestPart: String, Sendable {
    case extracts, files
}
